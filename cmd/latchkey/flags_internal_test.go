package main

import (
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// FuzzScheduleFlags covers the parsers of --window and --weekly, which read what a
// person types.
func FuzzScheduleFlags(f *testing.F) {
	for _, s := range [][2]string{{"2026-12-04T15:00,2026-12-06T11:00", ""}, {"", "mon-fri 08:00-17:00"},
		{"2026-12-04T15:00:00Z,2026-12-06", ""}, {"x,y", ""}, {"2026-12-06,2026-12-04", ""}, {"", "sun 24:00-24:00"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, window, weekly string) {
		s, err := scheduleFlags(window, weekly, time.UTC)
		if err != nil {
			if latchkey.ErrorCode(err) != latchkey.EINVALID {
				t.Fatalf("error code %q: %v", latchkey.ErrorCode(err), err)
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("accepted a schedule that does not validate: %v", err)
		}
	})
}

func TestPlural(t *testing.T) {
	for _, c := range []struct {
		n          int
		noun, want string
	}{{1, "copy", "1 copy"}, {2, "copy", "2 copies"}, {0, "key", "0 keys"}, {3, "code", "3 codes"}, {2, "day", "2 days"}} {
		if got := plural(c.n, c.noun); got != c.want {
			t.Errorf("plural(%d, %q) = %q, want %q", c.n, c.noun, got, c.want)
		}
	}
}
