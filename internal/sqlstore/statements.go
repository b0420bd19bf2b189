package sqlstore

import (
	"context"
	"strings"

	"github.com/latchkey/latchkey"
)

// errRow is a row that failed before its query was sent.
type errRow struct{ err error }

// Scan returns the error.
func (r errRow) Scan(...any) error { return r.err }

// query runs a query that returns rows; its error is translated.
func (tx *Tx) query(ctx context.Context, query string, args ...any) (Rows, error) {
	args, err := tx.bind(args)
	if err != nil {
		return nil, err
	}
	rows, err := tx.q.Query(ctx, tx.d.Rebind(query), args...)
	if err != nil {
		return nil, tx.fail(err)
	}
	return rows, nil
}

// queryRow runs a query that returns at most one row. The row's Scan returns the
// driver's own errors, so that the caller can tell a missing row.
func (tx *Tx) queryRow(ctx context.Context, query string, args ...any) Row {
	args, err := tx.bind(args)
	if err != nil {
		return errRow{err}
	}
	return tx.q.QueryRow(ctx, tx.d.Rebind(query), args...)
}

// writable refuses a write in a read-only transaction, before it reaches the database.
func (tx *Tx) writable() error {
	if tx.readOnly {
		return latchkey.ErrReadOnly
	}
	return nil
}

// write runs a statement that changes rows and returns how many it changed.
func (tx *Tx) write(ctx context.Context, query string, args ...any) (int64, error) {
	if err := tx.writable(); err != nil {
		return 0, err
	}
	args, err := tx.bind(args)
	if err != nil {
		return 0, err
	}
	n, err := tx.q.Exec(ctx, tx.d.Rebind(query), args...)
	return n, tx.fail(err)
}

// writeOne runs a statement that must change one row; none means the record is missing.
func (tx *Tx) writeOne(ctx context.Context, what string, id int64, query string, args ...any) error {
	n, err := tx.write(ctx, query, args...)
	if err != nil {
		return err
	}
	if n == 0 {
		return latchkey.Errorf(latchkey.ENOTFOUND, "No %s with id %d.", what, id)
	}
	return nil
}

// writeLater runs a statement whose only answer is success or failure. A querier that
// can defer it sends it with the change's next statement, or when the change ends.
func (tx *Tx) writeLater(ctx context.Context, query string, args ...any) error {
	if err := tx.writable(); err != nil {
		return err
	}
	args, err := tx.bind(args)
	if err != nil {
		return err
	}
	if d, ok := tx.q.(Deferrer); ok {
		d.Defer(tx.d.Rebind(query), args...)
		return nil
	}
	_, err = tx.q.Exec(ctx, tx.d.Rebind(query), args...)
	return tx.fail(err)
}

// insertion is an INSERT into a table in its two forms: the database numbers the new
// row and returns its id, or the row comes with its id.
type insertion struct {
	table            string
	numbered, withID string
}

// newInsertion returns the insertion of columns (the id aside) into table.
func newInsertion(table, columns string) insertion {
	marks := strings.Repeat(", ?", strings.Count(columns, ",")+1)[2:]
	return insertion{
		table:    table,
		numbered: `INSERT INTO ` + table + ` (` + columns + `) VALUES (` + marks + `) RETURNING id`,
		withID:   `INSERT INTO ` + table + ` (id, ` + columns + `) VALUES (?, ` + marks + `)`,
	}
}

// insert inserts a row and returns its id: id itself when it is not 0 (a restore). A
// querier that numbers rows itself gives the id, and the insert is deferred. Otherwise
// the database numbers the row, and after an explicit id its numbering is moved past it.
func (tx *Tx) insert(ctx context.Context, ins insertion, id int64, args ...any) (int64, error) {
	if err := tx.writable(); err != nil {
		return 0, err
	}
	if n, ok := tx.q.(Numberer); ok {
		id, err := n.NumberRow(ctx, ins.table, id)
		if err != nil {
			return 0, tx.fail(err)
		}
		if err := tx.writeLater(ctx, ins.withID, append([]any{id}, args...)...); err != nil {
			return 0, err
		}
		return id, nil
	}
	if id == 0 {
		if err := tx.queryRow(ctx, ins.numbered, args...).Scan(&id); err != nil {
			return 0, tx.fail(err)
		}
		return id, nil
	}
	if _, err := tx.write(ctx, ins.withID, append([]any{id}, args...)...); err != nil {
		return 0, err
	}
	if after, afterArgs := tx.d.AfterExplicitID(ins.table, id); after != "" {
		if err := tx.writeLater(ctx, after, afterArgs...); err != nil {
			return 0, err
		}
	}
	return id, nil
}

// filter is the WHERE clause of a list, built from the fields a caller set.
type filter struct {
	conds []string
	args  []any
}

// add adds a condition with its arguments.
func (f *filter) add(cond string, args ...any) {
	f.conds, f.args = append(f.conds, cond), append(f.args, args...)
}

// addIn adds "column IN (ids)"; an empty list matches nothing. More than
// latchkey.MaxListIDs ids is refused.
func (f *filter) addIn(column string, ids []int64) error {
	if len(ids) > latchkey.MaxListIDs {
		return latchkey.Errorf(latchkey.EINVALID, "At most %d ids in one list, not %d.", latchkey.MaxListIDs, len(ids))
	}
	if len(ids) == 0 {
		f.add("1 = 0")
		return nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	f.add(column+" IN (?"+strings.Repeat(", ?", len(ids)-1)+")", args...)
	return nil
}

// where returns the WHERE clause, or "" when nothing filters.
func (f filter) where() string {
	if len(f.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(f.conds, " AND ")
}

// queryAll runs a query and scans every row.
func queryAll[T any](ctx context.Context, tx *Tx, query string, args []any, scan func(scanner) (T, error)) ([]T, error) {
	rows, err := tx.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, tx.fail(err)
		}
		out = append(out, v)
	}
	return out, tx.fail(rows.Err())
}

// list runs a counted, paged query in one statement: the count rides on each row of the
// page, so that page and count agree and cost one round trip.
func list[T any](ctx context.Context, tx *Tx, table, columns string, f filter, p latchkey.Page, scan func(scanner) (T, error)) ([]T, int, error) {
	w := f.where()
	args := append(append(append(make([]any, 0, 2*len(f.args)+2), f.args...), f.args...), p.PageLimit(), max(p.Offset, 0))
	var total int
	items, err := queryAll(ctx, tx, `SELECT `+columns+`, (SELECT COUNT(*) FROM `+table+w+`) FROM `+table+w+` ORDER BY id LIMIT ? OFFSET ?`,
		args, func(r scanner) (T, error) { return scan(withTotal{r, &total}) })
	if err != nil {
		return nil, 0, err
	}
	if len(items) == 0 && p.Offset > 0 {
		// Past the end there is no row to carry the count.
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM `+table+w, f.args...).Scan(&total); err != nil {
			return nil, 0, tx.fail(err)
		}
	}
	if items == nil {
		items = []T{}
	}
	return items, total, nil
}
