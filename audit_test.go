package latchkey_test

import (
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

func chain(n int) []*latchkey.AuditEntry {
	var out []*latchkey.AuditEntry
	var prev *latchkey.AuditEntry
	for i := range n {
		e := &latchkey.AuditEntry{At: time.Date(2026, 1, 1, 0, i, 0, 0, time.UTC), Actor: "ana", Action: "lock.create",
			Entity: "lock", EntityID: int64(i + 1), Detail: `{"name":"Front"}`}
		e.Seal(prev)
		out, prev = append(out, e), e
	}
	return out
}

func TestVerifyAudit(t *testing.T) {
	if err := latchkey.VerifyAudit(nil, chain(5)); err != nil {
		t.Fatalf("intact chain: %v", err)
	}
	tests := []struct {
		name   string
		tamper func([]*latchkey.AuditEntry) []*latchkey.AuditEntry
		entry  string // the entry the error must name
	}{
		{"ErrChangedDetail", func(c []*latchkey.AuditEntry) []*latchkey.AuditEntry { c[2].Detail = `{"name":"Fronu"}`; return c }, "entry 3"},
		{"ErrChangedActor", func(c []*latchkey.AuditEntry) []*latchkey.AuditEntry { c[1].Actor = "bob"; return c }, "entry 2"},
		{"ErrChangedTime", func(c []*latchkey.AuditEntry) []*latchkey.AuditEntry { c[4].At = c[4].At.Add(time.Second); return c }, "entry 5"},
		{"ErrRemoved", func(c []*latchkey.AuditEntry) []*latchkey.AuditEntry { return append(c[:2], c[3:]...) }, "entry 4"},
		{"ErrReordered", func(c []*latchkey.AuditEntry) []*latchkey.AuditEntry { c[1], c[2] = c[2], c[1]; return c }, "entry 3"},
		{"ErrResealed", func(c []*latchkey.AuditEntry) []*latchkey.AuditEntry {
			// Rewriting an entry and its own hash still breaks the link to the next one.
			c[1].Detail = "{}"
			c[1].Seal(c[0])
			return c
		}, "entry 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := latchkey.VerifyAudit(nil, tt.tamper(chain(5)))
			if latchkey.ErrorCode(err) != latchkey.EINVALID || !strings.Contains(latchkey.ErrorMessage(err), tt.entry) {
				t.Fatalf("got %v, want an error naming %s", err, tt.entry)
			}
		})
	}
}
