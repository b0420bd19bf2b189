package latchkey

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"
)

// SyncLead is how long before a code's time starts it is put on its locks, so that it
// works when the guest arrives even if a lock is slow to answer (the best peer's
// default; protocols.md §5).
const SyncLead = time.Hour

// SyncAction is what the sync engine does to one slot of one lock.
type SyncAction string

// Sync actions.
const (
	SyncPut   SyncAction = "put"   // write the code's PIN into its slot
	SyncClear SyncAction = "clear" // empty the slot
)

// SyncTask is one change the records want made at a connected lock: a code to put in its
// slot, or a slot to empty. It holds no PIN: the engine asks for it (PINForSync) only
// when it writes.
type SyncTask struct {
	LockID     int64      `json:"lock_id"`
	CodeID     int64      `json:"code_id"`
	Slot       int        `json:"slot"`
	Connection Connection `json:"connection"`
	Action     SyncAction `json:"action"`
	// Status and Reason are where the code stands on the lock now, and why.
	Status GrantStatus `json:"status"`
	Reason string      `json:"reason,omitempty"`
}

// CodeReader is a driver that can read a slot back, so that a change is confirmed by
// what the lock holds rather than by its acknowledgment. present says the slot holds a
// code; pin is empty where the lock does not tell it (Matter).
type CodeReader interface {
	ReadCode(ctx context.Context, address string, slot int) (pin string, present bool, err error)
}

// wantedOn reports whether a code should be on its locks at now: not revoked, and within
// its schedule now or within SyncLead of it.
func wantedOn(c *Code, now time.Time, loc *time.Location) bool {
	return !c.Revoked && (c.Schedule.Active(now, loc) || c.Schedule.Active(now.Add(SyncLead), loc))
}

// SyncTasks lists what the engine should change now, lock by lock: codes to put on
// connected locks that take codes (pending, or failed before, and within their time),
// codes to take off (revoked, or out of their time). A lock that was reset behind
// Latchkey's back is left alone until it is re-provisioned; a lock with a low battery
// gets no new code (power first) but still has revoked codes taken off.
func (s *Service) SyncTasks(ctx context.Context) ([]SyncTask, error) {
	now := s.now()
	var tasks []SyncTask
	err := s.view(ctx, func(tx Tx) error {
		// A handful of statements whatever the fleet's size: every lock, door, site and
		// grant at once, rather than a look-up per lock (a pass over 10,000 locks must
		// cost the engine milliseconds, not seconds).
		locks, err := all(func(p Page) ([]*Lock, int, error) { return tx.FindLocks(ctx, LockFilter{}, p) })
		if err != nil {
			return err
		}
		doors, err := all(func(p Page) ([]*Door, int, error) { return tx.FindDoors(ctx, DoorFilter{}, p) })
		if err != nil {
			return err
		}
		sites, err := all(func(p Page) ([]*Site, int, error) { return tx.FindSites(ctx, p) })
		if err != nil {
			return err
		}
		grants, err := tx.FindGrants(ctx, GrantFilter{})
		if err != nil {
			return err
		}
		siteOf := make(map[int64]int64, len(doors))
		for _, d := range doors {
			siteOf[d.ID] = d.SiteID
		}
		zones := make(map[int64]*time.Location, len(sites))
		for _, site := range sites {
			loc, err := time.LoadLocation(site.TimeZone)
			if err != nil {
				loc = time.UTC
			}
			zones[site.ID] = loc
		}
		byLock := map[int64][]*Grant{}
		for _, g := range grants {
			if g.Status != GrantRemoved {
				byLock[g.LockID] = append(byLock[g.LockID], g)
			}
		}
		codes := map[int64]*Code{}
		for _, l := range locks {
			if l.Connection.Driver == "" || l.Status == LockQuarantined || s.Models.CodeCapacity(l.ModelID) == 0 || len(byLock[l.ID]) == 0 {
				continue
			}
			loc := zones[siteOf[l.DoorID]]
			if loc == nil {
				loc = time.UTC
			}
			for _, g := range byLock[l.ID] {
				c := codes[g.CodeID]
				if c == nil {
					if c, err = tx.FindCodeByID(ctx, g.CodeID); err != nil {
						return err
					}
					codes[c.ID] = c
				}
				task := SyncTask{LockID: l.ID, CodeID: c.ID, Slot: g.Slot, Connection: l.Connection, Status: g.Status, Reason: g.Reason}
				refused := g.Status == GrantFailed && waitsForAPerson(g.Reason)
				switch want := wantedOn(c, now, loc); {
				case (g.Status == GrantPending || g.Status == GrantFailed) && want && !l.State.LowBattery() && !refused:
					task.Action = SyncPut
				case g.Status == GrantRemoving, g.Status == GrantSet && !want:
					task.Action = SyncClear
				default:
					continue
				}
				tasks = append(tasks, task)
			}
		}
		return nil
	})
	return tasks, err
}

// lockZone is the time zone of the site a lock is on.
func lockZone(ctx context.Context, tx Tx, l *Lock) (*time.Location, error) {
	d, err := tx.FindDoorByID(ctx, l.DoorID)
	if err != nil {
		return nil, err
	}
	site, err := tx.FindSiteByID(ctx, d.SiteID)
	if err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(site.TimeZone)
	if err != nil {
		return time.UTC, nil
	}
	return loc, nil
}

// ReasonRefusedByLock begins the reason of a code the lock refused to take (a duplicate,
// no free slot, a rule of its own): it is not tried again until someone asks
// (RetrySync), since the same write would get the same answer.
const ReasonRefusedByLock = "Refused by the lock: "

// ReasonChangedAtLock begins the reason of a code changed at the lock itself, behind
// Latchkey's back: a conflicting change, shown and left for a person to resolve (put it
// back with RetrySync, or revoke it), never silently overwritten.
const ReasonChangedAtLock = "Changed at the lock: "

// grantOf finds where a code stands on one lock.
func grantOf(ctx context.Context, tx Tx, codeID, lockID int64) (*Grant, error) {
	grants, err := tx.FindGrants(ctx, GrantFilter{CodeID: &codeID, LockID: &lockID})
	if err != nil {
		return nil, err
	}
	if len(grants) == 0 {
		// Say which is missing: the code, the lock, or only the code on that lock.
		if _, err := tx.FindCodeByID(ctx, codeID); err != nil {
			return nil, err
		}
		if _, err := tx.FindLockByID(ctx, lockID); err != nil {
			return nil, err
		}
		return nil, Errorf(ENOTFOUND, "Code %d is not on lock %d; 'latchkey code show %d' lists its locks.", codeID, lockID, codeID)
	}
	return grants[0], nil
}

// waitsForAPerson reports whether a failed code's reason means the engine must not try
// it again by itself.
func waitsForAPerson(reason string) bool {
	return strings.HasPrefix(reason, ReasonRefusedByLock) || strings.HasPrefix(reason, ReasonChangedAtLock)
}

// RetrySync asks the engine to try a code on a lock again: a failed one goes back to
// pending, its reason cleared. Nothing else changes (ECONFLICT).
func (s *Service) RetrySync(ctx context.Context, codeID, lockID int64) (g *Grant, err error) {
	err = s.change(ctx, "code.retry", "code", func(tx Tx) (int64, any, error) {
		if g, err = grantOf(ctx, tx, codeID, lockID); err != nil {
			return 0, nil, err
		}
		if g.Status != GrantFailed {
			return 0, nil, Errorf(ECONFLICT, "Code %d on lock %d is %s, not failed: there is nothing to try again.", codeID, lockID, g.Status)
		}
		g.Status, g.Reason, g.UpdatedAt = GrantPending, "", s.now()
		return codeID, map[string]any{"lock_id": lockID}, tx.UpdateGrant(ctx, g)
	})
	return g, err
}

// PINForSync opens a code's PIN for the engine to write it into a lock: the one way a
// PIN leaves the vault other than a person's reveal. It is given only for a code the
// records want on that lock now, and every time it is recorded (code.push, as the engine
// acting, without the PIN), never as a reveal.
func (s *Service) PINForSync(ctx context.Context, codeID, lockID int64) (string, error) {
	pins, errs := s.PINsForSync(ctx, []SyncTask{{CodeID: codeID, LockID: lockID}})
	return pins[0], errs[0]
}

// PINsForSync is PINForSync for many codes at once: the engine asks for every PIN a pass
// puts on its locks in one call, recorded in one change (each PIN its own audit entry),
// so that every lock's first frame can leave at once. pins[i] and errs[i] answer tasks[i].
func (s *Service) PINsForSync(ctx context.Context, tasks []SyncTask) (pins []string, errs []error) {
	pins, errs = make([]string, len(tasks)), make([]error, len(tasks))
	if err := require(ctx, PermWrite); err != nil {
		for i := range errs {
			errs[i] = err
		}
		return pins, errs
	}
	in := make([][2]int64, len(tasks))
	for i, t := range tasks {
		in[i] = [2]int64{t.CodeID, t.LockID}
	}
	calls := s.syncPINs.doMany(ctx, s, "code.push", in, func() batchStep[[2]int64, string] {
		codes := map[int64]*Code{} // read once a batch: a code goes on many locks at once
		return func(ctx context.Context, tx Tx, in [2]int64) (string, int64, any, error) {
			return s.pinForSync(ctx, tx, in[0], in[1], codes)
		}
	})
	for i, c := range calls {
		pins[i], errs[i] = c.out, c.err
	}
	return pins, errs
}

// pinForSync is PINForSync's work in its batch's transaction.
func (s *Service) pinForSync(ctx context.Context, tx Tx, codeID, lockID int64, codes map[int64]*Code) (pin string, id int64, detail any, err error) {
	c := codes[codeID]
	if c == nil {
		if c, err = tx.FindCodeByID(ctx, codeID); err != nil {
			return "", 0, nil, err
		}
		codes[codeID] = c
	}
	grants, err := tx.FindGrants(ctx, GrantFilter{CodeID: &codeID, LockID: &lockID})
	if err != nil {
		return "", 0, nil, err
	}
	if len(grants) == 0 || (grants[0].Status != GrantPending && grants[0].Status != GrantFailed) || c.Revoked {
		return "", 0, nil, Errorf(ECONFLICT, "Code %d is not waiting to go on lock %d; its PIN is not given out.", codeID, lockID)
	}
	l, err := tx.FindLockByID(ctx, lockID)
	if err != nil {
		return "", 0, nil, err
	}
	if l.Connection.Driver == "" {
		return "", 0, nil, Errorf(ECONFLICT, "Lock %d is not connected; its codes are programmed at its keypad.", lockID)
	}
	if pin, err = s.openPIN(c); err != nil { // opened for each lock: each is its own act
		return "", 0, nil, err
	}
	return pin, codeID, map[string]any{"label": c.Label, "lock_id": lockID, "slot": grants[0].Slot}, nil
}

// SyncOutcome is what became of a SyncTask: Done when the lock was read back holding
// the code (put) or an empty slot (clear); otherwise Reason says why not.
type SyncOutcome struct {
	Task   SyncTask
	Done   bool
	Reason string
}

// RecordSync records what the engine did at a lock. A code read back on the lock is set;
// a slot read back empty makes a revoked code (or one whose window ended) removed, and a
// code out of its weekly hours pending again. A failed put is failed, with its reason; a
// failed clear stays removing, with its reason: nothing is marked gone that was not seen
// gone. Each outcome has its own audit entry, as its caller's act.
//
// Outcomes recorded at the same moment (the engine records thousands of locks' at once)
// share one change: one transaction and one audit head for all, rather than a change
// each. One outcome that cannot be recorded takes nothing else with it.
func (s *Service) RecordSync(ctx context.Context, o SyncOutcome) (*Grant, error) {
	if err := require(ctx, PermWrite); err != nil {
		return nil, err
	}
	o.Reason = truncate(o.Reason, 300)
	return s.syncRecords.do(ctx, s, "code.sync", o, func() batchStep[SyncOutcome, *Grant] {
		codes := map[int64]*Code{}
		return func(ctx context.Context, tx Tx, o SyncOutcome) (*Grant, int64, any, error) {
			g, detail, err := s.recordOne(ctx, tx, o, codes)
			return g, o.Task.CodeID, detail, err
		}
	})
}

// recordOne records one outcome and returns the grant and its audit detail, or
// errUnchanged when there is nothing to record.
func (s *Service) recordOne(ctx context.Context, tx Tx, o SyncOutcome, codes map[int64]*Code) (*Grant, any, error) {
	g, err := grantOf(ctx, tx, o.Task.CodeID, o.Task.LockID)
	if err != nil {
		return nil, nil, err
	}
	c := codes[o.Task.CodeID]
	if c == nil {
		if c, err = tx.FindCodeByID(ctx, o.Task.CodeID); err != nil {
			return nil, nil, err
		}
		codes[c.ID] = c
	}
	before := g.Status
	switch {
	case o.Task.Action == SyncPut && o.Done && (g.Status == GrantPending || g.Status == GrantFailed):
		g.Status, g.Reason = GrantSet, ""
	case o.Task.Action == SyncPut && !o.Done && (g.Status == GrantPending || g.Status == GrantFailed):
		g.Status, g.Reason = GrantFailed, o.Reason
	case o.Task.Action == SyncClear && o.Done && (g.Status == GrantRemoving || c.Revoked || ended(c, s.now())):
		g.Status, g.Reason = GrantRemoved, ""
	case o.Task.Action == SyncClear && o.Done && g.Status == GrantSet:
		g.Status, g.Reason = GrantPending, "" // out of its hours: back on when they come
	case o.Task.Action == SyncClear && !o.Done:
		if !strings.HasPrefix(g.Reason, ReasonUsedAfterRevoke) { // the alert stays until the code is seen gone
			g.Reason = o.Reason
		}
	default:
		// The records moved on while the lock was busy (a code revoked mid-write):
		// the next pass sees the new state, and there is nothing to record.
		return g, nil, errUnchanged
	}
	g.UpdatedAt = s.now()
	detail := map[string]any{"label": c.Label, "lock_id": o.Task.LockID, "action": o.Task.Action, "from": before, "status": g.Status}
	if g.Reason != "" {
		detail["reason"] = g.Reason
	}
	return g, detail, tx.UpdateGrant(ctx, g)
}

// errUnchanged rolls back a RecordSync that has nothing to record.
var errUnchanged = errors.New("unchanged")

// ended reports whether a code's window is over.
func ended(c *Code, now time.Time) bool {
	return c.Schedule.Kind == ScheduleWindow && c.Schedule.End != nil && !now.Before(*c.Schedule.End)
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// syncSignal wakes the engine when records change.
type syncSignal struct {
	once sync.Once
	ch   chan struct{}
}

func (s *syncSignal) channel() chan struct{} {
	s.once.Do(func() { s.ch = make(chan struct{}, 1) })
	return s.ch
}

// SyncNeeded delivers a value after records change, so that the engine looks again
// without polling; a burst of changes is one value.
func (s *Service) SyncNeeded() <-chan struct{} { return s.syncSignal.channel() }

func (s *Service) kickSync() {
	select {
	case s.syncSignal.channel() <- struct{}{}:
	default:
	}
}

// Reprovision puts a quarantined lock's codes back once it is paired with its hub again
// (invariant 6): a factory reset emptied it, so every code that was on it, or on its way,
// is to be put on again (pending, for the sync engine), and every code that was being
// removed is gone with the reset. The lock leaves quarantine; until the engine has read
// each code back, its page says the changes are on their way. A lock that is not
// quarantined has nothing to re-provision (ECONFLICT); one that is not connected has its
// codes programmed at the keypad, so this is refused (EINVALID).
func (s *Service) Reprovision(ctx context.Context, lockID int64) (n int, err error) {
	err = s.change(ctx, "lock.reprovision", "lock", func(tx Tx) (int64, any, error) {
		l, err := tx.FindLockByID(ctx, lockID)
		if err != nil {
			return 0, nil, err
		}
		switch {
		case l.Status != LockQuarantined:
			return 0, nil, Errorf(ECONFLICT, "Lock %d (%s) is not quarantined: it has nothing to re-provision.", l.ID, l.Name)
		case l.Connection.Driver == "":
			return 0, nil, Errorf(EINVALID, "Lock %d (%s) is not connected to a hub: program its codes at the keypad, confirm each (latchkey code confirm), then record it as repaired.", l.ID, l.Name)
		}
		grants, err := tx.FindGrants(ctx, GrantFilter{LockID: &l.ID})
		if err != nil {
			return 0, nil, err
		}
		now := s.now()
		for _, g := range grants {
			switch g.Status {
			case GrantSet, GrantFailed:
				g.Status, g.Reason = GrantPending, "to put back after the lock's reset"
				n++
			case GrantRemoving:
				g.Status, g.Reason = GrantRemoved, "gone with the lock's reset"
			default:
				continue
			}
			g.UpdatedAt = now
			if err := tx.UpdateGrant(ctx, g); err != nil {
				return 0, nil, err
			}
		}
		l.Status = ""
		l.Status = l.derivedStatus()
		if err := tx.UpdateLock(ctx, l); err != nil {
			return 0, nil, err
		}
		return l.ID, map[string]any{"name": l.Name, "codes_to_put_back": n}, nil
	})
	return n, err
}
