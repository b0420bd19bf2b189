package sqlstore

import (
	"fmt"
	"time"
)

// scanner is a Row, or the current row of Rows.
type scanner interface {
	Scan(dest ...any) error
}

// timeDest reads a time column as the dialect stores it, into UTC.
type timeDest struct {
	d Dialect
	t *time.Time
}

// Scan implements sql.Scanner.
func (s timeDest) Scan(src any) error {
	if src == nil {
		return fmt.Errorf("a time column is NULL")
	}
	t, err := s.d.DecodeTime(src)
	*s.t = t.UTC()
	return err
}

// nullTimeDest reads a time column that may be NULL (nil).
type nullTimeDest struct {
	d Dialect
	t **time.Time
}

// Scan implements sql.Scanner.
func (s nullTimeDest) Scan(src any) error {
	if src == nil {
		*s.t = nil
		return nil
	}
	var t time.Time
	if err := (timeDest{s.d, &t}).Scan(src); err != nil {
		return err
	}
	*s.t = &t
	return nil
}

// idDest reads a reference that may be NULL: 0 stands for none.
type idDest struct {
	id *int64
}

// Scan implements sql.Scanner.
func (s idDest) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*s.id = 0
	case int64:
		*s.id = v
	default:
		return fmt.Errorf("an id column holds %T", src)
	}
	return nil
}

// time returns a scan destination for a time column.
func (tx *Tx) time(t *time.Time) timeDest { return timeDest{tx.d, t} }

// nullTime returns a scan destination for a time column that may be NULL.
func (tx *Tx) nullTime(t **time.Time) nullTimeDest { return nullTimeDest{tx.d, t} }

// withTotal is a row with one more column at its end, the total of a counted list.
type withTotal struct {
	row   scanner
	total *int
}

// Scan scans the row's own columns into dest and the last one into the total.
func (r withTotal) Scan(dest ...any) error {
	return r.row.Scan(append(dest, r.total)...)
}
