package sqlite

import (
	"context"
	"database/sql"
	"strings"
)

// maxCachedStatements bounds a batch's stmtCache: statements built with filters or
// lists of varying length are many, and past the bound they are parsed each time.
const maxCachedStatements = 256

// stmtCache keeps the statements a write batch runs prepared for the rest of the batch,
// so that a statement is parsed once a batch rather than once a change: SQLite's parser
// was ~40% of the sync engine's CPU when it recorded 10,000 outcomes (docs/benchmarks.md).
// The statements belong to the batch's transaction and close with it. (A cache over the
// pool would need a free connection to prepare on, and the writer has one, held by the
// batch.)
type stmtCache struct {
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
}

// get returns the statement for query, and whether there is one (false: run the query
// as it is). Queries holding more than one statement are never prepared: a prepared
// statement would run only the first.
func (c *stmtCache) get(ctx context.Context, query string) (*sql.Stmt, bool) {
	if c == nil || strings.Contains(strings.TrimRight(query, "; \n\t"), ";") {
		return nil, false
	}
	if s, ok := c.stmts[query]; ok {
		return s, true
	}
	if len(c.stmts) >= maxCachedStatements {
		return nil, false
	}
	s, err := c.tx.PrepareContext(ctx, query)
	if err != nil {
		return nil, false // run it unprepared: its error, if any, comes from there
	}
	c.stmts[query] = s
	return s, true
}
