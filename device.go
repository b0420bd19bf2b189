package latchkey

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// DeviceEvent is an event a driver reports for a connected lock, normalised whatever
// the radio (SPEC §4.6).
type DeviceEvent struct {
	Driver    Driver      `json:"driver"`
	Address   string      `json:"address"`
	Kind      EventKind   `json:"kind"`
	Source    EventSource `json:"source,omitempty"`
	Slot      int         `json:"slot,omitempty"`
	Bolt      string      `json:"bolt,omitempty"`       // locked, unlocked, jammed, when known
	BatteryMV int         `json:"battery_mv,omitempty"` // when reported
	Detail    string      `json:"detail,omitempty"`
}

// maxBatteryMV is more than any battery pack a lock takes (4×AA fresh is about 6.4 V);
// a report above it is a driver's mistake, not a reading.
const maxBatteryMV = 12000

// sanitize makes a driver's report fit the records: a battery reading outside what a lock
// can hold is dropped, and the free-text detail is cut to size and stripped of characters
// that could disguise it. A driver relays what a device sent; the device is outside input.
func (ev *DeviceEvent) sanitize() {
	if ev.BatteryMV < 0 || ev.BatteryMV > maxBatteryMV {
		ev.BatteryMV = 0
	}
	if ev.Slot < 0 || ev.Slot > 0xffff {
		ev.Slot = 0
	}
	ev.Detail = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, strings.ToValidUTF8(ev.Detail, ""))
	if utf8.RuneCountInString(ev.Detail) > maxDetailLen {
		ev.Detail = string([]rune(ev.Detail)[:maxDetailLen])
	}
}

// DeviceDriver reaches connected locks: a driver per technology (the twins, Z-Wave JS,
// Zigbee2MQTT). Commands block until the lock answers or ctx ends; events arrive through
// the function given to Subscribe.
type DeviceDriver interface {
	// Name is the driver's name in a lock's Connection.
	Name() Driver
	// SetCode puts a PIN in a slot; ClearCode empties one.
	SetCode(ctx context.Context, address string, slot int, pin string) error
	ClearCode(ctx context.Context, address string, slot int) error
	// Lock and Unlock throw and retract the bolt.
	Lock(ctx context.Context, address string) error
	Unlock(ctx context.Context, address string) error
	// Subscribe delivers every event of every lock the driver reaches.
	Subscribe(func(DeviceEvent))
}

// LockState is what a lock's devices last reported.
type LockState struct {
	Bolt      string     `json:"bolt,omitempty"`
	BatteryMV int        `json:"battery_mv,omitempty"`
	LastSeen  *time.Time `json:"last_seen,omitempty"`
}

// LowBatteryMV is where a 4×AA pack is low: Kwikset locks warn at 4.8 V (facts §3.9),
// and Latchkey programs nothing below it.
const LowBatteryMV = 4800

// LowBattery reports whether the lock last reported a low battery.
func (s LockState) LowBattery() bool { return s.BatteryMV > 0 && s.BatteryMV <= LowBatteryMV }

// BatteryPercent turns a 4×AA pack's voltage into a rough percentage for people
// (6.2 V fresh, 4.2 V too low to operate; facts §3.9). 0 means unknown.
func (s LockState) BatteryPercent() int {
	if s.BatteryMV == 0 {
		return 0
	}
	return min(100, max(1, (s.BatteryMV-4200)*100/2000))
}

// RecordDeviceEvent stores an event a driver reported: it finds the lock by its
// connection, names the person whose code sits in the reported slot, updates the lock's
// state, quarantines a lock that was reset or lost every code behind Latchkey's back
// (invariant 6), and tells live subscribers. Events of unknown locks are dropped.
func (s *Service) RecordDeviceEvent(ctx context.Context, ev DeviceEvent) (*Event, error) {
	ev.sanitize()
	ctx = NewContextWithPrincipal(ctx, Principal{Name: "device:" + string(ev.Driver), Role: UserOwner})
	var out, outAlert *Event
	var usedUp bool
	var touched *Grant // the code whose standing the report changed
	err := s.Store.Update(ctx, func(tx Tx) error {
		usedUp, touched = false, nil // the store may run this more than once
		locks, _, err := tx.FindLocks(ctx, LockFilter{Driver: &ev.Driver, Address: &ev.Address}, Page{Limit: 1})
		if err != nil || len(locks) == 0 {
			return err
		}
		l := locks[0]
		e := &Event{LockID: l.ID, Kind: ev.Kind, Source: ev.Source, Slot: ev.Slot, Detail: ev.Detail, At: s.now(), Actor: "device:" + string(ev.Driver)}
		var alert *Event
		var code *Code // whose slot the event names, for webhooks
		if ev.Slot > 0 {
			grants, err := tx.FindGrants(ctx, GrantFilter{LockID: &l.ID})
			if err != nil {
				return err
			}
			// The code in the slot now, or else the last one that was there.
			var in *Grant
			for _, g := range grants {
				if g.Slot == ev.Slot && (in == nil || in.Status == GrantRemoved) {
					in = g
				}
			}
			programmed := (ev.Kind == EventCodeAdded || ev.Kind == EventCodeChanged) && ev.Source == SourceKeypad
			switch {
			case programmed && (in == nil || in.Status == GrantRemoved):
				// A code set at the keypad in a slot Latchkey does not own: listed for adoption.
				if err := noteForeign(ctx, tx, l.ID, ev.Slot, SourceKeypad, e.At); err != nil {
					return err
				}
			case ev.Kind == EventCodeDeleted && (in == nil || in.Status == GrantRemoved):
				// Deleted at the keypad: nothing left there to adopt or clear.
				if f, err := foreignAt(ctx, tx, l.ID, ev.Slot); err != nil {
					return err
				} else if f != nil {
					if err := tx.DeleteForeignCode(ctx, f.ID); err != nil {
						return err
					}
				}
			case in != nil:
				c, err := tx.FindCodeByID(ctx, in.CodeID)
				if err != nil {
					return err
				}
				e.PersonID, code = c.PersonID, c
				switch ev.Kind {
				case EventCodeDeleted:
					err = s.deletedAtLock(ctx, tx, l, in, c, e)
				case EventCodeAdded, EventCodeChanged:
					if programmed {
						e.PersonID = 0 // whoever set it, it is no longer that person's code
						err = s.changedAtLock(ctx, tx, l, in, c, e)
					}
				case EventUnlocked:
					if alert, err = s.usedOutOfBounds(ctx, tx, l, in, c, e); err == nil && alert == nil && ev.Source == SourceKeypad {
						usedUp, err = s.countUse(ctx, tx, c, in, e)
					}
				}
				if err != nil {
					return err
				}
				if ev.Kind != EventUnlocked || alert != nil || usedUp {
					touched = in
				}
			}
		}
		now := e.At
		if ev.Kind != EventOffline {
			// An offline report is the hub's word that the lock was not heard: not a sighting.
			l.State.LastSeen = &now
		}
		if ev.Bolt != "" {
			l.State.Bolt = ev.Bolt
		}
		switch ev.Kind {
		case EventLocked:
			l.State.Bolt = "locked"
		case EventUnlocked:
			l.State.Bolt = "unlocked"
		case EventJammed:
			l.State.Bolt = "jammed"
		case EventResetLocally, EventAllCodesDeleted:
			// Invariant 6: never left silently without its codes.
			l.Status = LockQuarantined
			why := fmt.Sprintf("%s was reset or lost its codes behind Latchkey's back; re-provision it once it is paired again.", l.Name)
			if err := quarantineGrants(ctx, tx, l, e.At, why); err != nil {
				return err
			}
		}
		if ev.BatteryMV > 0 {
			l.State.BatteryMV = ev.BatteryMV
		}
		if err := tx.UpdateLock(ctx, l); err != nil {
			return err
		}
		if err := tx.CreateEvent(ctx, e); err != nil {
			return err
		}
		if err := s.notifyEvent(ctx, tx, l, e, code); err != nil {
			return err
		}
		if alert != nil {
			if err := tx.CreateEvent(ctx, alert); err != nil {
				return err
			}
			if err := s.notifyEvent(ctx, tx, l, alert, code); err != nil {
				return err
			}
		}
		out, outAlert = e, alert
		return nil
	})
	if err == nil && usedUp {
		s.kickSync() // its removal is due now
	}
	if err == nil && out != nil {
		s.kickWebhooks()
		s.live.publish(*out)
		if outAlert != nil {
			s.live.publish(*outAlert)
		}
		if touched != nil {
			s.publishStatus(touched)
		}
	}
	return out, err
}

// quarantineGrants marks every code on a quarantined lock with the problem, until the
// lock is re-provisioned: the lock no longer holds what the records say.
func quarantineGrants(ctx context.Context, tx Tx, l *Lock, at time.Time, why string) error {
	grants, err := tx.FindGrants(ctx, GrantFilter{LockID: &l.ID})
	if err != nil {
		return err
	}
	for _, g := range grants {
		if g.Status == GrantRemoved || g.Problem == ProblemLockQuarantined {
			continue
		}
		g.Problem, g.Reason, g.NextAttempt, g.UpdatedAt = ProblemLockQuarantined, why, nil, at
		if err := tx.UpdateGrant(ctx, g); err != nil {
			return err
		}
	}
	return nil
}

// usedOutOfBounds checks an unlock by a code against the records: a code revoked, or
// outside its time, that opened the door is an alert, at once; a revoked one goes back
// to being removed (even if it was recorded gone: the lock says otherwise), and the
// lock needs attention until it is seen gone.
func (s *Service) usedOutOfBounds(ctx context.Context, tx Tx, l *Lock, g *Grant, c *Code, unlock *Event) (*Event, error) {
	loc, err := lockZone(ctx, tx, l)
	if err != nil {
		return nil, err
	}
	at := unlock.At.In(loc).Format("2006-01-02 15:04")
	var why string
	switch {
	case c.Revoked:
		why = fmt.Sprintf("Used at the door after it was revoked: code %d (%s) opened %s at %s; it is being removed again.", c.ID, c.Label, l.Name, at)
	case !c.Schedule.Active(unlock.At, loc):
		why = fmt.Sprintf("Code %d (%s) opened %s at %s, outside its time (%s).", c.ID, c.Label, l.Name, at, c.Schedule.Describe(loc))
	default:
		return nil, nil
	}
	if g.Status == GrantRemoving || g.Status == GrantRemoved {
		// Being removed, or recorded gone: the lock says otherwise, so it is removed again,
		// at once, and the alert stays on the grant until the lock is seen without it.
		g.Status, g.Alert, g.NextAttempt, g.UpdatedAt = GrantRemoving, truncate(why, 300), nil, unlock.At
		if err := tx.UpdateGrant(ctx, g); err != nil {
			return nil, err
		}
	}
	return &Event{LockID: l.ID, Kind: EventRevokedCodeUsed, Source: unlock.Source, Slot: unlock.Slot, PersonID: c.PersonID,
		Detail: why, At: unlock.At, Actor: unlock.Actor}, nil
}

// FindEvents lists a lock's events (every lock's for 0), newest first.
func (s *Service) FindEvents(ctx context.Context, lockID int64, limit int) (events []*Event, err error) {
	err = s.view(ctx, func(tx Tx) error {
		events, err = tx.FindEvents(ctx, lockID, limit)
		return err
	})
	return events, err
}

// SubscribeEvents delivers every event recorded from now on, until cancel is called. A
// subscriber too slow to keep up loses events rather than holding up the others.
func (s *Service) SubscribeEvents() (<-chan Event, func()) {
	return s.live.subscribe()
}

// broker fans events out to live subscribers (the SSE stream, the dashboard). Its zero
// value is ready to use.
type broker struct {
	mu   sync.Mutex
	subs map[chan Event]struct{}
}

func (b *broker) subscribe() (<-chan Event, func()) {
	ch := make(chan Event, 64)
	b.mu.Lock()
	if b.subs == nil {
		b.subs = map[chan Event]struct{}{}
	}
	b.subs[ch] = struct{}{}
	b.mu.Unlock()
	return ch, func() {
		b.mu.Lock()
		if _, ok := b.subs[ch]; ok {
			delete(b.subs, ch)
			close(ch)
		}
		b.mu.Unlock()
	}
}

func (b *broker) publish(e Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		select {
		case ch <- e:
		default:
		}
	}
}

// countUse counts an unlock by a code with a use limit (or a one-time code) against it:
// each grant counts its slot's keypad unlocks (Uses), and the code's uses are their sum,
// this one included. Used up, the code is revoked at once (recorded as code.used_up) and
// its grants are to be removed, so that the sync engine takes it off its locks; it
// reports whether it was.
func (s *Service) countUse(ctx context.Context, tx Tx, c *Code, in *Grant, unlock *Event) (bool, error) {
	limit := c.UseLimit
	if c.OneTime {
		limit = 1
	}
	if limit == 0 || c.Revoked {
		return false, nil
	}
	in.Uses++
	if err := tx.UpdateGrant(ctx, in); err != nil {
		return false, err
	}
	grants, err := tx.FindGrants(ctx, GrantFilter{CodeID: &c.ID})
	if err != nil {
		return false, err
	}
	uses := 0
	for _, g := range grants {
		uses += g.Uses
	}
	if uses < limit {
		return false, nil
	}
	c.Revoked = true
	if err := tx.UpdateCode(ctx, c); err != nil {
		return false, err
	}
	for _, g := range grants {
		if g.Status == GrantRemoved {
			continue
		}
		g.Status, g.Problem, g.Reason, g.NextAttempt, g.UpdatedAt = GrantRemoving, "", fmt.Sprintf("used up (%d of %d uses)", uses, limit), nil, unlock.At
		if err := tx.UpdateGrant(ctx, g); err != nil {
			return false, err
		}
	}
	return true, s.audit(ctx, tx, "code.used_up", "code", c.ID, map[string]any{"label": c.Label, "uses": uses, "limit": limit})
}

// deletedAtLock records a code deleted at the lock's keypad: a code being removed is now
// seen gone; a code that should be there is a conflicting change, failed with what
// happened, for a person to put back or revoke (the engine does not overwrite it).
func (s *Service) deletedAtLock(ctx context.Context, tx Tx, l *Lock, g *Grant, c *Code, ev *Event) error {
	from := g.Status
	switch g.Status {
	case GrantRemoving:
		g.Status, g.Problem, g.Reason, g.Alert = GrantRemoved, "", "deleted at the keypad", ""
	case GrantSet, GrantUnconfirmed, GrantSetting, GrantPending:
		return s.conflictAtLock(ctx, tx, l, g, c, ev, ProblemRemovedAtLock, "deleted")
	default:
		return nil
	}
	g.NextAttempt, g.UpdatedAt = nil, ev.At
	if err := tx.UpdateGrant(ctx, g); err != nil {
		return err
	}
	return s.notifyGrant(ctx, tx, g, from)
}

// changedAtLock records a code set at the lock's keypad in a slot Latchkey owns. Over a
// code that is on the lock (or was deleted there), it is a conflicting change: failed,
// modified at the lock, for a person to put Latchkey's code back or revoke it. Over a
// code being removed, that code is gone and the new one is listed for adoption. In the
// slot of a code not yet written, the new one is listed for adoption and Latchkey's
// code moves to a free slot (or fails for want of one).
func (s *Service) changedAtLock(ctx context.Context, tx Tx, l *Lock, g *Grant, c *Code, ev *Event) error {
	switch {
	case g.Status == GrantSet || g.Status == GrantUnconfirmed || g.Status == GrantSetting,
		g.Status == GrantFailed && g.Problem.Conflict():
		return s.conflictAtLock(ctx, tx, l, g, c, ev, ProblemModifiedAtLock, "changed")
	case g.Status == GrantRemoving:
		g.Status, g.Problem, g.Reason, g.Alert = GrantRemoved, "", "replaced at the keypad by a code Latchkey does not own", ""
	case g.Status == GrantPending || g.Status == GrantFailed:
		slot, err := s.freeSlotOf(ctx, tx, l, ev.Slot)
		if err != nil {
			return err
		}
		if slot == 0 {
			g.Status, g.Problem, g.Reason = GrantFailed, ProblemNoSpace,
				fmt.Sprintf("Slot %d was taken at the keypad and %s has no other free slot: clear a slot, then try again.", ev.Slot, l.Name)
		} else {
			g.Slot = slot
		}
	default:
		return nil
	}
	from := g.Status
	g.NextAttempt, g.UpdatedAt = nil, ev.At
	if err := tx.UpdateGrant(ctx, g); err != nil {
		return err
	}
	if err := s.notifyGrant(ctx, tx, g, from); err != nil {
		return err
	}
	return noteForeign(ctx, tx, l.ID, ev.Slot, SourceKeypad, ev.At)
}

// conflictAtLock fails a code changed or deleted at the lock's keypad, saying what
// happened and what to do; the digits set there are never known or shown.
func (s *Service) conflictAtLock(ctx context.Context, tx Tx, l *Lock, g *Grant, c *Code, ev *Event, p Problem, what string) error {
	loc, err := lockZone(ctx, tx, l)
	if err != nil {
		return err
	}
	from := g.Status
	if g.Status == GrantFailed && !g.Problem.Conflict() {
		from = "" // failed before for another reason: the conflict is news
	}
	g.Status, g.Problem, g.ProblemSlot, g.NextAttempt, g.UpdatedAt = GrantFailed, p, 0, nil, ev.At
	g.Reason = truncate(fmt.Sprintf("Code %d (%s) was %s at the keypad of %s at %s. Put it back (Try again, or latchkey code retry %d --lock %d) or revoke it.",
		c.ID, c.Label, what, l.Name, ev.At.In(loc).Format("2006-01-02 15:04"), c.ID, l.ID), 300)
	if err := tx.UpdateGrant(ctx, g); err != nil {
		return err
	}
	return s.notifyGrant(ctx, tx, g, from)
}
