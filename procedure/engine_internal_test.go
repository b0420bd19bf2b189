package procedure

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/catalog"
	"github.com/latchkey/latchkey/sqlite"
	"github.com/latchkey/latchkey/storetest"
)

// countingHands confirm every step as asked, counting what they do.
type countingHands struct {
	mu   sync.Mutex
	done []string
}

func (h *countingHands) Do(ctx context.Context, r *latchkey.Run, st *latchkey.Step) (latchkey.Advance, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.done = append(h.done, st.ID)
	a := latchkey.Advance{Step: st.ID, Attest: st.Attest}
	if slices.Contains(st.Evidence, "bitting") {
		a.Evidence = map[string]string{"bitting": "46353"}
	}
	return a, nil
}

func (h *countingHands) Mistakes() []string { return nil }

// A pass reads the runs before it marks one busy; a step another goroutine did meanwhile
// is not done again at the lock from that stale copy: the run's current step is.
func TestWorkSkipsAStaleRun(t *testing.T) {
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	svc := storetest.NewService(t, db)
	ctx := latchkey.NewContextWithActor(context.Background(), "ana")
	site := &latchkey.Site{Name: "Home", TimeZone: "UTC"}
	must(t, svc.CreateSite(ctx, site))
	door := &latchkey.Door{SiteID: site.ID, Name: "Side"}
	must(t, svc.CreateDoor(ctx, door))
	l := &latchkey.Lock{DoorID: door.ID, Name: "side", ModelID: "smartkey", HasSmartKey: true}
	must(t, svc.CreateLock(ctx, l))
	key := &latchkey.Key{SiteID: site.ID, Label: "House key", Bitting: "35242"}
	must(t, svc.CreateKey(ctx, key))
	_, err = svc.SetLockKey(ctx, l.ID, key.ID)
	must(t, err)

	hands := &countingHands{}
	e := New(svc, catalog.Default())
	e.Hands["sim"] = hands
	stale, err := e.StartProcedure(ctx, latchkey.ProcedureRequest{Kind: latchkey.ProcedureRekey, LockIDs: []int64{l.ID}, Hands: "sim"})
	must(t, err)
	fresh := *stale
	if wait := e.work(ctx, &fresh); wait != 0 {
		t.Fatalf("the first step: wait %s", wait)
	}
	if wait := e.work(ctx, stale); wait != 0 || !slices.Equal(hands.done, []string{"ready", "new-key"}) {
		t.Fatalf("a stale copy of the run: wait %s, the hands did %v", wait, hands.done)
	}
	r, err := svc.FindRunByID(ctx, stale.ID)
	must(t, err)
	if r.Current != 2 || len(r.Records) != 2 {
		t.Fatalf("the run after one step: at %d with %d records", r.Current, len(r.Records))
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
