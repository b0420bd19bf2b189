package sqlite

import (
	"context"

	"github.com/latchkey/latchkey/internal/sqlstore"
)

var _ sqlstore.Numberer = querier{}

// NumberRow numbers a new row of table after every id the table ever had, deleted ones
// included (id_highs), so that no id is given twice; an explicit id (a restore) is kept
// and later ids come after it.
func (q querier) NumberRow(ctx context.Context, table string, id int64) (int64, error) {
	if id == 0 {
		// table is one of the shared layer's own names, never outside input.
		err := q.QueryRow(ctx, `SELECT MAX(COALESCE((SELECT high FROM id_highs WHERE name = ?), 0), COALESCE((SELECT MAX(id) FROM `+table+`), 0)) + 1`, table).Scan(&id)
		if err != nil {
			return 0, err
		}
	}
	_, err := q.Exec(ctx, `INSERT INTO id_highs (name, high) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET high = MAX(high, excluded.high)`, table, id)
	return id, err
}
