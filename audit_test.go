package latchkey_test

import (
	"reflect"
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

// TestAuditHashCoversEveryField changes each field of an entry in turn, found by
// reflection so that a field added later is covered too, and expects verification to
// name the entry. The last entry is tampered with: no later link can give it away, so
// only its own hash can.
func TestAuditHashCoversEveryField(t *testing.T) {
	typ := reflect.TypeFor[latchkey.AuditEntry]()
	for i := range typ.NumField() {
		field := typ.Field(i)
		if field.Name == "Hash" || field.Name == "MAC" {
			continue // what the others are checked against (storetest.RunAuditAttacks covers the MAC)
		}
		t.Run(field.Name, func(t *testing.T) {
			entries := chain(5)
			v := reflect.ValueOf(entries[4]).Elem().Field(i)
			switch v.Interface().(type) {
			case string:
				v.SetString(v.String() + "x")
			case int64:
				v.SetInt(v.Int() + 1)
			case time.Time:
				v.Set(reflect.ValueOf(v.Interface().(time.Time).Add(time.Nanosecond)))
			default:
				t.Fatalf("field %s of type %s: teach this test to change it", field.Name, field.Type)
			}
			err := latchkey.VerifyAudit(nil, entries)
			if latchkey.ErrorCode(err) != latchkey.EINVALID || !strings.Contains(latchkey.ErrorMessage(err), "entry 5") {
				t.Fatalf("changing %s: got %v, want an error naming entry 5", field.Name, err)
			}
		})
	}
}
