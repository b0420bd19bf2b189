package sqlite_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/storetest"
)

// Codes stored through the service appear in neither the database file nor its WAL,
// searched while the database is open (the WAL holds the newest pages then).
func TestNoPlaintextInDatabaseOrWAL(t *testing.T) {
	db := MustOpen(t)
	defer db.Close()
	s := storetest.NewService(t, db)
	ctx := latchkey.NewContextWithActor(context.Background(), "tester")
	site := &latchkey.Site{Name: "Home", TimeZone: "UTC"}
	must(t, s.CreateSite(ctx, site))
	door := &latchkey.Door{SiteID: site.ID, Name: "Front"}
	must(t, s.CreateDoor(ctx, door))
	var codes []string
	for i := range 3 {
		l := &latchkey.Lock{DoorID: door.ID, Name: fmt.Sprintf("Lock %d", i), ModelID: "916"}
		must(t, s.CreateLock(ctx, l))
		p := &latchkey.Person{Name: fmt.Sprintf("P%d", i), Role: latchkey.RoleTenant}
		must(t, s.CreatePerson(ctx, p))
		for j := range 3 {
			code := fmt.Sprintf("9%d%d41736", i, j)
			codes = append(codes, code)
			_, _, err := s.CreateCode(ctx, latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: code[:2]}, PIN: code, LockIDs: []int64{l.ID}})
			must(t, err)
		}
	}
	wal, err := os.ReadFile(db.Path() + "-wal")
	if err != nil || len(wal) == 0 {
		t.Fatalf("no WAL to search while the database is open: %v", err)
	}
	main, err := os.ReadFile(db.Path())
	if err != nil {
		t.Fatal(err)
	}
	for _, code := range codes {
		for name, b := range map[string][]byte{"database": main, "WAL": wal} {
			if bytes.Contains(b, []byte(code)) {
				t.Errorf("the %s contains the plaintext code %s", name, code)
			}
		}
	}
	// The test would see a plaintext: a label is stored as is, and is found.
	if !bytes.Contains(wal, []byte("Lock 2")) && !bytes.Contains(main, []byte("Lock 2")) {
		t.Fatal("the search finds nothing at all; it could not catch a plaintext code either")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
