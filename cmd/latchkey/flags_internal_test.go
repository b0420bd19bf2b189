package main

import (
	"context"
	"strings"
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

// A flag's bad value is refused as bad usage (exit 2) saying what the flag takes, never
// in Go's parser's words.
func TestBadFlagValues(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"procedure", "start", "rekey", "--lock", "abc"}, `--lock takes a number (digits, such as --lock 3; several, where it takes a list: 3,4), not "abc"`},
		{[]string{"procedure", "ls", "--lock", "1.5"}, `--lock takes a number`},
		{[]string{"lock", "ls", "--json=maybe"}, `--json takes true or false`},
	} {
		var out, errOut strings.Builder
		m := NewMain()
		m.Stdin, m.Stdout, m.Stderr = strings.NewReader(""), &out, &errOut
		status := m.Run(context.Background(), append(tt.args, "--data", t.TempDir()))
		if status != latchkey.ExitUsage || !strings.Contains(errOut.String(), tt.want) || strings.Contains(errOut.String(), "strconv") {
			t.Errorf("%v: exit %d, %q; want usage, %q", tt.args, status, errOut.String(), tt.want)
		}
	}
}
