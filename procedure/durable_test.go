package procedure_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/jobs"
	"github.com/latchkey/latchkey/postgres/pgtest"
	"github.com/latchkey/latchkey/sim"
	"github.com/latchkey/latchkey/simdriver"
)

// queues runs a test with the engines' work queued on SQLite and, when
// LATCHKEY_TEST_POSTGRES is set, on PostgreSQL.
func queues(t *testing.T, test func(t *testing.T, open func(t *testing.T, cfg jobs.Config) *jobs.Queue)) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "jobs.db")
		test(t, func(t *testing.T, cfg jobs.Config) *jobs.Queue {
			q, err := jobs.OpenSQLite(context.Background(), path, cfg)
			must(t, err)
			return q
		})
	})
	t.Run("postgres", func(t *testing.T) {
		url := pgtest.FreshSchema(t, "the job queue")
		_, err := jobs.MigratePostgres(context.Background(), url)
		must(t, err)
		test(t, func(t *testing.T, cfg jobs.Config) *jobs.Queue {
			q, err := jobs.OpenPostgres(context.Background(), url, cfg)
			must(t, err)
			return q
		})
	})
}

// Runs worked as durable jobs, one per run: a rekey by the virtual hands, and a factory
// reset whose Program button is let go early (its check fails, the sequence is done
// again) and whose codes go back on through the sync engine's own jobs.
func TestQueuedRuns(t *testing.T) {
	queues(t, func(t *testing.T, open func(t *testing.T, cfg jobs.Config) *jobs.Queue) {
		h := newHomeOn(t, open)
		c, _, err := h.svc.CreateCode(h.ctx, latchkey.NewCode{Code: latchkey.Code{PersonID: h.ana.ID, Label: "Ana's code"}, LockIDs: []int64{h.locks["front"].ID}})
		must(t, err)
		h.waitGrant(t, c.ID, "front", latchkey.GrantSet)
		rekey := h.start(t, latchkey.ProcedureRekey, "", "side")
		reset := h.start(t, latchkey.ProcedureReset, simdriver.MistakeEarlyRelease, "front")
		if r := h.wait(t, rekey); r.Status != latchkey.RunDone || h.lock(t, "side").KeyID != r.Params.NewKeyID {
			t.Fatalf("the rekey: %s %+v", r.Status, r.Escalation)
		}
		r := h.wait(t, reset)
		failed := 0
		for _, rec := range r.Records {
			if rec.Step == "reset-check" && rec.Outcome == latchkey.StepFailed {
				failed++
			}
		}
		if r.Status != latchkey.RunDone || failed != 1 {
			t.Fatalf("the reset: %s, %d failed checks %+v %+v", r.Status, failed, r.Escalation, r.Records)
		}
		h.waitGrant(t, c.ID, "front", latchkey.GrantSet)
		if l := h.lock(t, "front"); l.Status != latchkey.LockOK || h.codes("front") != "1" {
			t.Fatalf("after the reset: lock %s, the twin holds %s codes", l.Status, h.codes("front"))
		}
	})
}

// A run whose job sleeps, backing off from a hub that does not answer, is woken when it
// changes: the person skips the hub step, and the hands go on at once, not when the
// job's wait (minutes here) runs out.
func TestQueuedRunWokenByItsChange(t *testing.T) {
	queues(t, func(t *testing.T, open func(t *testing.T, cfg jobs.Config) *jobs.Queue) {
		h := newHomeOn(t, open)
		h.engine.Interval = time.Minute // a failed hub step waits a minute, then two
		h.driver.Do(func(w *sim.World) { w.Hub("zwave").Restart(time.Hour) })
		r := h.start(t, latchkey.ProcedureReset, "", "front")
		for failed := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			got, err := h.svc.FindRunByID(h.ctx, r.ID)
			must(t, err)
			if n := len(got.Records); n >= 2 && got.Records[n-1].Outcome == latchkey.StepFailed {
				break
			}
			if time.Now().After(failed) {
				t.Fatal("the hub step did not fail within 20 s with the hub down")
			}
		}
		_, err := h.engine.AdvanceProcedure(h.ctx, r.ID, latchkey.Advance{Step: "exclude", Skip: true, Note: "the hub is down"})
		must(t, err)
		deadline := time.Now().Add(20 * time.Second)
		for {
			got, err := h.svc.FindRunByID(h.ctx, r.ID)
			must(t, err)
			if st, _ := got.Step(); st != nil && st.ID == "include" {
				return // the reset steps done by the hands; the hub is still down
			}
			if time.Now().After(deadline) {
				st, _ := got.Step()
				t.Fatalf("20 s after the skip the run is still at %+v: its sleeping job was not woken", st)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}
