package main_test

import (
	"strings"
	"testing"
)

// A code's validity is printed in full: a window's dates in the site's time zone, weekly
// hours with their days and hours, the use limit, one use only (issue 9, item 3).
func TestCodeValidityCLI(t *testing.T) {
	flags := storeFlags(t, "sqlite")
	cli := func(args ...string) result { return runCLI(t, "", append(args, flags...)...) }
	for _, s := range [][]string{{"site", "add", "Maple Street", "--tz", "America/Chicago"}, {"door", "add", "--site", "1", "Front"},
		{"lock", "add", "--door", "1", "Deadbolt", "--model", "916"}, {"person", "add", "Ana", "--role", "owner"},
		{"code", "add", "--person", "1", "--lock", "1", "Ana", "--confirmed"},
		// Times without a zone are the site's: 15:00 in Chicago is 21:00 UTC in December.
		{"code", "add", "--person", "1", "--lock", "1", "Guest", "--window", "2026-12-04T15:00,2026-12-06T17:00:00Z", "--uses", "4"},
		{"code", "add", "--person", "1", "--lock", "1", "Cleaner", "--weekly", "mon-fri 09:00-17:00, sat 10:00-14:00"},
		{"code", "add", "--person", "1", "--lock", "1", "Plumber", "--one-time"}} {
		if r := cli(s...); r.status != 0 {
			t.Fatalf("%v: %d %s", s, r.status, r.stderr)
		}
	}
	ls := cli("code", "ls").stdout
	for _, want := range []string{"VALID", "always",
		"from 2026-12-04 15:00 until 2026-12-06 11:00 (America/Chicago), up to 4 uses",
		"Mon–Fri 09:00–17:00; Sat 10:00–14:00", "always, one use only"} {
		if !strings.Contains(ls, want) {
			t.Errorf("code ls lacks %q:\n%s", want, ls)
		}
	}
	show := cli("code", "show", "2")
	for _, want := range []string{"Code 2: Guest, held by Ana (person 1)", "Valid:   from 2026-12-04 15:00 until 2026-12-06 11:00 (America/Chicago), up to 4 uses",
		"Deadbolt (lock 1)", "pending"} {
		if show.status != 0 || !strings.Contains(show.stdout, want) {
			t.Errorf("code show 2 lacks %q: %d\n%s%s", want, show.status, show.stdout, show.stderr)
		}
	}
	var view struct {
		Code struct {
			Label    string
			UseLimit int `json:"use_limit"`
		}
		Valid  string
		Grants []struct{ Slot int }
	}
	decode(t, cli("code", "show", "3", "--json"), &view)
	if view.Code.Label != "Cleaner" || view.Valid != "Mon–Fri 09:00–17:00; Sat 10:00–14:00" || len(view.Grants) != 1 || view.Grants[0].Slot != 3 {
		t.Errorf("code show 3 --json: %+v", view)
	}
	if r := cli("code", "show", "9"); r.status != 1 || !strings.Contains(r.stderr, "No code 9") {
		t.Errorf("code show 9: %d %q", r.status, r.stderr)
	}
	// The lock's record says the hours, not "weekly hours".
	if r := cli("lock", "show", "1"); !strings.Contains(r.stdout, "Cleaner (Ana), pending, valid Mon–Fri 09:00–17:00; Sat 10:00–14:00") {
		t.Errorf("lock show:\n%s", r.stdout)
	}
	// Mistakes in the validity flags say what was wrong.
	for _, c := range []struct {
		args   []string
		status int
		want   string
	}{
		{[]string{"--window", "2026-12-06T11:00,2026-12-04T15:00"}, 1, "swap or fix the dates"},
		{[]string{"--window", "2026-12-04T15:00"}, 1, "START,END"},
		{[]string{"--weekly", "weekdays 9-5"}, 1, "not a day"},
		{[]string{"--window", "2026-12-04T15:00,2026-12-06T11:00", "--weekly", "mon 09:00-10:00"}, 2, "window"},
		{[]string{"--one-time", "--uses", "3"}, 1, "one-time code cannot have a use limit"},
		{[]string{"--uses", "-1"}, 1, "Use limit"},
	} {
		args := append([]string{"code", "add", "--person", "1", "--lock", "1", "X"}, c.args...)
		if r := cli(args...); r.status != c.status || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: %d %q; want %d and %q", c.args, r.status, r.stderr, c.status, c.want)
		}
	}
}
