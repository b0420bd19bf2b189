package storetest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
)

// Attacker reaches a store's tables behind its back, as someone with write access to the
// database (but not the vault key) would: Exec runs one SQL statement with no
// arguments; DropTriggers removes the audit log's append-only triggers.
type Attacker struct {
	Exec         func(query string) error
	DropTriggers []string
	Service      *latchkey.Service // the service the log was written through (set by the suite)
}

// RunAuditAttacks cuts the audit log short, rewrites an entry with every later hash
// recomputed, strips authentication, and removes or moves the head, each on a fresh
// store; `audit verify` must name each. open returns a fresh store and its attacker.
func RunAuditAttacks(t *testing.T, open func(t *testing.T) (latchkey.Store, Attacker)) {
	attacks := []struct {
		name  string
		do    func(t *testing.T, a Attacker, entries []*latchkey.AuditEntry)
		names string // what the verification error must say
	}{
		{"Truncation", func(t *testing.T, a Attacker, _ []*latchkey.AuditEntry) {
			mustExec(t, a, `DELETE FROM audit WHERE seq > 4`)
		}, "entries 5 to 6 were removed"},
		{"TruncationWithHeadMovedBack", func(t *testing.T, a Attacker, e []*latchkey.AuditEntry) {
			mustExec(t, a, `DELETE FROM audit WHERE seq > 4`)
			// The attacker has entry 4's own hash and MAC, but not the head's key label.
			mustExec(t, a, fmt.Sprintf(`UPDATE audit_head SET seq = 4, hash = '%s', mac = '%s'`, e[3].Hash, e[3].MAC))
		}, "was altered"},
		{"HeadRemoved", func(t *testing.T, a Attacker, _ []*latchkey.AuditEntry) {
			mustExec(t, a, `DELETE FROM audit_head`)
		}, "is missing"},
		{"TruncationWithHeadRemovedThenAWrite", func(t *testing.T, a Attacker, _ []*latchkey.AuditEntry) {
			mustExec(t, a, `DELETE FROM audit WHERE seq > 4`)
			mustExec(t, a, `DELETE FROM audit_head`)
			// The next change must not record a new head over the cut.
			s := a.Service
			err := s.CreatePerson(ctx(), &latchkey.Person{Name: "Next", Role: latchkey.RoleGuest})
			if latchkey.ErrorCode(err) != latchkey.EUNAVAILABLE {
				t.Fatalf("a change on a log cut with its head: %v; want it refused", err)
			}
		}, "is missing"},
		{"EntriesAppended", func(t *testing.T, a Attacker, e []*latchkey.AuditEntry) {
			forged := *e[5]
			forged.Detail = `{"name":"Mallory"}`
			forged.Seal(e[5])
			mustExec(t, a, insertEntry(&forged))
		}, "entry 7"},
		{"RewriteRecomputingHashes", func(t *testing.T, a Attacker, e []*latchkey.AuditEntry) {
			rewrite(t, a, e, 2, false)
		}, "entry 3"},
		{"RewriteRecomputingHashesAndHead", func(t *testing.T, a Attacker, e []*latchkey.AuditEntry) {
			last := rewrite(t, a, e, 2, false)
			mustExec(t, a, fmt.Sprintf(`UPDATE audit_head SET hash = '%s'`, last.Hash))
		}, "entry 3"},
		{"RewriteStrippingAuthentication", func(t *testing.T, a Attacker, e []*latchkey.AuditEntry) {
			rewrite(t, a, e, 2, true)
		}, "entry 3"},
		{"EverythingStripped", func(t *testing.T, a Attacker, e []*latchkey.AuditEntry) {
			rewrite(t, a, e, 0, true)
			mustExec(t, a, `DELETE FROM audit_head`)
		}, "not authenticated"},
	}
	for _, tt := range attacks {
		t.Run(tt.name, func(t *testing.T) {
			store, a := open(t)
			defer store.Close()
			s := NewService(t, store)
			for i := range 6 {
				must(t, s.CreatePerson(ctx(), &latchkey.Person{Name: fmt.Sprintf("Person %d", i), Role: latchkey.RoleGuest}))
			}
			var entries []*latchkey.AuditEntry
			must(t, store.View(ctx(), func(tx latchkey.Tx) (err error) {
				entries, err = tx.FindAudit(ctx(), 0, 100)
				return err
			}))
			if n, err := s.VerifyAuditLog(ctx()); err != nil || n != 6 {
				t.Fatalf("before the attack: %d entries, %v", n, err)
			}
			for _, q := range a.DropTriggers {
				mustExec(t, a, q)
			}
			a.Service = s
			tt.do(t, a, entries)
			_, err := s.VerifyAuditLog(ctx())
			if latchkey.ErrorCode(err) != latchkey.EINVALID || !strings.Contains(latchkey.ErrorMessage(err), tt.names) {
				t.Fatalf("after the attack, verify says %v; want it to say %q", err, tt.names)
			}
		})
	}
}

// rewrite changes entry i's detail and seals it and every later entry again, as an
// attacker who knows the (public) hash would, and writes them back; strip also removes
// their MACs (from entry i on). It returns the new last entry.
func rewrite(t *testing.T, a Attacker, entries []*latchkey.AuditEntry, i int, strip bool) *latchkey.AuditEntry {
	t.Helper()
	var prev *latchkey.AuditEntry
	if i > 0 {
		prev = entries[i-1]
	}
	for j := i; j < len(entries); j++ {
		e := *entries[j]
		if j == i {
			e.Detail = strings.Replace(e.Detail, "Person", "Nobody", 1)
		}
		e.Seal(prev)
		mac := e.MAC
		if strip {
			mac = ""
		}
		mustExec(t, a, fmt.Sprintf(`UPDATE audit SET detail = '%s', prev_hash = '%s', hash = '%s', mac = '%s' WHERE seq = %d`,
			strings.ReplaceAll(e.Detail, "'", "''"), e.PrevHash, e.Hash, mac, e.Seq))
		prev = &e
	}
	return prev
}

func insertEntry(e *latchkey.AuditEntry) string {
	return fmt.Sprintf(`INSERT INTO audit (seq, at, actor, action, entity, entity_id, detail, prev_hash, hash, mac) VALUES (%d, '%s', '%s', '%s', '%s', %d, '%s', '%s', '%s', '%s')`,
		e.Seq, e.At.UTC().Format("2006-01-02T15:04:05.999999999Z07:00"), e.Actor, e.Action, e.Entity, e.EntityID,
		strings.ReplaceAll(e.Detail, "'", "''"), e.PrevHash, e.Hash, e.MAC)
}

func mustExec(t *testing.T, a Attacker, query string) {
	t.Helper()
	if err := a.Exec(query); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}
