package sqlstore

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// textDialect is a dialect that stores times as text, as SQLite does.
type textDialect struct{}

func (textDialect) Rebind(q string) string { return q }
func (textDialect) Time(t time.Time) any   { return t.Format(time.RFC3339Nano) }
func (textDialect) DecodeTime(src any) (time.Time, error) {
	return time.Parse(time.RFC3339Nano, src.(string))
}
func (textDialect) Bool(b bool) any                { return b }
func (textDialect) Classify(error) (Fault, string) { return FaultNone, "" }

// bind refuses what one store would keep and the other not, before either sees it, and
// encodes the rest for the dialect.
func TestBind(t *testing.T) {
	tx := &Tx{d: textDialect{}}
	for _, c := range []struct {
		name string
		arg  any
		want error
	}{
		{"NUL", "a\x00b", errNUL},
		{"invalid UTF-8", "caf\xe9", errInvalidText},
		{"named string with NUL", latchkey.LockStatus("ok\x00"), errNUL},
		{"long key text", keyText(strings.Repeat("x", maxKeyText+1)), errKeyTooLong},
		{"year 10000", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), errTimeRange},
		{"year 0", time.Date(0, 12, 31, 0, 0, 0, 0, time.UTC), errTimeRange},
	} {
		if _, err := tx.bind([]any{c.arg}); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	at := time.Date(2026, 5, 1, 8, 0, 0, 123456789, time.FixedZone("CEST", 2*3600))
	got, err := tx.bind([]any{latchkey.LockOK, keyText(strings.Repeat("x", maxKeyText)), at, (*time.Time)(nil), int64(1) << 40})
	if err != nil {
		t.Fatal(err)
	}
	if got[0] != "ok" || got[2] != "2026-05-01T06:00:00.123456Z" || got[3] != nil || got[4] != int64(1)<<40 {
		t.Errorf("bound %#v", got)
	}
}

// An insertion has a form where the database numbers the row, and one that keeps its id.
func TestInsertion(t *testing.T) {
	ins := newInsertion("doors", "site_id, name")
	if ins.numbered != `INSERT INTO doors (site_id, name) VALUES (?, ?) RETURNING id` ||
		ins.withID != `INSERT INTO doors (id, site_id, name) VALUES (?, ?, ?)` {
		t.Errorf("insertion %+v", ins)
	}
}

// The newest audit entry remembered in a batch follows each change: kept, or taken back
// with a change rolled back.
func TestAuditHead(t *testing.T) {
	h := &auditHead{}
	h.set(nil) // read: the log is empty
	first := &latchkey.AuditEntry{Seq: 1, Hash: "h1"}
	second := &latchkey.AuditEntry{Seq: 2, PrevHash: "h1", Hash: "h2"}
	h.begin()
	h.appended(first, nil, false)
	h.end(true)
	h.begin()
	h.appended(second, nil, false)
	h.end(false)
	if e, ok := h.get(); !ok || e.Seq != 1 {
		t.Fatalf("after a rolled-back change: %+v, %v; want entry 1", e, ok)
	}
	e, _ := h.get()
	e.Seq = 99 // a copy: the caller may not change what is remembered
	if e, _ := h.get(); e.Seq != 1 {
		t.Fatalf("the remembered entry was changed through a copy: %+v", e)
	}
}

// When a change fails late, the held entries of the changes after it are sealed again
// after the entry before it, and the statements that will send them say so.
func TestAuditHeadLateFailure(t *testing.T) {
	h := &auditHead{}
	h.set(nil)
	var entries []*latchkey.AuditEntry
	var args [][]any
	prev := (*latchkey.AuditEntry)(nil)
	for i := range 4 { // changes 1 to 4, one entry each
		e := &latchkey.AuditEntry{At: time.Date(2026, 5, 1, 12, i, 0, 0, time.UTC), Actor: "tester", Action: "person.create", Entity: "person", EntityID: int64(i)}
		e.Seal(prev)
		a := []any{e.Seq, e.At, e.Actor, e.Action, e.Entity, e.EntityID, e.Detail, e.PrevHash, e.Hash}
		h.begin()
		h.appended(e, a, true)
		h.end(true)
		entries, args, prev = append(entries, e), append(args, a), e
	}
	h.lateFailure(2)
	if err := latchkey.VerifyAudit(nil, []*latchkey.AuditEntry{entries[0], entries[2], entries[3]}); err != nil {
		t.Fatalf("the chain without change 2: %v", err)
	}
	for _, i := range []int{2, 3} {
		if args[i][argSeq] != entries[i].Seq || args[i][argPrevHash] != entries[i].PrevHash || args[i][argHash] != entries[i].Hash {
			t.Errorf("the statement of entry %d still holds %v", entries[i].Seq, args[i])
		}
	}
	if e, ok := h.get(); !ok || e.Seq != 3 || e.Hash != entries[3].Hash {
		t.Errorf("newest entry after the late failure: %+v, %v", e, ok)
	}
}
