package latchkey

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ScheduleKind says when a code opens the door.
type ScheduleKind string

// Schedule kinds (SPEC §2).
const (
	ScheduleAlways ScheduleKind = "always"
	ScheduleWindow ScheduleKind = "window" // from Start until End
	ScheduleWeekly ScheduleKind = "weekly" // recurring hours on chosen weekdays
)

// Schedule says when a code is valid. Weekly hours are wall-clock times in the site's
// time zone, so that "weekdays 8:00 to 17:00" stays right across daylight-saving changes.
type Schedule struct {
	Kind   ScheduleKind  `json:"kind"`
	Start  *time.Time    `json:"start,omitempty"`
	End    *time.Time    `json:"end,omitempty"`
	Weekly []WeeklyHours `json:"weekly,omitempty"`
}

// maxWeeklyPeriods bounds a weekly schedule: four periods a day, every day.
const maxWeeklyPeriods = 28

// WeeklyHours is one recurring period: on Day, from From to Until, both minutes after
// local midnight. Until may be 1440 (midnight at the end of the day).
type WeeklyHours struct {
	Day   time.Weekday `json:"day"`
	From  int          `json:"from"`
	Until int          `json:"until"`
}

// Validate reports whether the schedule is complete and consistent.
func (s Schedule) Validate() error {
	switch s.Kind {
	case ScheduleAlways, "":
		if s.Start != nil || s.End != nil || len(s.Weekly) > 0 {
			return Errorf(EINVALID, "An always-valid schedule takes no dates or hours; choose a window or weekly schedule instead.")
		}
	case ScheduleWindow:
		if s.Start == nil || s.End == nil {
			return Errorf(EINVALID, "A time window needs both a start and an end.")
		}
		if !s.End.After(*s.Start) {
			return Errorf(EINVALID, "The window ends (%s) before it starts (%s); swap or fix the dates.",
				s.End.Format(time.RFC3339), s.Start.Format(time.RFC3339))
		}
	case ScheduleWeekly:
		if len(s.Weekly) == 0 {
			return Errorf(EINVALID, "A weekly schedule needs at least one day with hours.")
		}
		if len(s.Weekly) > maxWeeklyPeriods {
			return Errorf(EINVALID, "A weekly schedule has at most %d periods; merge some.", maxWeeklyPeriods)
		}
		for _, h := range s.Weekly {
			if h.Day < time.Sunday || h.Day > time.Saturday {
				return Errorf(EINVALID, "Weekday %d is not a day of the week (0 Sunday to 6 Saturday).", h.Day)
			}
			if h.From < 0 || h.Until > 24*60 || h.From >= h.Until {
				return Errorf(EINVALID, "Hours on %s must run forward within the day (from %s until %s given).",
					h.Day, clockText(h.From), clockText(h.Until))
			}
		}
	default:
		return Errorf(EINVALID, "Unknown schedule kind %q; use always, window or weekly.", s.Kind)
	}
	return nil
}

// Active reports whether the schedule lets the code open the door at t, reading weekly
// hours in loc.
func (s Schedule) Active(t time.Time, loc *time.Location) bool {
	switch s.Kind {
	case ScheduleWindow:
		return s.Start != nil && s.End != nil && !t.Before(*s.Start) && t.Before(*s.End)
	case ScheduleWeekly:
		local := t.In(loc)
		minute := local.Hour()*60 + local.Minute()
		for _, h := range s.Weekly {
			if h.Day == local.Weekday() && minute >= h.From && minute < h.Until {
				return true
			}
		}
		return false
	default:
		return true
	}
}

func clockText(minutes int) string {
	return fmt.Sprintf("%02d:%02d", minutes/60, minutes%60)
}

var dayNames = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday,
	"wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// ParseWeekly reads weekly hours as people write them: "mon-fri 08:00-17:00", or several
// separated by commas ("sat 10:00-14:00, sun 10:00-12:00"). Day ranges may wrap
// ("fri-mon"); "24:00" is the end of the day.
func ParseWeekly(s string) ([]WeeklyHours, error) {
	if len(s) > 500 {
		return nil, Errorf(EINVALID, "Weekly hours are at most 500 characters.")
	}
	var out []WeeklyHours
	for _, part := range strings.Split(s, ",") {
		fields := strings.Fields(strings.ToLower(part))
		if len(fields) != 2 {
			return nil, Errorf(EINVALID, "Write weekly hours as DAYS HH:MM-HH:MM, such as \"mon-fri 08:00-17:00\"; %q is not.", strings.TrimSpace(part))
		}
		days, err := parseDays(fields[0])
		if err != nil {
			return nil, err
		}
		from, until, ok := strings.Cut(fields[1], "-")
		if !ok {
			return nil, Errorf(EINVALID, "Hours %q need a start and an end, such as 08:00-17:00.", fields[1])
		}
		f, err := parseClock(from)
		if err != nil {
			return nil, err
		}
		u, err := parseClock(until)
		if err != nil {
			return nil, err
		}
		for _, d := range days {
			out = append(out, WeeklyHours{Day: d, From: f, Until: u})
		}
	}
	s2 := Schedule{Kind: ScheduleWeekly, Weekly: out}
	return out, s2.Validate()
}

func parseDays(s string) ([]time.Weekday, error) {
	first, last, isRange := strings.Cut(s, "-")
	a, ok := dayNames[first]
	if !ok {
		return nil, Errorf(EINVALID, "%q is not a day; use mon, tue, wed, thu, fri, sat or sun.", first)
	}
	if !isRange {
		return []time.Weekday{a}, nil
	}
	b, ok := dayNames[last]
	if !ok {
		return nil, Errorf(EINVALID, "%q is not a day; use mon, tue, wed, thu, fri, sat or sun.", last)
	}
	var days []time.Weekday
	for d := a; ; d = (d + 1) % 7 {
		days = append(days, d)
		if d == b {
			return days, nil
		}
	}
}

func parseClock(s string) (int, error) {
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && mm != 0) || len(m) != 2 {
		return 0, Errorf(EINVALID, "%q is not a time of day; write it as HH:MM, from 00:00 to 24:00.", s)
	}
	return hh*60 + mm, nil
}
