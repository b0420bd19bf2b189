package http

import (
	"testing"

	"github.com/latchkey/latchkey"
)

// FuzzDecodeProcedureBodies feeds arbitrary bodies to the decoder as the procedure routes
// read them: it never panics, every refusal is an invalid error, and a report that is
// accepted never carries the engine's own choices (only the engine offers them).
func FuzzDecodeProcedureBodies(f *testing.F) {
	for _, seed := range []string{`{"kind":"rekey","lock_ids":[1,2],"hands":"sim","mistake":"key_not_in"}`,
		`{"step":"new-key","attest":["door_open"],"evidence":{"generate":"yes"},"note":"x"}`, `{"step":"learn","failed":true}`,
		`{"step":"x","choices":[{"value":"916"}]}`, `{"to":"locksmith","why":"stuck"}`, `{"evidence":{"a":"1","a":"2"}}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var start latchkey.ProcedureRequest
		var step latchkey.Advance
		var esc EscalateInput
		for _, v := range []any{&start, &step, &esc} {
			if err := decodeJSON(body, v); err != nil && latchkey.ErrorCode(err) != latchkey.EINVALID {
				t.Fatalf("body %q: %v", body, err)
			}
		}
		if step.Choices != nil {
			t.Fatalf("a client's body set the engine's choices: %q", body)
		}
	})
}
