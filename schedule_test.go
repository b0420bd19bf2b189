package latchkey_test

import (
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

func TestScheduleValidate(t *testing.T) {
	start := time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC)
	end := start.Add(48 * time.Hour)
	tests := []struct {
		name string
		s    latchkey.Schedule
		ok   bool
	}{
		{"OK/Always", latchkey.Schedule{Kind: latchkey.ScheduleAlways}, true},
		{"OK/Window", latchkey.Schedule{Kind: latchkey.ScheduleWindow, Start: &start, End: &end}, true},
		{"OK/Weekly", latchkey.Schedule{Kind: latchkey.ScheduleWeekly, Weekly: []latchkey.WeeklyHours{{Day: time.Monday, From: 8 * 60, Until: 17 * 60}}}, true},
		{"OK/WeeklyToMidnight", latchkey.Schedule{Kind: latchkey.ScheduleWeekly, Weekly: []latchkey.WeeklyHours{{Day: time.Friday, From: 0, Until: 1440}}}, true},
		{"ErrWindowBackwards", latchkey.Schedule{Kind: latchkey.ScheduleWindow, Start: &end, End: &start}, false},
		{"ErrWindowOpenEnded", latchkey.Schedule{Kind: latchkey.ScheduleWindow, Start: &start}, false},
		{"ErrWeeklyEmpty", latchkey.Schedule{Kind: latchkey.ScheduleWeekly}, false},
		{"ErrWeeklyBackwards", latchkey.Schedule{Kind: latchkey.ScheduleWeekly, Weekly: []latchkey.WeeklyHours{{Day: time.Monday, From: 600, Until: 500}}}, false},
		{"ErrWeeklyBadDay", latchkey.Schedule{Kind: latchkey.ScheduleWeekly, Weekly: []latchkey.WeeklyHours{{Day: 9, From: 0, Until: 60}}}, false},
		{"ErrAlwaysWithDates", latchkey.Schedule{Kind: latchkey.ScheduleAlways, Start: &start}, false},
		{"ErrUnknownKind", latchkey.Schedule{Kind: "sometimes"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.s.Validate()
			if tt.ok && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !tt.ok && latchkey.ErrorCode(err) != latchkey.EINVALID {
				t.Fatalf("got %v, want an invalid error", err)
			}
		})
	}
}

func TestScheduleActive(t *testing.T) {
	chicago, err := time.LoadLocation("America/Chicago")
	if err != nil {
		t.Skipf("no time zone database: %v", err)
	}
	weekdays := latchkey.Schedule{Kind: latchkey.ScheduleWeekly, Weekly: []latchkey.WeeklyHours{
		{Day: time.Monday, From: 8 * 60, Until: 17 * 60},
	}}
	// 8:30 local on a Monday before and after the November daylight-saving change: the
	// wall-clock hours hold on both sides.
	for _, at := range []time.Time{
		time.Date(2026, 10, 26, 8, 30, 0, 0, chicago),
		time.Date(2026, 11, 2, 8, 30, 0, 0, chicago),
	} {
		if !weekdays.Active(at.UTC(), chicago) {
			t.Errorf("weekly schedule not active at %s", at)
		}
	}
	if weekdays.Active(time.Date(2026, 11, 2, 17, 0, 0, 0, chicago), chicago) {
		t.Error("weekly schedule active at 17:00; the end is exclusive")
	}
	if weekdays.Active(time.Date(2026, 11, 3, 9, 0, 0, 0, chicago), chicago) {
		t.Error("weekly schedule active on a Tuesday")
	}

	start := time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC)
	end := start.Add(time.Hour)
	window := latchkey.Schedule{Kind: latchkey.ScheduleWindow, Start: &start, End: &end}
	for _, tc := range []struct {
		at   time.Time
		want bool
	}{
		{start.Add(-time.Second), false},
		{start, true},
		{end.Add(-time.Second), true},
		{end, false},
	} {
		if got := window.Active(tc.at, time.UTC); got != tc.want {
			t.Errorf("window Active(%s) = %v, want %v", tc.at, got, tc.want)
		}
	}
}

func TestParseWeekly(t *testing.T) {
	got, err := latchkey.ParseWeekly("mon-fri 08:00-17:00, sat 10:00-24:00")
	if err != nil || len(got) != 6 || got[0] != (latchkey.WeeklyHours{Day: time.Monday, From: 480, Until: 1020}) ||
		got[5] != (latchkey.WeeklyHours{Day: time.Saturday, From: 600, Until: 1440}) {
		t.Fatalf("got %+v, %v", got, err)
	}
	if got, err := latchkey.ParseWeekly("fri-mon 00:00-06:00"); err != nil || len(got) != 4 || got[3].Day != time.Monday {
		t.Fatalf("wrapping range: %+v, %v", got, err)
	}
	for _, bad := range []string{"", "mon", "funday 08:00-09:00", "mon 8-9", "mon 09:00-08:00", "mon 25:00-26:00", "mon 08:5-09:00", "mon 24:30-24:45"} {
		if _, err := latchkey.ParseWeekly(bad); latchkey.ErrorCode(err) != latchkey.EINVALID {
			t.Errorf("ParseWeekly(%q) = %v, want invalid", bad, err)
		}
	}
}

func FuzzParseWeekly(f *testing.F) {
	for _, s := range []string{"mon-fri 08:00-17:00", "sat 10:00-24:00, sun 00:00-01:00", "fri-mon 00:00-06:00", "x", ","} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		hours, err := latchkey.ParseWeekly(s)
		if err != nil {
			if latchkey.ErrorCode(err) != latchkey.EINVALID {
				t.Fatalf("error code %q", latchkey.ErrorCode(err))
			}
			return
		}
		if err := (latchkey.Schedule{Kind: latchkey.ScheduleWeekly, Weekly: hours}).Validate(); err != nil {
			t.Fatalf("parsed hours do not validate: %v", err)
		}
	})
}

func TestScheduleDescribe(t *testing.T) {
	chicago, err := time.LoadLocation("America/Chicago")
	if err != nil {
		t.Skipf("no time zone database: %v", err)
	}
	start := time.Date(2026, 12, 4, 21, 0, 0, 0, time.UTC) // 15:00 in Chicago (CST)
	end := time.Date(2026, 12, 6, 17, 0, 0, 0, time.UTC)
	window := latchkey.Schedule{Kind: latchkey.ScheduleWindow, Start: &start, End: &end}
	weekly := func(text string) latchkey.Schedule {
		t.Helper()
		hours, err := latchkey.ParseWeekly(text)
		if err != nil {
			t.Fatalf("ParseWeekly(%q): %v", text, err)
		}
		return latchkey.Schedule{Kind: latchkey.ScheduleWeekly, Weekly: hours}
	}
	tests := []struct {
		name string
		s    latchkey.Schedule
		loc  *time.Location
		want string
	}{
		{"Always", latchkey.Schedule{Kind: latchkey.ScheduleAlways}, nil, "always"},
		{"AlwaysByDefault", latchkey.Schedule{}, chicago, "always"},
		{"WindowInSiteZone", window, chicago, "from 2026-12-04 15:00 until 2026-12-06 11:00 (America/Chicago)"},
		{"WindowAsStored", window, nil, "from 2026-12-04 21:00 until 2026-12-06 17:00 (UTC)"},
		{"Weekdays", weekly("mon-fri 09:00-17:00"), nil, "Mon–Fri 09:00–17:00"},
		{"WeekdaysInAnyOrder", weekly("fri 09:00-17:00, mon-thu 09:00-17:00"), nil, "Mon–Fri 09:00–17:00"},
		{"TwoGroups", weekly("mon-fri 09:00-17:00, sat 10:00-14:00"), nil, "Mon–Fri 09:00–17:00; Sat 10:00–14:00"},
		{"Weekend", weekly("sat-sun 10:00-14:00"), nil, "Sat, Sun 10:00–14:00"},
		{"OverTheWeekend", weekly("fri-mon 18:00-24:00"), nil, "Fri–Mon 18:00–24:00"},
		{"SeveralRuns", weekly("mon 08:00-12:00, wed 08:00-12:00, fri 08:00-12:00"), nil, "Mon, Wed, Fri 08:00–12:00"},
		{"TwoPeriodsADay", weekly("mon-fri 13:00-17:00, mon-fri 08:00-12:00"), nil, "Mon–Fri 08:00–12:00 and 13:00–17:00"},
		{"EveryDay", weekly("mon-sun 07:00-19:00"), nil, "every day 07:00–19:00"},
		{"SundayLast", weekly("sun 09:00-10:00, mon 09:00-10:00"), nil, "Sun, Mon 09:00–10:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.Describe(tt.loc); got != tt.want {
				t.Errorf("Describe = %q, want %q", got, tt.want)
			}
		})
	}
}

// FormatWeekly writes what ParseWeekly reads back to the same hours.
func TestFormatWeeklyRoundTrip(t *testing.T) {
	for _, text := range []string{
		"mon-fri 09:00-17:00",
		"mon-fri 08:00-12:00, mon-fri 13:00-17:00, sat 10:00-14:00",
		"fri-mon 18:00-24:00",
		"mon 08:00-12:00, wed 08:00-12:00",
		"mon-sun 00:00-24:00",
		"sun 09:00-10:00",
	} {
		hours, err := latchkey.ParseWeekly(text)
		if err != nil {
			t.Fatalf("ParseWeekly(%q): %v", text, err)
		}
		formatted := latchkey.FormatWeekly(hours)
		if formatted != text {
			t.Errorf("FormatWeekly(ParseWeekly(%q)) = %q", text, formatted)
		}
		again, err := latchkey.ParseWeekly(formatted)
		if err != nil {
			t.Fatalf("ParseWeekly(%q): %v", formatted, err)
		}
		a := latchkey.Schedule{Kind: latchkey.ScheduleWeekly, Weekly: hours}.Describe(nil)
		b := latchkey.Schedule{Kind: latchkey.ScheduleWeekly, Weekly: again}.Describe(nil)
		if a != b {
			t.Errorf("%q: %q after the round trip, %q before", text, b, a)
		}
	}
}

// A time shorter than the lead is wanted from the lead before it until it ends, with no
// gap; weekly hours likewise, across midnight and in the site's zone.
func TestActiveWithin(t *testing.T) {
	chicago, err := time.LoadLocation("America/Chicago")
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, chicago)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	start, end := at("2026-12-10 11:00"), at("2026-12-10 11:30")
	window := latchkey.Schedule{Kind: latchkey.ScheduleWindow, Start: &start, End: &end}
	weekly := latchkey.Schedule{Kind: latchkey.ScheduleWeekly, Weekly: []latchkey.WeeklyHours{{Day: time.Thursday, From: 11 * 60, Until: 11*60 + 30}}}
	lead := time.Hour
	for _, tc := range []struct {
		now  string
		want bool
	}{
		{"2026-12-10 09:59", false}, // more than the lead before
		{"2026-12-10 10:00", true},  // the lead before
		{"2026-12-10 10:40", true},  // within the lead, the half hour not begun: no gap
		{"2026-12-10 11:15", true},
		{"2026-12-10 11:30", false}, // ended
	} {
		now := at(tc.now)
		for name, s := range map[string]latchkey.Schedule{"window": window, "weekly": weekly} {
			if got := s.ActiveWithin(now, now.Add(lead), chicago); got != tc.want {
				t.Errorf("%s at %s: %v, want %v", name, tc.now, got, tc.want)
			}
		}
	}
	// Sunday night hours seen from Saturday evening, a week's lead at most.
	late := latchkey.Schedule{Kind: latchkey.ScheduleWeekly, Weekly: []latchkey.WeeklyHours{{Day: time.Sunday, From: 23 * 60, Until: 24 * 60}}}
	if now := at("2026-12-12 23:30"); !late.ActiveWithin(now, now.Add(24*time.Hour), chicago) || late.ActiveWithin(now, now.Add(time.Hour), chicago) {
		t.Error("Sunday 23:00-24:00 seen from Saturday 23:30")
	}
	if now := at("2026-12-07 00:00"); !late.ActiveWithin(now, now.Add(7*24*time.Hour), chicago) {
		t.Error("a week's lead misses the week's hours")
	}
}
