package latchkey

import (
	"context"
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
	var out *Event
	err := s.Store.Update(ctx, func(tx Tx) error {
		locks, _, err := tx.FindLocks(ctx, LockFilter{Driver: &ev.Driver, Address: &ev.Address}, Page{Limit: 1})
		if err != nil || len(locks) == 0 {
			return err
		}
		l := locks[0]
		e := &Event{LockID: l.ID, Kind: ev.Kind, Source: ev.Source, Slot: ev.Slot, Detail: ev.Detail, At: s.now(), Actor: "device:" + string(ev.Driver)}
		if ev.Slot > 0 {
			grants, err := tx.FindGrants(ctx, GrantFilter{LockID: &l.ID})
			if err != nil {
				return err
			}
			for _, g := range grants {
				if g.Slot == ev.Slot && g.Status != GrantRemoved {
					c, err := tx.FindCodeByID(ctx, g.CodeID)
					if err != nil {
						return err
					}
					e.PersonID = c.PersonID
				}
			}
		}
		now := e.At
		l.State.LastSeen = &now
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
		out = e
		return nil
	})
	if err == nil && out != nil {
		s.live.publish(*out)
	}
	return out, err
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
