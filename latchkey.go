// Package latchkey is the domain of Latchkey: sites, doors, locks, keys, people, codes,
// schedules and events, the application error type and the clock. It imports nothing
// from this repository; every adapter (catalog, keying, stores, drivers, HTTP) imports it.
package latchkey

import (
	"strings"
	"unicode/utf8"
)

// maxNameLen bounds names and labels typed by people, so that a paste accident cannot
// fill a page or a database row.
const maxNameLen = 200

// validateName checks a person-facing name or label: required, printable, bounded.
func validateName(what, s string) error {
	switch {
	case strings.TrimSpace(s) == "":
		return Errorf(EINVALID, "%s is required.", what)
	case !utf8.ValidString(s):
		return Errorf(EINVALID, "%s is not valid text (UTF-8).", what)
	case utf8.RuneCountInString(s) > maxNameLen:
		return Errorf(EINVALID, "%s is longer than %d characters; shorten it.", what, maxNameLen)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return Errorf(EINVALID, "%s contains a control character; use plain text.", what)
		}
	}
	return nil
}
