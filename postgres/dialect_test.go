package postgres_test

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/postgres"
)

// PostgreSQL's errors become Latchkey's codes, in words that name nothing of the schema;
// every data exception (class 22) is invalid input.
func TestFormatError(t *testing.T) {
	for _, c := range []struct {
		pe   pgconn.PgError
		code string
	}{
		{pgconn.PgError{Code: "23505", Message: `duplicate key value violates unique constraint "doors_site_id_name_key"`,
			TableName: "doors", ConstraintName: "doors_site_id_name_key"}, latchkey.ECONFLICT},
		{pgconn.PgError{Code: "23503", TableName: "doors", ConstraintName: "doors_site_id_fkey"}, latchkey.ECONFLICT},
		{pgconn.PgError{Code: "23502", TableName: "locks", ColumnName: "status"}, latchkey.EINVALID},
		{pgconn.PgError{Code: "22021", Message: `invalid byte sequence for encoding "UTF8": 0x00`}, latchkey.EINVALID},
		{pgconn.PgError{Code: "22003", Message: `value "2147483648" is out of range for type integer`}, latchkey.EINVALID},
		{pgconn.PgError{Code: "22008", Message: "timestamp out of range"}, latchkey.EINVALID},
		{pgconn.PgError{Code: "22P02", Message: `invalid input syntax for type bigint: "x"`}, latchkey.EINVALID},
		{pgconn.PgError{Code: "22012", Message: "division by zero"}, latchkey.EINVALID},
		{pgconn.PgError{Code: "54000", Message: "index row size 3000 exceeds btree version 4 maximum 2704 for index \"doors_site_id_name_key\""}, latchkey.EINVALID},
		{pgconn.PgError{Code: "40P01", Message: "deadlock detected"}, latchkey.EUNAVAILABLE},
		{pgconn.PgError{Code: "P0001", Message: "the audit log is append-only"}, latchkey.ECONFLICT},
	} {
		err := postgres.FormatError(&c.pe)
		if got := latchkey.ErrorCode(err); got != c.code {
			t.Errorf("SQLSTATE %s: code %q, want %q", c.pe.Code, got, c.code)
		}
		msg := latchkey.ErrorMessage(err)
		for _, name := range []string{"_", "doors", "locks", "status", "UTF8", "integer", "bigint"} {
			if strings.Contains(msg, name) {
				t.Errorf("SQLSTATE %s: the message %q shows %q", c.pe.Code, msg, name)
			}
		}
	}
}
