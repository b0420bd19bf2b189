package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/latchkey/latchkey"
)

// maxBody bounds a JSON request body.
const maxBody = 1 << 20

// decode reads a request's JSON body into v strictly: one JSON object of valid UTF-8, at
// most maxBody bytes, with only the fields v has, each of its type, and nothing after
// it. Every refusal is invalid and names what was wrong, so that a client can fix it.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var overLimit *http.MaxBytesError
		if errors.As(err, &overLimit) {
			return tooLarge{latchkey.Errorf(latchkey.EINVALID, "The request body is larger than %d KiB; send less.", maxBody>>10)}
		}
		return latchkey.Errorf(latchkey.EINVALID, "The request body could not be read; send it again.")
	}
	return decodeJSON(body, v)
}

// decodeJSON is decode's work on a body already read.
func decodeJSON(body []byte, v any) error {
	if !utf8.Valid(body) {
		return latchkey.Errorf(latchkey.EINVALID, "The request body is not valid UTF-8 text; send JSON in UTF-8.")
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return latchkey.Errorf(latchkey.EINVALID, "The request body must be a JSON object ({...}); see /api/v1/openapi.json for this route's fields.")
	}
	if err := checkKeys(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return latchkey.Errorf(latchkey.EINVALID, "The request body has more after its JSON object; send exactly one object.")
	}
	return nil
}

// checkKeys refuses what encoding/json would quietly accept: a key written twice in one
// object (the last would win) and a key in another case than the field's ("NAME" would
// fill name). Every field of the API is lower case.
func checkKeys(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	type frame struct {
		object, wantKey bool
		keys            map[string]bool
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // malformed JSON is the decoder's to name
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if key, ok := tok.(string); ok && top != nil && top.object && top.wantKey {
			switch {
			case top.keys[key]:
				return latchkey.Errorf(latchkey.EINVALID, "Field %q is given twice; give each field once.", key)
			case key != strings.ToLower(key):
				return latchkey.Errorf(latchkey.EINVALID, "Field %q is not a field of this route: field names are lower case (%q).", key, strings.ToLower(key))
			}
			top.keys[key], top.wantKey = true, false
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{object: true, wantKey: true, keys: map[string]bool{}})
			continue
		case json.Delim('['):
			stack = append(stack, &frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		// A value ended: the object around it, if any, wants its next key.
		if len(stack) > 0 && stack[len(stack)-1].object {
			stack[len(stack)-1].wantKey = true
		}
		if len(stack) == 0 {
			return nil
		}
	}
}

// jsonError turns a decoding error into a message that names the field and what it
// should be, without Go's type names.
func jsonError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var date *time.ParseError
	switch {
	case errors.As(err, &syntax):
		return latchkey.Errorf(latchkey.EINVALID, "The request body is not valid JSON (at byte %d); check quotes, commas and brackets.", syntax.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return latchkey.Errorf(latchkey.EINVALID, "The request body ends in the middle of its JSON; send the whole object.")
	case errors.As(err, &date):
		return latchkey.Errorf(latchkey.EINVALID, "A date and time is written in RFC 3339, such as 2025-03-01T00:00:00Z; %q is not.", date.Value)
	case errors.As(err, &typ):
		field := "The body"
		if typ.Field != "" {
			field = fmt.Sprintf("Field %q", typ.Field)
		}
		want := jsonKind(typ.Type.Kind().String())
		if want == "a number" && strings.HasPrefix(typ.Value, "number") {
			return latchkey.Errorf(latchkey.EINVALID, "%s must be a whole number in range; %s is not.", field, strings.TrimPrefix(typ.Value, "number "))
		}
		return latchkey.Errorf(latchkey.EINVALID, "%s must be %s, not a JSON %s.", field, want, typ.Value)
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return latchkey.Errorf(latchkey.EINVALID, "Unknown field %s: this route does not take it (ids, statuses and device state are the server's); see /api/v1/openapi.json.", name)
	}
	return latchkey.Errorf(latchkey.EINVALID, "The request body does not fit this route: %s; see /api/v1/openapi.json.", strings.TrimPrefix(err.Error(), "json: "))
}

// jsonKind names a Go kind as JSON calls it.
func jsonKind(kind string) string {
	switch {
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"), strings.HasPrefix(kind, "float"):
		return "a number"
	case kind == "string":
		return "a string"
	case kind == "bool":
		return "true or false"
	case kind == "slice", kind == "array":
		return "a list"
	}
	return "an object"
}
