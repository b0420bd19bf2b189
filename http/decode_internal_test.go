package http

import (
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
)

func TestDecodeJSON(t *testing.T) {
	tests := []struct {
		name, body string
		want       string // what the error must say; "" when the body is accepted
	}{
		{"OK", `{"name":"Front","site_id":1}`, ""},
		{"OK/Spaces", " \n{\"name\":\"Front\"}\n ", ""},
		{"ErrUnknownField", `{"name":"x","id":9223372036854775807}`, `Unknown field "id"`},
		{"ErrTrailing", `{"name":"x"}{"name":"y"}`, "more after its JSON object"},
		{"ErrTrailingGarbage", `{"name":"x"} xyz`, "more after its JSON object"},
		{"ErrNull", `null`, "must be a JSON object"},
		{"ErrEmpty", ``, "must be a JSON object"},
		{"ErrArray", `[{"name":"x"}]`, "must be a JSON object"},
		{"ErrInvalidUTF8", "{\"name\":\"\xff\xfe\"}", "not valid UTF-8"},
		{"ErrWrongType", `{"name":5}`, `Field "name" must be a string, not a JSON number`},
		{"ErrWrongTypeNumber", `{"site_id":"1"}`, `Field "site_id" must be a number, not a JSON string`},
		{"ErrOutOfRange", `{"site_id":99999999999999999999}`, `Field "site_id" must be a whole number in range`},
		{"ErrFraction", `{"site_id":1.5}`, `Field "site_id" must be a whole number in range`},
		{"ErrSyntax", `{"name":"x",}`, "not valid JSON"},
		{"ErrCut", `{"name":"x"`, "ends in the middle"},
		{"ErrDuplicateKey", `{"name":"one","name":"two"}`, `Field "name" is given twice`},
		{"ErrUpperCaseKey", `{"NAME":"x"}`, `field names are lower case`},
		{"OK/NestedSameKeys", `{"name":"x","site_id":1}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v DoorInput
			err := decodeJSON([]byte(tt.body), &v)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if latchkey.ErrorCode(err) != latchkey.EINVALID || !strings.Contains(latchkey.ErrorMessage(err), tt.want) {
				t.Fatalf("got %v; want invalid saying %q", err, tt.want)
			}
		})
	}
	var l LockInput
	if err := decodeJSON([]byte(`{"purchased_at":"yesterday"}`), &l); !strings.Contains(latchkey.ErrorMessage(err), "RFC 3339") {
		t.Fatalf("a bad date: %v", err)
	}
}

// FuzzDecodeJSON feeds arbitrary bodies to the API's decoder: it never panics, and every
// refusal is an invalid error a client can read (never an internal one).
func FuzzDecodeJSON(f *testing.F) {
	for _, seed := range []string{`{"name":"x"}`, `null`, `{"door_id":1,"connection":{"driver":"sim","address":"a"}}`, "{\"\xff\":1}", `{"purchased_at":"2025-01-01T00:00:00Z"}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var v LockInput
		if err := decodeJSON(body, &v); err != nil && latchkey.ErrorCode(err) != latchkey.EINVALID {
			t.Fatalf("body %q: %v", body, err)
		}
	})
}
