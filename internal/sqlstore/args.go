package sqlstore

import (
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/latchkey/latchkey"
)

// The refusals of values one store would keep and the other could not. Both stores
// refuse them alike, before the database sees them.
var (
	errNUL = latchkey.Errorf(latchkey.EINVALID,
		"Text may not contain NUL characters; remove them and try again.")
	errInvalidText = latchkey.Errorf(latchkey.EINVALID,
		"Text must be valid UTF-8 without NUL characters; it holds bytes that are not characters.")
	errTimeRange = latchkey.Errorf(latchkey.EINVALID,
		"Dates must fall between the years 1 and 9999.")
	errKeyTooLong = latchkey.Errorf(latchkey.EINVALID,
		"A name or other text that identifies a record may be at most %d bytes long; shorten it.", maxKeyText)
)

// maxKeyText bounds text stored in an indexed column. PostgreSQL refuses an index entry
// larger than about 2.7 kB, where SQLite takes any size; two such columns share an index
// at most (a lock's driver and address), so 1000 bytes each keeps both stores agreeing.
const maxKeyText = 1000

// keyText is text bound for an indexed column: a name unique within its parent, a
// connection's address, a token's hash.
type keyText string

// checkText refuses text that PostgreSQL cannot store in a TEXT column: with a NUL
// character, or not valid UTF-8. SQLite would keep either, so the check is made here for
// both stores.
func checkText(s string) error {
	if strings.IndexByte(s, 0) >= 0 {
		return errNUL
	}
	if !utf8.ValidString(s) {
		return errInvalidText
	}
	return nil
}

// checkTime refuses a time outside the years both stores keep: SQLite's RFC 3339 text
// has four digits for the year.
func checkTime(t time.Time) error {
	if y := t.UTC().Year(); y < 1 || y > 9999 {
		return errTimeRange
	}
	return nil
}

// bind checks a statement's arguments and encodes them for the dialect: text is checked,
// times are checked, kept to the microsecond (PostgreSQL's precision) and encoded, as are
// booleans; named string types become plain strings. It returns a new slice.
func (tx *Tx) bind(args []any) ([]any, error) {
	out := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case nil, int, int64, []byte:
			out[i] = v
		case string:
			if err := checkText(v); err != nil {
				return nil, err
			}
			out[i] = v
		case keyText:
			if err := checkText(string(v)); err != nil {
				return nil, err
			}
			if len(v) > maxKeyText {
				return nil, errKeyTooLong
			}
			out[i] = string(v)
		case bool:
			out[i] = tx.d.Bool(v)
		case time.Time:
			if err := checkTime(v); err != nil {
				return nil, err
			}
			out[i] = tx.d.Time(v.UTC().Truncate(time.Microsecond))
		case *time.Time:
			if v == nil {
				out[i] = nil
				continue
			}
			if err := checkTime(*v); err != nil {
				return nil, err
			}
			out[i] = tx.d.Time(v.UTC().Truncate(time.Microsecond))
		default:
			rv := reflect.ValueOf(a)
			if rv.Kind() != reflect.String {
				out[i] = a
				continue
			}
			if err := checkText(rv.String()); err != nil {
				return nil, err
			}
			out[i] = rv.String()
		}
	}
	return out, nil
}

// nullID stores an absent reference (0) as NULL.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}
