// Package latchkey is the domain of Latchkey: sites, doors, locks, keys, people, codes,
// schedules and events, the application error type and the clock. It imports nothing
// from this repository; every adapter (catalog, keying, stores, drivers, HTTP) imports it.
package latchkey

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on what people type. Every text field has one, so that a paste accident or a
// hostile client can neither fill a page nor slow every list that shows the record.
const (
	maxNameLen    = 200  // names and labels
	maxLineLen    = 200  // one-line text: addresses, locations
	maxNoteLen    = 4000 // free text: notes, service log entries
	maxSerialLen  = 64
	maxPhoneLen   = 40
	maxEmailLen   = 254 // RFC 5321's limit on a forward path
	maxAddressLen = 128 // a lock's address on its driver
	maxDetailLen  = 1000
)

// MaxLocksPerChange bounds the locks one change may touch (a code put on many locks):
// a larger change would hold the one writer, and every other change, for seconds.
const MaxLocksPerChange = 500

// plainLines trims text typed in a box of several lines and keeps its line breaks as
// line feeds alone (browsers send "\r\n").
func plainLines(s string) string {
	return strings.ReplaceAll(strings.TrimSpace(s), "\r\n", "\n")
}

// validateName checks a person-facing name or label: required, one line of plain text,
// bounded.
func validateName(what, s string) error {
	if strings.TrimSpace(s) == "" {
		return Errorf(EINVALID, "%s is required.", what)
	}
	return validateText(what, s, maxNameLen, false)
}

// validateText checks text typed by a person: valid UTF-8, at most max characters, and
// no characters that hide, reorder or rewrite what is shown: control characters (C0 and
// C1; tabs and line feeds only where multiline, never a carriage return, which lets text
// overwrite itself on a terminal), line and paragraph separators, and invisible format
// characters (the bidirectional overrides that make "txt.exe" look like "exe.txt",
// zero-width spaces that make "a\u200bna" look like "ana"). Empty text passes.
// blankLooking reports letters and symbols that render as nothing (Hangul fillers, the
// blank braille pattern): a name made of them looks empty, or like another name.
func blankLooking(r rune) bool {
	switch r {
	case '\u115F', '\u1160', '\u3164', '\uFFA0', '\u2800':
		return true
	}
	return false
}

func validateText(what, s string, max int, multiline bool) error {
	switch {
	case !utf8.ValidString(s):
		return Errorf(EINVALID, "%s is not valid text (UTF-8).", what)
	case utf8.RuneCountInString(s) > max:
		return Errorf(EINVALID, "%s is longer than %d characters; shorten it.", what, max)
	}
	for _, r := range s {
		switch {
		case multiline && (r == '\n' || r == '\t'):
		case unicode.IsControl(r), unicode.In(r, unicode.Zl, unicode.Zp):
			return Errorf(EINVALID, "%s contains a control character or a line break where none belongs; use plain text.", what)
		case unicode.Is(unicode.Bidi_Control, r):
			return Errorf(EINVALID, "%s contains a character that reorders text (a bidirectional control); use plain text.", what)
		case unicode.Is(unicode.Cf, r), blankLooking(r):
			return Errorf(EINVALID, "%s contains an invisible character (such as a zero-width space); use plain text.", what)
		}
	}
	return nil
}
