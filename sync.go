package latchkey

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

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
	// Status, Problem and Reason are where the code stands on the lock now, and why.
	// A task with CodeID 0 empties a slot holding a code Latchkey does not own, which a
	// person asked to clear (ClearForeignSlot).
	Status  GrantStatus `json:"status"`
	Problem Problem     `json:"problem,omitempty"`
	Reason  string      `json:"reason,omitempty"`
	// Attempts is how many tries in a row failed before this one.
	Attempts int `json:"attempts,omitempty"`
}

// CodeReader is a driver that can read a slot back, so that a change is confirmed by
// what the lock holds rather than by its acknowledgment. present says the slot holds a
// code; pin is empty where the lock does not tell it (Matter).
type CodeReader interface {
	ReadCode(ctx context.Context, address string, slot int) (pin string, present bool, err error)
}

// wantedOn reports whether a code should be on a site's locks at now: not revoked, and
// within its time at some moment from now to the site's lead time ahead.
func wantedOn(c *Code, now time.Time, site *Site) bool {
	return !c.Revoked && c.Schedule.ActiveWithin(now, now.Add(site.CodeLead()), siteZone(site))
}

// SyncTasks lists what the engine should change now, lock by lock: codes to put on
// connected locks that take codes (pending, or failed before, and within their time),
// codes to take off (revoked, or out of their time). A lock that was reset behind
// Latchkey's back is left alone until it is re-provisioned; a lock with a low battery
// gets no new code (power first) but still has revoked codes taken off. Given lock ids,
// it looks at those locks only (a lock that no longer exists has nothing to change).
func (s *Service) SyncTasks(ctx context.Context, lockIDs ...int64) ([]SyncTask, error) {
	now := s.now()
	var tasks []SyncTask
	err := s.view(ctx, func(tx Tx) error {
		in, err := readSyncInputs(ctx, tx, lockIDs)
		if err != nil {
			return err
		}
		codes := map[int64]*Code{}
		for _, l := range in.locks {
			if l.Connection.Driver == "" || l.Status == LockQuarantined || l.Survey.Pending() || s.Models.CodeCapacity(l.ModelID) == 0 {
				continue
			}
			occupied := map[int]bool{}
			for _, f := range in.foreign[l.ID] {
				occupied[f.Slot] = true
				if f.Clearing {
					tasks = append(tasks, SyncTask{LockID: l.ID, Slot: f.Slot, Connection: l.Connection, Action: SyncClear, Reason: f.Reason})
				}
			}
			site := in.siteOf(l)
			for _, g := range in.grants[l.ID] {
				if g.NextAttempt != nil && now.Before(*g.NextAttempt) {
					continue // the engine said when; "retry now" clears it
				}
				c := codes[g.CodeID]
				if c == nil {
					if c, err = tx.FindCodeByID(ctx, g.CodeID); err != nil {
						return err
					}
					codes[c.ID] = c
				}
				task := SyncTask{LockID: l.ID, CodeID: c.ID, Slot: g.Slot, Connection: l.Connection, Status: g.Status, Problem: g.Problem, Reason: g.Reason, Attempts: g.Attempts}
				retried := g.Status == GrantPending || g.Status == GrantSetting || g.Status == GrantFailed && !g.waitsForAPerson()
				switch want := wantedOn(c, now, site); {
				case retried && want && !l.State.LowBattery() && !occupied[g.Slot]:
					// A slot holding a code Latchkey does not own is never written over.
					task.Action = SyncPut
				case g.Status == GrantRemoving, (g.Status == GrantSet || g.Status == GrantUnconfirmed) && !want:
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

// syncInputs is what SyncTasks reads: the locks, and by lock their grants (removed ones
// left out), the codes found in slots Latchkey does not own, and their sites.
type syncInputs struct {
	locks    []*Lock
	grants   map[int64][]*Grant
	foreign  map[int64][]*ForeignCode
	doorSite map[int64]*Site // by door
}

func (in *syncInputs) siteOf(l *Lock) *Site {
	if site := in.doorSite[l.DoorID]; site != nil {
		return site
	}
	return &Site{TimeZone: "UTC"}
}

// readSyncInputs reads SyncTasks' inputs for the locks named, or for every lock in a
// handful of statements whatever the fleet's size, rather than look-ups per lock (a pass
// over 10,000 locks must cost the engine milliseconds, not seconds).
func readSyncInputs(ctx context.Context, tx Tx, lockIDs []int64) (*syncInputs, error) {
	in := &syncInputs{grants: map[int64][]*Grant{}, foreign: map[int64][]*ForeignCode{}, doorSite: map[int64]*Site{}}
	var grants []*Grant
	var foreign []*ForeignCode
	var err error
	if len(lockIDs) > 0 {
		if in.locks, err = syncLocks(ctx, tx, lockIDs); err != nil {
			return nil, err
		}
		for from := 0; from < len(lockIDs); from += MaxListIDs {
			ids := lockIDs[from:min(from+MaxListIDs, len(lockIDs))]
			gs, err := tx.FindGrants(ctx, GrantFilter{LockIDs: ids})
			if err != nil {
				return nil, err
			}
			fs, err := tx.FindForeignCodesOn(ctx, ids)
			if err != nil {
				return nil, err
			}
			grants, foreign = append(grants, gs...), append(foreign, fs...)
		}
		for _, l := range in.locks {
			if _, ok := in.doorSite[l.DoorID]; ok {
				continue
			}
			if in.doorSite[l.DoorID], err = lockSite(ctx, tx, l); err != nil {
				return nil, err
			}
		}
	} else {
		if in.locks, err = all(func(p Page) ([]*Lock, int, error) { return tx.FindLocks(ctx, LockFilter{}, p) }); err != nil {
			return nil, err
		}
		doors, err := all(func(p Page) ([]*Door, int, error) { return tx.FindDoors(ctx, DoorFilter{}, p) })
		if err != nil {
			return nil, err
		}
		sites, err := all(func(p Page) ([]*Site, int, error) { return tx.FindSites(ctx, p) })
		if err != nil {
			return nil, err
		}
		byID := make(map[int64]*Site, len(sites))
		for _, site := range sites {
			byID[site.ID] = site
		}
		for _, d := range doors {
			in.doorSite[d.ID] = byID[d.SiteID]
		}
		if grants, err = tx.FindGrants(ctx, GrantFilter{}); err != nil {
			return nil, err
		}
		if foreign, err = tx.FindForeignCodes(ctx, 0); err != nil {
			return nil, err
		}
	}
	for _, g := range grants {
		if g.Status != GrantRemoved {
			in.grants[g.LockID] = append(in.grants[g.LockID], g)
		}
	}
	for _, f := range foreign {
		in.foreign[f.LockID] = append(in.foreign[f.LockID], f)
	}
	return in, nil
}

// syncLocks reads the locks SyncTasks looks at: the ones named, or every lock.
func syncLocks(ctx context.Context, tx Tx, ids []int64) ([]*Lock, error) {
	if len(ids) == 0 {
		return all(func(p Page) ([]*Lock, int, error) { return tx.FindLocks(ctx, LockFilter{}, p) })
	}
	locks := make([]*Lock, 0, len(ids))
	for from := 0; from < len(ids); from += MaxListIDs {
		chunk := ids[from:min(from+MaxListIDs, len(ids))]
		found, err := all(func(p Page) ([]*Lock, int, error) { return tx.FindLocks(ctx, LockFilter{IDs: chunk}, p) })
		if err != nil {
			return nil, err
		}
		locks = append(locks, found...) // a lock deleted meanwhile is not found, and left out
	}
	return locks, nil
}

// lockSite is the site a lock is on.
func lockSite(ctx context.Context, tx Tx, l *Lock) (*Site, error) {
	d, err := tx.FindDoorByID(ctx, l.DoorID)
	if err != nil {
		return nil, err
	}
	return tx.FindSiteByID(ctx, d.SiteID)
}

// lockZone is the time zone of the site a lock is on.
func lockZone(ctx context.Context, tx Tx, l *Lock) (*time.Location, error) {
	site, err := lockSite(ctx, tx, l)
	if err != nil {
		return nil, err
	}
	return siteZone(site), nil
}

// zones keeps the time zones loaded: time.LoadLocation reads the zone's file each time.
var zones sync.Map // name: *time.Location

// siteZone is a site's time zone (UTC for a name this system does not know, which a
// site's validation refuses).
func siteZone(site *Site) *time.Location {
	if loc, ok := zones.Load(site.TimeZone); ok {
		return loc.(*time.Location)
	}
	loc, err := time.LoadLocation(site.TimeZone)
	if err != nil {
		return time.UTC
	}
	zones.Store(site.TimeZone, loc)
	return loc
}

// ReasonRefusedByLock begins the reason an engine gives for a code the lock refused to
// take (a duplicate, no free slot, a rule of its own), when it does not name the
// Problem itself: RecordSync tells the kind from what the lock said.
const ReasonRefusedByLock = "Refused by the lock: "

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

// RetrySync asks the engine to try a code on a lock again, now: a failed one goes back to
// pending, its problem cleared (for a conflicting change, Latchkey's code is put back
// over what was set at the lock); one on its way or being removed that the engine put
// off is tried at once. Nothing else changes (ECONFLICT).
func (s *Service) RetrySync(ctx context.Context, codeID, lockID int64) (g *Grant, err error) {
	err = s.change(ctx, "code.retry", "code", func(tx Tx) (int64, any, error) {
		if g, err = grantOf(ctx, tx, codeID, lockID); err != nil {
			return 0, nil, err
		}
		switch {
		case g.Status == GrantFailed:
			if foreign, err := foreignAt(ctx, tx, lockID, g.Slot); err != nil {
				return 0, nil, err
			} else if foreign != nil {
				return 0, nil, Errorf(ECONFLICT, "Slot %d of lock %d holds a code Latchkey does not own: adopt it or clear it first (latchkey lock slots %d).", g.Slot, lockID, lockID)
			}
			g.Status, g.Problem, g.ProblemSlot, g.Reason, g.Attempts = GrantPending, "", 0, "", 0
		case g.NextAttempt != nil && (g.Status == GrantPending || g.Status == GrantSetting || g.Status == GrantRemoving):
		default:
			return 0, nil, Errorf(ECONFLICT, "Code %d on lock %d is %s, not failed or waiting for its next attempt: there is nothing to try again.", codeID, lockID, g.Status)
		}
		g.NextAttempt, g.UpdatedAt = nil, s.now()
		return codeID, map[string]any{"lock_id": lockID}, tx.UpdateGrant(ctx, g)
	})
	if err == nil {
		s.publishStatus(g)
	}
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
	calls := s.syncPINs.doMany(ctx, s, "code.push", in, func(batch [][2]int64) batchStep[[2]int64, string] {
		var on *pinInputs // read with the batch's first call, in its transaction
		return func(ctx context.Context, tx Tx, in [2]int64) (string, int64, any, error) {
			if on == nil {
				var err error
				if on, err = readPINInputs(ctx, tx, batch); err != nil {
					return "", 0, nil, err
				}
			}
			return s.pinForSync(ctx, tx, in[0], in[1], on)
		}
	})
	for i, c := range calls {
		pins[i], errs[i] = c.out, c.err
	}
	return pins, errs
}

// pinInputs is what the PINs of one batch are checked against, read in its
// transaction in a few statements whatever the batch's size (two a code, and two more),
// rather than three a PIN: a pass over 1,000 locks opens 1,000 PINs before their first
// frames leave, and each statement is time the radio waits (docs/benchmarks.md).
type pinInputs struct {
	codes   map[int64]*Code
	grants  map[pinKey]*Grant // by code and lock
	locks   map[int64]*Lock
	foreign map[int64][]*ForeignCode // by lock
}

type pinKey struct{ code, lock int64 }

// readPINInputs reads the codes, grants, locks and foreign codes of a batch of
// (code, lock) pairs.
func readPINInputs(ctx context.Context, tx Tx, batch [][2]int64) (*pinInputs, error) {
	on := &pinInputs{codes: map[int64]*Code{}, grants: map[pinKey]*Grant{}, locks: map[int64]*Lock{}, foreign: map[int64][]*ForeignCode{}}
	locksOf := map[int64][]int64{} // the batch's locks by code
	var codeIDs, lockIDs []int64
	seen := map[int64]bool{}
	for _, in := range batch {
		if _, ok := locksOf[in[0]]; !ok {
			codeIDs = append(codeIDs, in[0])
		}
		locksOf[in[0]] = append(locksOf[in[0]], in[1])
		if !seen[in[1]] {
			seen[in[1]] = true
			lockIDs = append(lockIDs, in[1])
		}
	}
	for _, id := range codeIDs {
		c, err := tx.FindCodeByID(ctx, id)
		switch {
		case ErrorCode(err) == ENOTFOUND:
			continue // its calls say so
		case err != nil:
			return nil, err
		}
		on.codes[id] = c
		grants, err := tx.FindGrants(ctx, GrantFilter{CodeID: &c.ID, LockIDs: locksOf[id]})
		if err != nil {
			return nil, err
		}
		for _, g := range grants {
			on.grants[pinKey{g.CodeID, g.LockID}] = g
		}
	}
	locks, err := all(func(p Page) ([]*Lock, int, error) { return tx.FindLocks(ctx, LockFilter{IDs: lockIDs}, p) })
	if err != nil {
		return nil, err
	}
	for _, l := range locks {
		on.locks[l.ID] = l
	}
	foreign, err := tx.FindForeignCodesOn(ctx, lockIDs)
	if err != nil {
		return nil, err
	}
	for _, f := range foreign {
		on.foreign[f.LockID] = append(on.foreign[f.LockID], f)
	}
	return on, nil
}

// pinForSync is PINForSync's work in its batch's transaction. The grant goes to
// "setting" before the write: a crash between the two leaves a visible trace, which the
// next pass writes again, rather than a write nobody knows of.
func (s *Service) pinForSync(ctx context.Context, tx Tx, codeID, lockID int64, on *pinInputs) (pin string, id int64, detail any, err error) {
	c := on.codes[codeID]
	if c == nil {
		return "", 0, nil, Errorf(ENOTFOUND, "No code with id %d.", codeID)
	}
	g := on.grants[pinKey{codeID, lockID}]
	if g == nil || c.Revoked {
		return "", 0, nil, Errorf(ECONFLICT, "Code %d is not waiting to go on lock %d; its PIN is not given out.", codeID, lockID)
	}
	if g.Status != GrantPending && g.Status != GrantSetting && (g.Status != GrantFailed || g.waitsForAPerson()) {
		return "", 0, nil, Errorf(ECONFLICT, "Code %d is not waiting to go on lock %d; its PIN is not given out.", codeID, lockID)
	}
	l := on.locks[lockID]
	if l == nil {
		return "", 0, nil, Errorf(ENOTFOUND, "No lock with id %d.", lockID)
	}
	if l.Connection.Driver == "" {
		return "", 0, nil, Errorf(ECONFLICT, "Lock %d is not connected; its codes are programmed at its keypad.", lockID)
	}
	for _, f := range on.foreign[lockID] {
		if f.Slot == g.Slot {
			return "", 0, nil, Errorf(ECONFLICT, "Slot %d of lock %d holds a code Latchkey does not own; it is not written over.", g.Slot, lockID)
		}
	}
	if pin, err = s.openPIN(c); err != nil { // opened for each lock: each is its own act
		return "", 0, nil, err
	}
	g.Status, g.UpdatedAt = GrantSetting, s.now()
	if err := tx.UpdateGrant(ctx, g); err != nil {
		return "", 0, nil, err
	}
	return pin, codeID, map[string]any{"label": c.Label, "lock_id": lockID, "slot": g.Slot}, nil
}

// SyncOutcome is what became of a SyncTask: Done when the lock was read back holding
// the code (put) or an empty slot (clear); Unconfirmed when the lock acknowledged a put
// that could not be read back; otherwise Problem (when the engine knows its kind) and
// Reason say why not, and NextAttempt when the engine will try again.
type SyncOutcome struct {
	Task        SyncTask
	Done        bool
	Unconfirmed bool
	Problem     Problem
	Reason      string
	NextAttempt *time.Time
}

// RecordSync records what the engine did at a lock. A code read back on the lock is set;
// one acknowledged but not read back is unconfirmed; a slot read back empty makes a
// revoked code (or one whose window ended) removed, and a code out of its weekly hours
// pending again. A failed put is failed, with its problem and reason; a failed clear
// stays as it was, with its problem and reason: nothing is marked gone that was not seen
// gone. A problem that waits for a person has no next attempt. The outcome of a slot
// cleared of a code Latchkey does not own (CodeID 0) ends that code's listing. Each
// outcome has its own audit entry, as its caller's act.
//
// Outcomes recorded at the same moment (the engine records thousands of locks' at once)
// share one change: one transaction and one audit head for all, rather than a change
// each. One outcome that cannot be recorded takes nothing else with it.
func (s *Service) RecordSync(ctx context.Context, o SyncOutcome) (*Grant, error) {
	if err := require(ctx, PermWrite); err != nil {
		return nil, err
	}
	o.Reason = truncate(o.Reason, 300)
	if o.Task.CodeID == 0 {
		return nil, s.recordForeignClear(ctx, o)
	}
	g, err := s.syncRecords.do(ctx, s, "code.sync", o, func([]SyncOutcome) batchStep[SyncOutcome, *Grant] {
		codes := map[int64]*Code{}
		return func(ctx context.Context, tx Tx, o SyncOutcome) (*Grant, int64, any, error) {
			g, detail, err := s.recordOne(ctx, tx, o, codes)
			return g, o.Task.CodeID, detail, err
		}
	})
	if err == nil && g != nil {
		s.publishStatus(g)
		s.kickWebhooks() // the outcome may have written deliveries
	}
	return g, err
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
	putting := g.Status == GrantPending || g.Status == GrantSetting || g.Status == GrantFailed && !g.waitsForAPerson()
	next := o.NextAttempt
	switch {
	case o.Task.Action == SyncPut && o.Done && putting:
		g.Status, g.Problem, g.ProblemSlot, g.Reason, next = GrantSet, "", 0, "", nil
	case o.Task.Action == SyncPut && o.Unconfirmed && putting:
		g.Status, g.Problem, g.ProblemSlot, next = GrantUnconfirmed, "", 0, nil
		g.Reason = "The lock acknowledged the code, but its hub cannot read the slot back: check at the door that the code opens it, then confirm."
	case o.Task.Action == SyncPut && !o.Done && putting:
		g.Status, g.Problem, g.ProblemSlot, g.Reason = GrantFailed, problemOf(o), 0, o.Reason
		if g.Problem == ProblemDuplicateOnDevice {
			if g.ProblemSlot, err = s.collidingSlot(ctx, tx, c, g); err != nil {
				return nil, nil, err
			}
		}
	case o.Task.Action == SyncClear && o.Done && (g.Status == GrantRemoving || c.Revoked || ended(c, s.now())):
		g.Status, g.Problem, g.ProblemSlot, g.Reason, g.Alert, next = GrantRemoved, "", 0, "", "", nil
	case o.Task.Action == SyncClear && o.Done && (g.Status == GrantSet || g.Status == GrantUnconfirmed):
		g.Status, g.Problem, g.Reason, next = GrantPending, "", "", nil // out of its hours: back on when they come
	case o.Task.Action == SyncClear && !o.Done && g.Status != GrantRemoved:
		g.Problem, g.Reason = problemOf(o), o.Reason
	default:
		// The records moved on while the lock was busy (a code revoked mid-write):
		// the next pass sees the new state, and there is nothing to record.
		return g, nil, errUnchanged
	}
	switch {
	case o.Done || o.Unconfirmed:
		g.Attempts = 0
	case g.Status == GrantFailed || g.Status == GrantRemoving || o.Task.Action == SyncClear:
		g.Attempts++
		if g.waitsForAPerson() && !g.Problem.WaitsForAPerson() {
			g.Reason = truncate(fmt.Sprintf("Gave up after %d tries (%s): check the lock, then try again.", g.Attempts, g.Reason), 300)
		}
	}
	if g.waitsForAPerson() {
		next = nil
	}
	g.NextAttempt, g.UpdatedAt = next, s.now()
	detail := map[string]any{"label": c.Label, "lock_id": o.Task.LockID, "action": o.Task.Action, "from": before, "status": g.Status}
	if g.Problem != "" {
		detail["problem"] = g.Problem
	}
	if g.Reason != "" {
		detail["reason"] = g.Reason
	}
	if err := tx.UpdateGrant(ctx, g); err != nil {
		return nil, nil, err
	}
	return g, detail, s.notifyGrant(ctx, tx, g, before)
}

// publishStatus tells live subscribers where a code now stands on a lock.
func (s *Service) publishStatus(g *Grant) {
	copied := *g
	s.live.publish(Event{LockID: g.LockID, Kind: EventCodeStatus, Slot: g.Slot, At: g.UpdatedAt, Grant: &copied})
}

// collidingSlot finds the slot of the code on the lock that a refused code duplicates,
// among the codes Latchkey placed there; 0 when none of them does (the duplicate is a
// code Latchkey does not own, whose digits it does not know).
func (s *Service) collidingSlot(ctx context.Context, tx Tx, c *Code, g *Grant) (int, error) {
	l, err := tx.FindLockByID(ctx, g.LockID)
	if err != nil {
		return 0, err
	}
	pin, err := s.openPIN(c)
	if err != nil {
		return 0, err
	}
	placed, err := s.codesOnLock(ctx, tx, g.LockID)
	if err != nil {
		return 0, err
	}
	for _, p := range placed {
		if p.code.ID != c.ID && s.Models.CheckCode(l.ModelID, pin, []string{p.pin}) != nil {
			return p.slot, nil
		}
	}
	return 0, nil
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
		if n, err = s.reprovision(ctx, tx, l); err != nil {
			return 0, nil, err
		}
		return l.ID, map[string]any{"name": l.Name, "codes_to_put_back": n}, nil
	})
	return n, err
}

// reprovision marks in tx every code of a quarantined lock to be put back, and takes it
// out of quarantine; it returns how many codes are to go back on.
func (s *Service) reprovision(ctx context.Context, tx Tx, l *Lock) (n int, err error) {
	grants, err := tx.FindGrants(ctx, GrantFilter{LockID: &l.ID})
	if err != nil {
		return 0, err
	}
	now := s.now()
	for _, g := range grants {
		switch g.Status {
		case GrantSet, GrantUnconfirmed, GrantSetting, GrantFailed:
			g.Status, g.Reason = GrantPending, "to put back after the lock's reset"
			n++
		case GrantPending:
			if g.Problem == "" {
				continue
			}
		case GrantRemoving:
			g.Status, g.Reason, g.Alert = GrantRemoved, "gone with the lock's reset", ""
		default:
			continue
		}
		g.Problem, g.ProblemSlot, g.NextAttempt, g.UpdatedAt = "", 0, nil, now
		if err := tx.UpdateGrant(ctx, g); err != nil {
			return 0, err
		}
	}
	// The reset emptied every slot: codes the lock held that Latchkey did not own are gone.
	foreign, err := tx.FindForeignCodes(ctx, l.ID)
	if err != nil {
		return 0, err
	}
	for _, f := range foreign {
		if err := tx.DeleteForeignCode(ctx, f.ID); err != nil {
			return 0, err
		}
	}
	l.Status = ""
	l.Status = l.derivedStatus()
	// A reset changes nothing for a lost key: it still opens the lock (invariant 2).
	if exposed, err := keyExposes(ctx, tx, l.KeyID); err != nil {
		return 0, err
	} else if exposed {
		l.Status = LockExposed
	}
	if err := tx.UpdateLock(ctx, l); err != nil {
		return 0, err
	}
	return n, nil
}
