package latchkey_test

import (
	"testing"

	"github.com/latchkey/latchkey"
)

// Every problem kind says itself in words, and exactly the ones a retry would not cure
// (or would overwrite a change made at the lock) wait for a person.
func TestProblemKinds(t *testing.T) {
	waits := map[latchkey.Problem]bool{latchkey.ProblemDuplicateOnDevice: true, latchkey.ProblemNoSpace: true,
		latchkey.ProblemModifiedAtLock: true, latchkey.ProblemRemovedAtLock: true, latchkey.ProblemConstraintsViolated: true}
	seen := map[string]bool{}
	for _, p := range latchkey.Problems {
		if d := p.Describe(); d == "" || seen[d] {
			t.Errorf("%s is described as %q", p, d)
		}
		seen[p.Describe()] = true
		if p.WaitsForAPerson() != waits[p] {
			t.Errorf("%s waits for a person: %v", p, p.WaitsForAPerson())
		}
		if p.Conflict() != (p == latchkey.ProblemModifiedAtLock || p == latchkey.ProblemRemovedAtLock) {
			t.Errorf("%s is a conflict: %v", p, p.Conflict())
		}
	}
	if len(latchkey.Problems) != 9 {
		t.Errorf("%d problem kinds", len(latchkey.Problems))
	}
}
