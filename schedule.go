package latchkey

import (
	"fmt"
	"sort"
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

// ActiveWithin reports whether the schedule lets the code open the door at some moment
// from from to to (both included), reading weekly hours in loc: the sync engine keeps a
// code on a lock from the site's lead time before its time until its time ends, with no
// gap for a time shorter than the lead.
func (s Schedule) ActiveWithin(from, to time.Time, loc *time.Location) bool {
	switch s.Kind {
	case ScheduleWindow:
		return s.Start != nil && s.End != nil && !s.Start.After(to) && s.End.After(from)
	case ScheduleWeekly:
		// Each day from the one before from (a period may run past midnight's reading in
		// another zone) to the one after to: a lead is at most a week, so ten days at most.
		first := from.In(loc)
		day := time.Date(first.Year(), first.Month(), first.Day()-1, 0, 0, 0, 0, loc)
		for ; !day.After(to.Add(24 * time.Hour)); day = day.AddDate(0, 0, 1) {
			for _, h := range s.Weekly {
				if h.Day != day.Weekday() {
					continue
				}
				start := time.Date(day.Year(), day.Month(), day.Day(), h.From/60, h.From%60, 0, 0, loc)
				end := time.Date(day.Year(), day.Month(), day.Day(), h.Until/60, h.Until%60, 0, 0, loc)
				if !start.After(to) && end.After(from) {
					return true
				}
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

// Describe says in words when the schedule lets a code open the door, for people to read:
// "always"; "from 2026-12-04 15:00 until 2026-12-06 11:00 (America/Chicago)"; "Mon–Fri
// 09:00–17:00; Sat, Sun 10:00–14:00". A window's dates are shown in loc, the time zone of
// the code's site; nil shows them as stored, in UTC. Weekly hours are the site's
// wall-clock hours already and are shown as they are.
func (s Schedule) Describe(loc *time.Location) string {
	switch s.Kind {
	case ScheduleWindow:
		if s.Start == nil || s.End == nil {
			return "a window with no dates"
		}
		if loc == nil {
			loc = time.UTC
		}
		const layout = "2006-01-02 15:04"
		return fmt.Sprintf("from %s until %s (%s)", s.Start.In(loc).Format(layout), s.End.In(loc).Format(layout), loc)
	case ScheduleWeekly:
		var parts []string
		for _, g := range groupWeekly(s.Weekly) {
			periods := make([]string, len(g.periods))
			for i, p := range g.periods {
				periods[i] = clockText(p.From) + "–" + clockText(p.Until)
			}
			days := "every day"
			if runs := dayRuns(g.days); len(runs) > 0 {
				texts := make([]string, 0, len(runs))
				for _, r := range runs {
					switch {
					case r.first == r.last:
						texts = append(texts, shortDayNames[r.first])
					case (r.first+1)%7 == r.last:
						texts = append(texts, shortDayNames[r.first], shortDayNames[r.last]) // "Sat, Sun"
					default:
						texts = append(texts, shortDayNames[r.first]+"–"+shortDayNames[r.last])
					}
				}
				days = strings.Join(texts, ", ")
			}
			parts = append(parts, days+" "+strings.Join(periods, " and "))
		}
		return strings.Join(parts, "; ")
	}
	return "always"
}

// FormatWeekly writes weekly hours the way ParseWeekly reads them ("mon-fri
// 09:00-17:00, sat-sun 10:00-14:00"), days with the same hours grouped, for a form that
// edits them.
func FormatWeekly(hours []WeeklyHours) string {
	var parts []string
	for _, g := range groupWeekly(hours) {
		runs := dayRuns(g.days)
		if len(runs) == 0 {
			runs = []dayRun{{time.Monday, time.Sunday}} // every day
		}
		for _, r := range runs {
			days := parseDayNames[r.first]
			if r.last != r.first {
				days += "-" + parseDayNames[r.last]
			}
			for _, p := range g.periods {
				parts = append(parts, days+" "+clockText(p.From)+"-"+clockText(p.Until))
			}
		}
	}
	return strings.Join(parts, ", ")
}

var (
	shortDayNames = [7]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}
	parseDayNames = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}
)

// weeklyGroup is the days that share the same periods.
type weeklyGroup struct {
	days    [7]bool
	periods []WeeklyHours // in order of the time of day; Day is that of the first day
}

// groupWeekly groups the days that have the same hours, in the order the groups first
// appear in the week from Monday.
func groupWeekly(hours []WeeklyHours) []*weeklyGroup {
	var perDay [7][]WeeklyHours
	for _, h := range hours {
		if h.Day >= time.Sunday && h.Day <= time.Saturday {
			perDay[h.Day] = append(perDay[h.Day], h)
		}
	}
	var groups []*weeklyGroup
	byKey := map[string]*weeklyGroup{}
	for i := range 7 {
		d := time.Weekday((i + 1) % 7)
		ps := perDay[d]
		if len(ps) == 0 {
			continue
		}
		sort.Slice(ps, func(i, j int) bool {
			return ps[i].From < ps[j].From || ps[i].From == ps[j].From && ps[i].Until < ps[j].Until
		})
		var key strings.Builder
		for _, p := range ps {
			fmt.Fprintf(&key, "%d-%d,", p.From, p.Until)
		}
		g := byKey[key.String()]
		if g == nil {
			g = &weeklyGroup{periods: ps}
			byKey[key.String()] = g
			groups = append(groups, g)
		}
		g.days[d] = true
	}
	return groups
}

// dayRun is a run of consecutive days, from first to last (which may wrap past Sunday).
type dayRun struct{ first, last time.Weekday }

// dayRuns splits the chosen days into runs of consecutive days, Monday first, keeping a
// run over the end of the week whole ("Fri–Mon"). Every day chosen gives no runs.
func dayRuns(chosen [7]bool) []dayRun {
	// Start from Monday, or from the first chosen day after one not chosen, so that a run
	// over the end of the week is not split in two.
	start := time.Monday
	for range 7 {
		if !chosen[(start+6)%7] || !chosen[start] {
			break
		}
		start = (start + 1) % 7
	}
	if chosen[start] && chosen[(start+6)%7] {
		return nil // every day
	}
	var runs []dayRun
	for i := 0; i < 7; i++ {
		d := (start + time.Weekday(i)) % 7
		if !chosen[d] {
			continue
		}
		j := i
		for j+1 < 7 && chosen[(start+time.Weekday(j+1))%7] {
			j++
		}
		runs = append(runs, dayRun{d, (start + time.Weekday(j)) % 7})
		i = j
	}
	return runs
}
