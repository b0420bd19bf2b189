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

// rowID is a row of a table, by its id.
type rowID struct {
	table string
	id    int64
}

// numbered is an id the batch gave, and the change it gave it to.
type numbered struct {
	rowID
	of *change
}

// NumberRow returns the id of a row about to be inserted into table: the next id for a
// new row (id 0) or one that comes with an id a given-up batch gave, and otherwise id
// itself (see sqlstore.Numberer).
func (b *batch) NumberRow(_ context.Context, table string, id int64) (int64, error) {
	if id != 0 && !b.renumber[rowID{table, id}] {
		b.usedID(table, id)
		return id, nil
	}
	id, err := b.nextID(table)
	if err != nil {
		return 0, err
	}
	b.numbered = append(b.numbered, numbered{rowID{table, id}, b.current})
	return id, nil
}

// nextID returns the id of a new row of table.
func (b *batch) nextID(table string) (int64, error) {
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

// usedID records a row inserted into table with an explicit id: rows numbered later in
// the batch come after it, as in SQLite, and the sequence is moved past it at commit.
func (b *batch) usedID(table string, id int64) {
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
		query, args := dialect{}.AfterExplicitID(table, t.top)
		b.hold(nil, dialect{}.Rebind(query), args...)
	}
}

// givenUp is told that change failed late, and the batch is given up. A change of it
// that runs again comes with the ids the batch gave it, which belong to no row now, and
// which PostgreSQL's sequence may give again: it leaves them to the next batch (the one
// that runs the changes again), to be numbered anew, with those it was left itself. The
// failed change's own ids are left out: it does not run again.
func (b *batch) givenUp(failed *change) {
	renumber := b.renumber
	if renumber == nil {
		renumber = map[rowID]bool{}
	}
	for _, n := range b.numbered {
		if n.of != failed {
			renumber[n.rowID] = true
		}
	}
	b.db.renumber = renumber
}
