package sqlite_test

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/storetest"
)

// Changing one byte of one audit entry in the database file, behind the append-only
// triggers' back, makes verification fail and name that entry.
func TestAuditTamperDetected(t *testing.T) {
	db := MustOpen(t)
	s := storetest.NewService(t, db)
	ctx := testCtx()
	for i := range 5 {
		if err := s.CreatePerson(ctx, &latchkey.Person{Name: fmt.Sprintf("Person %d", i), Role: latchkey.RoleGuest}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.VerifyAuditLog(ctx); err != nil || n != 5 {
		t.Fatalf("before tampering: %d entries, %v", n, err)
	}
	// Through SQL, the log refuses changes.
	raw, err := sql.Open("sqlite", db.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`UPDATE audit SET actor = 'mallory' WHERE seq = 3`); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Fatalf("update through SQL: %v", err)
	}
	// An attacker who drops the trigger and flips one byte is still caught.
	for _, q := range []string{`DROP TRIGGER audit_no_update`,
		`UPDATE audit SET detail = replace(detail, 'Person 2', 'Person 7') WHERE seq = 3`} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	_, err = s.VerifyAuditLog(ctx)
	if latchkey.ErrorCode(err) != latchkey.EINVALID || !strings.Contains(latchkey.ErrorMessage(err), "entry 3") {
		t.Fatalf("after tampering: %v; want an error naming entry 3", err)
	}
}

// Each column of an audit entry, changed in turn through SQL behind the trigger's back,
// is named by verification: the hash covers every one of them.
func TestAuditEveryColumnTamperDetected(t *testing.T) {
	db := MustOpen(t)
	s := storetest.NewService(t, db)
	ctx := testCtx()
	for i := range 5 {
		if err := s.CreatePerson(ctx, &latchkey.Person{Name: fmt.Sprintf("Person %d", i), Role: latchkey.RoleGuest}); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := sql.Open("sqlite", db.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`DROP TRIGGER audit_no_update`); err != nil {
		t.Fatal(err)
	}
	// The last entry: no later link gives it away, only its own hash.
	changes := map[string]string{
		"at":        `at = replace(at, '2026', '2025')`,
		"actor":     `actor = 'mallory'`,
		"action":    `action = 'person.delete'`,
		"entity":    `entity = 'lock'`,
		"entity_id": `entity_id = entity_id + 1`,
		"detail":    `detail = replace(detail, 'Person 4', 'Person 9')`,
		"prev_hash": `prev_hash = replace(prev_hash, substr(prev_hash, 1, 1), 'x')`,
		"hash":      `hash = replace(hash, substr(hash, 1, 1), 'x')`,
		"seq":       `seq = 6`,
	}
	for column, set := range changes {
		t.Run(column, func(t *testing.T) {
			var before any
			if err := raw.QueryRow(`SELECT ` + column + ` FROM audit WHERE seq = 5`).Scan(&before); err != nil {
				t.Fatal(err)
			}
			if _, err := raw.Exec(`UPDATE audit SET ` + set + ` WHERE seq = 5`); err != nil {
				t.Fatal(err)
			}
			_, err := s.VerifyAuditLog(ctx)
			if latchkey.ErrorCode(err) != latchkey.EINVALID || !strings.Contains(latchkey.ErrorMessage(err), "entry 5") {
				t.Errorf("after changing %s: %v; want an error naming entry 5", column, err)
			}
			where := `seq = 5`
			if column == "seq" {
				where = `seq = 6`
			}
			if _, err := raw.Exec(`UPDATE audit SET `+column+` = ? WHERE `+where, before); err != nil {
				t.Fatal(err)
			}
			if _, err := s.VerifyAuditLog(ctx); err != nil {
				t.Fatalf("after putting %s back: %v", column, err)
			}
		})
	}
}

// The audit log cut short, rewritten with its hashes recomputed, stripped of its
// authentication, or its head removed or moved, through SQL behind the store's back:
// `audit verify` names each (storetest.RunAuditAttacks).
func TestAuditAttacks(t *testing.T) {
	storetest.RunAuditAttacks(t, func(t *testing.T) (latchkey.Store, storetest.Attacker) {
		db := MustOpen(t)
		raw, err := sql.Open("sqlite", db.Path())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { raw.Close() })
		return db, storetest.Attacker{
			Exec:         func(q string) error { _, err := raw.Exec(q); return err },
			DropTriggers: []string{`DROP TRIGGER audit_no_update`, `DROP TRIGGER audit_no_delete`, `DROP TRIGGER audit_head_no_delete`},
		}
	})
}
