package latchkey

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Problem is why a code is not where the records want it on one lock, as a kind a
// program can act on (the peers' typed errors, protocols.md §4.2, §5.3). A grant's
// Reason says the same in a sentence for people.
type Problem string

// Problems.
const (
	ProblemFailedToSet    Problem = "failed_to_set"    // the lock did not take it; tried again
	ProblemFailedToRemove Problem = "failed_to_remove" // the lock did not let it go; tried again
	// ProblemDuplicateOnDevice: the lock holds the same code (or one it cannot tell
	// apart) in another slot, named by the grant's ProblemSlot when known.
	ProblemDuplicateOnDevice Problem = "duplicate_on_device"
	ProblemNoSpace           Problem = "no_space" // the lock has no free slot
	// ProblemModifiedAtLock and ProblemRemovedAtLock are conflicting changes: someone
	// changed or deleted the code at the lock itself. The engine does not overwrite them;
	// a person puts Latchkey's code back (RetrySync) or revokes it.
	ProblemModifiedAtLock Problem = "conflict_modified_at_lock"
	ProblemRemovedAtLock  Problem = "conflict_removed_at_lock"
	// ProblemConstraintsViolated: the lock refused the code under rules of its own; it
	// is not tried again until the code changes or a person asks.
	ProblemConstraintsViolated Problem = "constraints_violated"
	ProblemLockUnreachable     Problem = "lock_unreachable" // the lock did not answer; tried again
	ProblemLockQuarantined     Problem = "lock_quarantined" // reset behind Latchkey's back
)

// Problems lists every problem kind, in the order they are documented.
var Problems = []Problem{ProblemFailedToSet, ProblemFailedToRemove, ProblemDuplicateOnDevice, ProblemNoSpace,
	ProblemModifiedAtLock, ProblemRemovedAtLock, ProblemConstraintsViolated, ProblemLockUnreachable, ProblemLockQuarantined}

// WaitsForAPerson reports whether the engine leaves a code with this problem alone
// until a person acts: the same write would get the same answer, or would overwrite a
// change someone made at the lock.
func (p Problem) WaitsForAPerson() bool {
	switch p {
	case ProblemDuplicateOnDevice, ProblemNoSpace, ProblemModifiedAtLock, ProblemRemovedAtLock, ProblemConstraintsViolated:
		return true
	}
	return false
}

// MaxSyncAttempts is how many times in a row the engine tries to put a code on a lock
// that answers but does not take it, before the code waits for a person: a slot is not
// written over and over, draining the lock's batteries, for a fault no retry mends. A
// lock that does not answer is tried for as long as it takes (the lock, not the code, is
// at fault), and so is a removal: a revoked code is never left on a lock unattended.
const MaxSyncAttempts = 10

// waitsForAPerson reports whether the engine leaves the grant alone until a person acts:
// its problem says so, or a put failed MaxSyncAttempts times at a lock that answered.
func (g *Grant) waitsForAPerson() bool {
	return g.Problem.WaitsForAPerson() ||
		g.Status == GrantFailed && g.Attempts >= MaxSyncAttempts && g.Problem != ProblemLockUnreachable
}

// Conflict reports whether the problem is a change made at the lock itself.
func (p Problem) Conflict() bool { return p == ProblemModifiedAtLock || p == ProblemRemovedAtLock }

// Describe says the problem in a few words, for lists.
func (p Problem) Describe() string {
	return map[Problem]string{
		ProblemFailedToSet:         "failed to set",
		ProblemFailedToRemove:      "failed to remove",
		ProblemDuplicateOnDevice:   "duplicate on the lock",
		ProblemNoSpace:             "no space on the lock",
		ProblemModifiedAtLock:      "changed at the lock",
		ProblemRemovedAtLock:       "deleted at the lock",
		ProblemConstraintsViolated: "refused by the lock's rules",
		ProblemLockUnreachable:     "lock unreachable",
		ProblemLockQuarantined:     "lock quarantined",
	}[p]
}

// Warning is something about a code on a lock worth a look, though nothing failed. It
// is derived when the grant is read, never stored.
type Warning string

// Warnings.
const (
	WarningDelaySetting         Warning = "delay_setting"            // on its way for longer than SyncDelay
	WarningDelayRemoving        Warning = "delay_removing"           // being removed for longer than SyncDelay
	WarningChangeAtLockInEffect Warning = "change_at_lock_in_effect" // the lock holds what someone set there
)

// SyncDelay is how long past when it was due a code may be on its way to or off a lock
// before it is called delayed.
const SyncDelay = 10 * time.Minute

// warningsOf derives a grant's warnings at now: on a lock on a hub (elsewhere a person
// programs the keypad in their own time), a code on its way (pending or setting) more
// than SyncDelay past when it was due (its last change, or its window's start less the
// site's lead time), or being removed more than SyncDelay; on any lock, a conflicting
// change left in effect at the lock.
func warningsOf(g *Grant, c *Code, connected bool, now time.Time, site *Site) []Warning {
	var out []Warning
	switch g.Status {
	case GrantPending, GrantSetting:
		if !connected {
			break
		}
		due := g.UpdatedAt
		if sc := c.Schedule; sc.Kind == ScheduleWindow && sc.Start != nil && sc.Start.Add(-site.CodeLead()).After(due) {
			due = sc.Start.Add(-site.CodeLead())
		}
		if wantedOn(c, now, site) && now.Sub(due) > SyncDelay {
			out = append(out, WarningDelaySetting)
		}
	case GrantRemoving:
		if connected && now.Sub(g.UpdatedAt) > SyncDelay {
			out = append(out, WarningDelayRemoving)
		}
	case GrantFailed:
		if g.Problem.Conflict() {
			out = append(out, WarningChangeAtLockInEffect)
		}
	}
	return out
}

// withWarnings fills in the warnings of grants read from tx.
func (s *Service) withWarnings(ctx context.Context, tx Tx, grants []*Grant) error {
	now := s.now()
	codes := map[int64]*Code{}
	sites := map[int64]*Site{} // by lock
	connected := map[int64]bool{}
	for _, g := range grants {
		c, ok := codes[g.CodeID]
		if !ok {
			var err error
			if c, err = tx.FindCodeByID(ctx, g.CodeID); err != nil {
				return err
			}
			codes[g.CodeID] = c
		}
		site, ok := sites[g.LockID]
		if !ok {
			l, err := tx.FindLockByID(ctx, g.LockID)
			if err != nil {
				return err
			}
			if site, err = lockSite(ctx, tx, l); err != nil {
				return err
			}
			sites[g.LockID], connected[g.LockID] = site, l.Connection.Driver != ""
		}
		g.Warnings = warningsOf(g, c, connected[g.LockID], now, site)
	}
	return nil
}

// problemOf classifies what the engine reported of a failed change, when it did not say
// the kind itself: a lock's refusal by what the lock said, anything else as a failed
// write or removal, to be tried again.
func problemOf(o SyncOutcome) Problem {
	if o.Problem != "" {
		return o.Problem
	}
	said, refused := strings.CutPrefix(o.Reason, ReasonRefusedByLock)
	switch said = strings.ToLower(said); {
	case !refused && o.Task.Action == SyncClear:
		return ProblemFailedToRemove
	case !refused:
		return ProblemFailedToSet
	case strings.Contains(said, "duplicate"):
		return ProblemDuplicateOnDevice
	case strings.Contains(said, "full") || strings.Contains(said, "no free") || strings.Contains(said, "no space") || strings.Contains(said, "outside 1 to"):
		return ProblemNoSpace
	}
	return ProblemConstraintsViolated
}

// NoteDelays delivers a code.delayed webhook for each code newly late reaching or leaving
// a lock on a hub (its delay warning, WarningsOf), once per delay: a grant that changes
// afterwards and is late again is delivered again. The sync engine calls it on each
// pass; it returns how many delays it noted.
func (s *Service) NoteDelays(ctx context.Context) (n int, err error) {
	err = s.change(ctx, "code.delayed", "code", func(tx Tx) (int64, any, error) {
		grants, err := tx.FindGrants(ctx, GrantFilter{})
		if err != nil {
			return 0, nil, err
		}
		now := s.now()
		var late []*Grant
		for _, g := range grants {
			// A delay is noted strictly after the grant's last change (it is late by
			// SyncDelay then): one changed at or after its note is a new delay.
			waiting := g.Status == GrantPending || g.Status == GrantSetting || g.Status == GrantRemoving
			if waiting && now.Sub(g.UpdatedAt) > SyncDelay && (g.DelayNotedAt == nil || !g.DelayNotedAt.After(g.UpdatedAt)) {
				late = append(late, g)
			}
		}
		if err := s.withWarnings(ctx, tx, late); err != nil {
			return 0, nil, err
		}
		var noted []map[string]any
		for _, g := range late {
			var why string
			switch {
			case slices.Contains(g.Warnings, WarningDelaySetting):
				why = fmt.Sprintf("Code %d has been on its way to lock %d for more than %d minutes past when it was due.", g.CodeID, g.LockID, int(SyncDelay/time.Minute))
			case slices.Contains(g.Warnings, WarningDelayRemoving):
				why = fmt.Sprintf("Code %d has been being removed from lock %d for more than %d minutes.", g.CodeID, g.LockID, int(SyncDelay/time.Minute))
			default:
				continue
			}
			if err := s.notifyCodeDelayed(ctx, tx, g, why); err != nil {
				return 0, nil, err
			}
			g.DelayNotedAt = &now
			if err := tx.UpdateGrant(ctx, g); err != nil {
				return 0, nil, err
			}
			noted = append(noted, map[string]any{"code_id": g.CodeID, "lock_id": g.LockID, "status": g.Status})
		}
		if len(noted) == 0 {
			return 0, nil, errUnchanged
		}
		n = len(noted)
		return noted[0]["code_id"].(int64), map[string]any{"delayed": noted}, nil
	})
	if errors.Is(err, errUnchanged) {
		err = nil
	}
	return n, err
}
