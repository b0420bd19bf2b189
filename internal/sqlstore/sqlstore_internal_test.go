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
func (textDialect) Bool(b bool) any                               { return b }
func (textDialect) AfterExplicitID(string, int64) (string, []any) { return "", nil }
func (textDialect) Classify(error) (Fault, string)                { return FaultNone, "" }

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

// The audit head remembered in a batch follows each change: kept, or taken back with a
// change rolled back.
func TestAuditHead(t *testing.T) {
	tx := &Tx{d: textDialect{}, head: &auditHead{}}
	first, second := &latchkey.AuditHead{Seq: 1}, &latchkey.AuditHead{Seq: 2}
	tx.BeginChange()
	tx.head.set(first)
	tx.EndChange(true)
	tx.BeginChange()
	tx.head.set(second)
	tx.EndChange(false)
	if e, ok := tx.head.get(); !ok || e.Seq != 1 {
		t.Fatalf("after a rolled-back change: %+v, %v; want the head at entry 1", e, ok)
	}
	e, _ := tx.head.get()
	e.Seq = 99 // a copy: the caller may not change what is remembered
	if e, _ := tx.head.get(); e.Seq != 1 {
		t.Fatalf("the remembered head was changed through a copy: %+v", e)
	}
}
