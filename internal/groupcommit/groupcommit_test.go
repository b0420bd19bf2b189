package groupcommit

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
)

// fakeBatch records what the writer asks of a transaction, and fails where told.
type fakeBatch struct {
	ops        []string
	failEndAt  int // the nth EndSavepoint (1-based) fails; 0 never
	lateAt     int // the nth EndSavepoint's held-back statements fail at commit; 0 never
	late       func(error)
	failCommit error
	ends       int
	committed  bool
	rolledBack bool
}

func (f *fakeBatch) Savepoint() error { f.ops = append(f.ops, "savepoint"); return nil }
func (f *fakeBatch) Tx() latchkey.Tx  { return nil }
func (f *fakeBatch) EndSavepoint(keep bool, failed func(error)) error {
	f.ends++
	if f.ends == f.failEndAt {
		return errors.New("disk I/O error")
	}
	f.ops = append(f.ops, map[bool]string{true: "release", false: "rollback to"}[keep])
	if keep && f.ends == f.lateAt {
		f.late = failed
	}
	return nil
}
func (f *fakeBatch) Commit() error {
	if f.late != nil {
		f.late(errLate) // the held-back statements fail as they reach the database
	}
	f.committed = f.failCommit == nil
	return f.failCommit
}
func (f *fakeBatch) Rollback() { f.rolledBack = !f.committed }

func requests(changes ...func(latchkey.Tx) error) []*request {
	var rs []*request
	for _, c := range changes {
		rs = append(rs, &request{ctx: context.Background(), change: c, result: make(chan error, 1)})
	}
	return rs
}

func results(rs []*request) []error {
	var out []error
	for _, r := range rs {
		out = append(out, <-r.result)
	}
	return out
}

var (
	ok      = func(latchkey.Tx) error { return nil }
	errBoom = errors.New("errBoom")
	errLate = errors.New("a held-back statement failed")
	fails   = func(latchkey.Tx) error { return errBoom }
	panics  = func(latchkey.Tx) error { panic("a bug") }
)

func writerOver(f *fakeBatch) *Writer {
	return &Writer{begin: func() (Batch, error) { return f, nil }, format: func(err error) error { return err }}
}

// Each change runs in its own savepoint: a failure and a panic roll back to theirs and
// are answered alone; a caller that gave up is skipped; the rest commit once, together.
func TestBatchKeepsFailuresApart(t *testing.T) {
	f := &fakeBatch{}
	rs := requests(ok, fails, panics, ok, ok)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	rs[4].ctx = cancelled
	w := writerOver(f)
	w.commit(rs)
	got := results(rs)
	if st := w.Stats(); st.Batches != 1 || st.Changes != 5 || st.Mixed != 1 {
		t.Errorf("stats %+v, want one mixed batch of five changes", st)
	}
	if got[0] != nil || got[3] != nil {
		t.Errorf("successes answered %v, %v", got[0], got[3])
	}
	if !errors.Is(got[1], errBoom) {
		t.Errorf("the failing change answered %v, want its own error", got[1])
	}
	if latchkey.ErrorCode(got[2]) != latchkey.EINTERNAL || !strings.Contains(latchkey.ErrorMessage(got[2]), "a bug") {
		t.Errorf("the panicking change answered %v", got[2])
	}
	if !errors.Is(got[4], context.Canceled) {
		t.Errorf("the cancelled caller answered %v", got[4])
	}
	want := "savepoint release savepoint rollback to savepoint rollback to savepoint release"
	if strings.Join(f.ops, " ") != want || !f.committed {
		t.Errorf("ops %q (committed %v), want %q then one commit", strings.Join(f.ops, " "), f.committed, want)
	}
	w.commit(requests(ok, ok))
	if st := w.Stats(); st.Batches != 2 || st.Mixed != 1 {
		t.Errorf("after a batch of successes only: stats %+v, want it not counted as mixed", st)
	}
}

// When the transaction cannot go on, or the flush fails, no change of the batch is
// reported kept.
func TestBatchFailsWhole(t *testing.T) {
	f := &fakeBatch{failEndAt: 2}
	rs := requests(ok, fails, ok)
	writerOver(f).commit(rs)
	for i, err := range results(rs) {
		if err == nil || !strings.Contains(err.Error(), "disk I/O") {
			t.Errorf("change %d answered %v after the transaction broke", i, err)
		}
	}
	if f.committed || !f.rolledBack {
		t.Errorf("a broken batch: committed %v, rolled back %v", f.committed, f.rolledBack)
	}

	f = &fakeBatch{failCommit: errors.New("no space left on device")}
	rs = requests(ok, fails)
	writerOver(f).commit(rs)
	got := results(rs)
	if got[0] == nil || !strings.Contains(got[0].Error(), "no space") {
		t.Errorf("a success whose flush failed answered %v", got[0])
	}
	if !errors.Is(got[1], errBoom) {
		t.Errorf("a failure in a batch whose flush failed answered %v, want its own error", got[1])
	}
}

// Through the running writer: changes are answered, and after Close a change is refused
// as unavailable rather than left waiting.
func TestWriterUpdateAndClose(t *testing.T) {
	f := &fakeBatch{}
	w := Start(func() (Batch, error) { return f, nil }, func(err error) error { return err })
	if err := w.Update(context.Background(), ok); err != nil {
		t.Fatal(err)
	}
	if err := w.Update(context.Background(), fails); !errors.Is(err, errBoom) {
		t.Fatalf("a failing change: %v", err)
	}
	w.Close()
	w.Close() // twice is harmless
	if err := w.Update(context.Background(), ok); latchkey.ErrorCode(err) != latchkey.EUNAVAILABLE {
		t.Fatalf("a change after Close: %v, want unavailable", err)
	}
}

// A change whose held-back statements fail late, when the commit sends them, is answered
// with their error; the changes beside it commit.
func TestLateFailureFailsOneChange(t *testing.T) {
	f := &fakeBatch{lateAt: 2}
	rs := requests(ok, ok, ok)
	writerOver(f).commit(rs)
	got := results(rs)
	if got[0] != nil || got[2] != nil || !errors.Is(got[1], errLate) {
		t.Errorf("answers %v, want the second change alone to fail with its late error", got)
	}
	if !f.committed {
		t.Error("the batch did not commit")
	}
}
