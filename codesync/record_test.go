package codesync_test

import (
	"sync"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/sim"
)

// Outcomes recorded at the same moment share a change, and still each has its own audit
// entry, in one verifiable chain; one that cannot be recorded (its code is unknown)
// fails alone.
func TestOutcomesRecordedTogether(t *testing.T) {
	f := newFaultFleet(t, sim.RadioConfig{}, 6, false)
	f.addCodes(t, 2)
	tasks, err := f.svc.SyncTasks(f.ctx)
	must(t, err)
	if len(tasks) != 12 {
		t.Fatalf("%d tasks, want 12", len(tasks))
	}
	bad := latchkey.SyncOutcome{Task: tasks[0], Done: true}
	bad.Task.CodeID = 999
	outcomes := []latchkey.SyncOutcome{bad}
	for _, task := range tasks {
		outcomes = append(outcomes, latchkey.SyncOutcome{Task: task, Done: true})
	}
	engine := latchkey.NewContextWithActor(f.ctx, "sync engine")
	errs := make([]error, len(outcomes))
	var wg sync.WaitGroup
	for i, o := range outcomes {
		wg.Go(func() { _, errs[i] = f.svc.RecordSync(engine, o) })
	}
	wg.Wait()
	if latchkey.ErrorCode(errs[0]) != latchkey.ENOTFOUND {
		t.Fatalf("the outcome of an unknown code: %v", errs[0])
	}
	for i, err := range errs[1:] {
		if err != nil {
			t.Fatalf("outcome %d: %v", i+1, err)
		}
	}
	left, err := f.svc.SyncTasks(f.ctx)
	must(t, err)
	if len(left) != 0 {
		t.Fatalf("%d tasks left after every outcome was recorded", len(left))
	}
	entries, _, err := f.svc.FindAuditEntries(f.ctx, latchkey.AuditFilter{Actor: "sync engine"}, latchkey.Page{Limit: 100})
	must(t, err)
	if len(entries) != 12 {
		t.Fatalf("%d audit entries by the engine, want one per outcome (12)", len(entries))
	}
	if _, err := f.svc.VerifyAuditLog(f.ctx); err != nil {
		t.Fatal(err)
	}
}
