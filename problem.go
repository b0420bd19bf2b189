package latchkey

import (
	"context"
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
