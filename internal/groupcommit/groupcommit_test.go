package groupcommit

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
)

// fakeStore begins a fake transaction each time the writer asks for one, and keeps them
// in order.
type fakeStore struct {
	txs        []*fakeBatch
	failEndAt  int    // in the first transaction, the nth EndSavepoint (1-based) fails; 0 never
	failCommit error  // the first transaction's commit fails with it
	onCommit   func() // called as a transaction commits
}

func (s *fakeStore) begin() (Batch, error) {
	b := &fakeBatch{store: s}
	if len(s.txs) == 0 {
		b.failEndAt, b.failCommit = s.failEndAt, s.failCommit
	}
	s.txs = append(s.txs, b)
	return b, nil
}

// fakeBatch records what the writer asks of a transaction. As PostgreSQL's pipeline
// does, it holds a kept change's last statements back (see holds) and sends them with
// the next statement whose answer is needed (see reads) or with the commit; should one
// fail then, it reports the failure late and gives the transaction up.
type fakeBatch struct {
	store      *fakeStore
	ops        []string
	current    []error   // what the running change holds back: each statement's failure, or nil
	aborted    bool      // a statement of the running change failed, and it went on
	held       []pending // what kept changes held back, not yet sent
	broken     bool
	failEndAt  int
	failCommit error
	ends       int
	committed  bool
	rolledBack bool
}

// pending is a kept change's held statement: err is how it fails once sent (nil: it
// succeeds), failed how to report that.
type pending struct {
	err    error
	failed func(error)
}

var errGivenUp = errors.New("the transaction was given up")

func (f *fakeBatch) Savepoint() error {
	if f.broken {
		return errGivenUp
	}
	f.ops = append(f.ops, "savepoint")
	return nil
}

func (f *fakeBatch) Tx() latchkey.Tx { return &fakeTx{b: f} }

func (f *fakeBatch) EndSavepoint(keep bool, failed func(error)) error {
	if f.broken {
		return errGivenUp
	}
	f.ends++
	if f.ends == f.failEndAt {
		return errors.New("disk I/O error")
	}
	if keep && f.aborted {
		failed(errAborted) // a failure the change swallowed: it cannot be kept
		keep = false
	}
	f.ops = append(f.ops, map[bool]string{true: "release", false: "rollback to"}[keep])
	if keep {
		for _, err := range f.current {
			f.held = append(f.held, pending{err, failed})
		}
	}
	f.current, f.aborted = nil, false
	return nil
}

// send sends what kept changes held back. The first statement that fails is reported
// as its change's, late, and the transaction is given up.
func (f *fakeBatch) send() error {
	if f.broken {
		return errGivenUp
	}
	held := f.held
	f.held = nil
	for _, p := range held {
		if p.err != nil {
			p.failed(p.err)
			f.broken = true
			return errGivenUp
		}
	}
	return nil
}

func (f *fakeBatch) Commit() error {
	if err := f.send(); err != nil {
		return err
	}
	if f.store.onCommit != nil {
		f.store.onCommit()
	}
	f.committed = f.failCommit == nil
	f.ops = append(f.ops, "commit")
	return f.failCommit
}

func (f *fakeBatch) Rollback() { f.rolledBack = !f.committed }

// fakeTx is what a change runs on; it offers only what the tests' changes use.
type fakeTx struct {
	latchkey.Tx
	b *fakeBatch
}

var errAborted = errors.New("a statement of the change failed")

func holds(err error) func(latchkey.Tx) error {
	return func(tx latchkey.Tx) error {
		b := tx.(*fakeTx).b
		b.current = append(b.current, err)
		return nil
	}
}

// reads runs a statement whose answer the change needs: what is held is sent with it.
func reads(tx latchkey.Tx) error { return tx.(*fakeTx).b.send() }

// swallows runs a statement that fails, and returns nil.
func swallows(tx latchkey.Tx) error { tx.(*fakeTx).b.aborted = true; return nil }

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

// counted returns change, counting its runs in *n.
func counted(n *int, change func(latchkey.Tx) error) func(latchkey.Tx) error {
	return func(tx latchkey.Tx) error { *n++; return change(tx) }
}

var (
	ok      = func(latchkey.Tx) error { return nil }
	errBoom = errors.New("errBoom")
	errDup  = errors.New("that name is taken")
	errDup2 = errors.New("that other name is taken")
	fails   = func(latchkey.Tx) error { return errBoom }
	panics  = func(latchkey.Tx) error { panic("a bug") }
)

func writerOver(s *fakeStore) *Writer {
	return &Writer{begin: s.begin, format: func(err error) error { return err }}
}

// opsOf returns what the writer asked of each transaction, one line each.
func opsOf(s *fakeStore) string {
	var lines []string
	for _, b := range s.txs {
		end := "open"
		switch {
		case b.committed:
			end = "committed"
		case b.rolledBack:
			end = "rolled back"
		}
		lines = append(lines, strings.Join(b.ops, " ")+" => "+end)
	}
	return strings.Join(lines, "\n")
}

// notAnswered fails unless none of rs has been answered yet.
func notAnswered(t *testing.T, what string, rs ...*request) {
	t.Helper()
	for _, r := range rs {
		if len(r.result) != 0 {
			t.Errorf("%s: a change was answered before its transaction committed", what)
		}
	}
}

// Each change runs in its own savepoint: a failure and a panic roll back to theirs and
// are answered alone; a caller that gave up is skipped; the rest commit once, together.
func TestBatchKeepsFailuresApart(t *testing.T) {
	s := &fakeStore{}
	rs := requests(ok, fails, panics, ok, ok)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	rs[4].ctx = cancelled
	w := writerOver(s)
	w.commit(rs)
	got := results(rs)
	if st := w.Stats(); st.Batches != 1 || st.Changes != 5 || st.Mixed != 1 || st.GivenUp != 0 || st.Rerun != 0 {
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
	if want := "savepoint release savepoint rollback to savepoint rollback to savepoint release commit => committed"; opsOf(s) != want {
		t.Errorf("ops\n%s\nwant\n%s", opsOf(s), want)
	}
	w.commit(requests(ok, ok))
	if st := w.Stats(); st.Batches != 2 || st.Mixed != 1 {
		t.Errorf("after a batch of successes only: stats %+v, want it not counted as mixed", st)
	}
}

// When the transaction cannot go on, or the flush fails, no change of the batch is
// reported kept.
func TestBatchFailsWhole(t *testing.T) {
	s := &fakeStore{failEndAt: 2}
	rs := requests(ok, fails, ok)
	writerOver(s).commit(rs)
	for i, err := range results(rs) {
		if err == nil || !strings.Contains(err.Error(), "disk I/O") {
			t.Errorf("change %d answered %v after the transaction broke", i, err)
		}
	}
	if len(s.txs) != 1 || s.txs[0].committed || !s.txs[0].rolledBack {
		t.Errorf("a broken batch:\n%s", opsOf(s))
	}

	s = &fakeStore{failCommit: errors.New("no space left on device")}
	rs = requests(ok, fails)
	writerOver(s).commit(rs)
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
	s := &fakeStore{}
	w := Start(s.begin, func(err error) error { return err })
	if err := w.Update(context.Background(), ok); err != nil {
		t.Fatal(err)
	}
	if err := w.Update(context.Background(), fails); !errors.Is(err, errBoom) {
		t.Fatalf("a failing change: %v", err)
	}
	if err := w.Update(context.Background(), holds(errDup)); !errors.Is(err, errDup) {
		t.Fatalf("a change that fails late: %v", err)
	}
	w.Close()
	w.Close() // twice is harmless
	if err := w.Update(context.Background(), ok); latchkey.ErrorCode(err) != latchkey.EUNAVAILABLE {
		t.Fatalf("a change after Close: %v, want unavailable", err)
	}
}

// A change whose held-back statement fails late, as a later change's statement is sent,
// is answered with that error alone. The transaction is given up, not repaired: every
// other change runs again, from scratch, in a new one (a change that had failed too,
// and the one whose statement carried the failure), and is kept or fails there.
func TestLateFailureMidBatch(t *testing.T) {
	s := &fakeStore{}
	var runs [5]int
	rs := requests(counted(&runs[0], fails), counted(&runs[1], ok), counted(&runs[2], holds(errDup)),
		counted(&runs[3], reads), counted(&runs[4], ok))
	s.onCommit = func() { notAnswered(t, "at the commit", rs[0], rs[1], rs[3], rs[4]) }
	w := writerOver(s)
	w.commit(rs)
	got := results(rs)
	if !errors.Is(got[0], errBoom) || got[1] != nil || !errors.Is(got[2], errDup) || got[3] != nil || got[4] != nil {
		t.Errorf("answers %v; want the early failure's own error, the late failure's own error, the rest kept", got)
	}
	if runs != [5]int{2, 2, 1, 2, 1} {
		t.Errorf("runs %v; want the changes before the late failure's discovery run twice, the failed one once", runs)
	}
	want := "savepoint rollback to savepoint release savepoint release savepoint => rolled back\n" +
		"savepoint rollback to savepoint release savepoint release savepoint release commit => committed"
	if opsOf(s) != want {
		t.Errorf("ops\n%s\nwant\n%s", opsOf(s), want)
	}
	if st := w.Stats(); st != (Stats{Batches: 1, Changes: 5, Mixed: 1, GivenUp: 1, Rerun: 3}) {
		t.Errorf("stats %+v", st)
	}
}

// A late failure found by the commit gives the transaction up too; the others are kept
// in the next.
func TestLateFailureAtCommit(t *testing.T) {
	s := &fakeStore{}
	var runs [3]int
	rs := requests(counted(&runs[0], ok), counted(&runs[1], holds(errDup)), counted(&runs[2], holds(nil)))
	s.onCommit = func() {
		if len(s.txs) == 2 {
			notAnswered(t, "at the second commit", rs[0], rs[2])
		}
	}
	w := writerOver(s)
	w.commit(rs)
	got := results(rs)
	if got[0] != nil || !errors.Is(got[1], errDup) || got[2] != nil {
		t.Errorf("answers %v; want the second change alone to fail, with its own error", got)
	}
	if runs != [3]int{2, 1, 2} {
		t.Errorf("runs %v", runs)
	}
	if len(s.txs) != 2 || s.txs[0].committed || !s.txs[0].rolledBack || !s.txs[1].committed {
		t.Errorf("ops\n%s\nwant the first transaction rolled back and the second committed", opsOf(s))
	}
	if st := w.Stats(); st != (Stats{Batches: 1, Changes: 3, Mixed: 1, GivenUp: 1, Rerun: 2}) {
		t.Errorf("stats %+v", st)
	}
}

// Late failures found one after another cost one transaction each: each run answers
// the change that failed, and the rest runs again until a transaction commits.
func TestRepeatedLateFailures(t *testing.T) {
	s := &fakeStore{}
	var runs [4]int
	rs := requests(counted(&runs[0], ok), counted(&runs[1], holds(errDup)), counted(&runs[2], holds(errDup2)), counted(&runs[3], ok))
	w := writerOver(s)
	w.commit(rs)
	got := results(rs)
	if got[0] != nil || !errors.Is(got[1], errDup) || !errors.Is(got[2], errDup2) || got[3] != nil {
		t.Errorf("answers %v; want each late failure answered with its own error, the others kept", got)
	}
	if runs != [4]int{3, 1, 2, 3} {
		t.Errorf("runs %v", runs)
	}
	if len(s.txs) != 3 || !s.txs[2].committed || s.txs[0].committed || s.txs[1].committed {
		t.Errorf("ops\n%s\nwant two transactions given up, then one committed", opsOf(s))
	}
	if st := w.Stats(); st != (Stats{Batches: 1, Changes: 4, Mixed: 1, GivenUp: 2, Rerun: 5}) {
		t.Errorf("stats %+v", st)
	}
}

// A change that began runs again though its caller gave up meanwhile: the caller waits
// for its answer. One that never began, and whose caller gave up before it could, gets
// the context's error.
func TestRerunAndCancelledCallers(t *testing.T) {
	s := &fakeStore{}
	began, cancelBegan := context.WithCancel(context.Background())
	waiting, cancelWaiting := context.WithCancel(context.Background())
	defer cancelBegan()
	defer cancelWaiting()
	rs := requests(ok, func(tx latchkey.Tx) error {
		cancelBegan()
		cancelWaiting()
		return holds(errDup)(tx)
	}, reads, ok)
	rs[0].ctx, rs[3].ctx = began, waiting
	writerOver(s).commit(rs)
	got := results(rs)
	if got[0] != nil || !errors.Is(got[1], errDup) || got[2] != nil || !errors.Is(got[3], context.Canceled) {
		t.Errorf("answers %v; want the begun change kept, the late failure's error, a kept change, the caller's cancellation", got)
	}
}

// A change that swallowed a failed statement and returned nil is refused when it ends,
// alone: the transaction goes on.
func TestSwallowedFailureFailsAlone(t *testing.T) {
	s := &fakeStore{}
	rs := requests(ok, swallows, ok)
	w := writerOver(s)
	w.commit(rs)
	got := results(rs)
	if got[0] != nil || !errors.Is(got[1], errAborted) || got[2] != nil {
		t.Errorf("answers %v", got)
	}
	if st := w.Stats(); len(s.txs) != 1 || st.GivenUp != 0 || st.Mixed != 1 {
		t.Errorf("stats %+v with %d transactions; want one, not given up", st, len(s.txs))
	}
}
