package postgres

import "context"

// ids numbers a table's new rows within a batch, so that an insert need not wait for
// PostgreSQL to say which id it gave. The first new row takes the table's sequence's
// next value, and the next rows the values after it; at commit the sequence is moved
// past every id the batch used. Other writers take the audit lock before their first
// statement, as the batch did, so no one draws from the sequence meanwhile.
type ids struct {
	next int64 // the next id to give; 0 until drawn from the sequence
	top  int64 // the largest id the batch gave or saw inserted
}

// NextID returns the id of a new row of table.
func (b *batch) NextID(_ context.Context, table string) (int64, error) {
	t := b.table(table)
	if t.next == 0 {
		var n int64
		if err := b.QueryRow(context.Background(), `SELECT nextval(pg_get_serial_sequence($1, 'id'))`, table).Scan(&n); err != nil {
			return 0, err
		}
		t.next = max(n, t.top+1)
	}
	id := t.next
	t.next++
	t.top = max(t.top, id)
	return id, nil
}

// UsedID records a row inserted into table with an explicit id: rows numbered later in
// the batch come after it, as in SQLite, and the sequence is moved past it at commit.
func (b *batch) UsedID(table string, id int64) {
	t := b.table(table)
	t.top = max(t.top, id)
	if t.next != 0 {
		t.next = max(t.next, id+1)
	}
}

func (b *batch) table(name string) *ids {
	t := b.ids[name]
	if t == nil {
		t = &ids{}
		b.ids[name] = t
	}
	return t
}

// holdSequences holds, to be sent with COMMIT, the statements that move each sequence
// the batch drew from, or whose table it gave explicit ids, past the largest id used. A
// sequence another batch moved further stays where it is.
func (b *batch) holdSequences() {
	for table, t := range b.ids {
		b.hold(nil, `SELECT setval(seq, GREATEST($1, COALESCE(pg_sequence_last_value(seq), 0)))
			FROM (SELECT pg_get_serial_sequence($2, 'id')::regclass AS seq) AS s`, t.top, table)
	}
}
