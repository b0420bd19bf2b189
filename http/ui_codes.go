package http

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
)

func (s *Server) codeRoutes() []uiRoute {
	read, write := latchkey.PermRead, latchkey.PermWrite
	return []uiRoute{
		{Method: "GET", Pattern: "/codes", Perm: read, handler: s.pageCodes},
		{Method: "POST", Pattern: "/codes", Perm: write, handler: s.pageAddCode},
		{Method: "GET", Pattern: "/codes/{id}", Perm: read, handler: s.pageCode},
	}
}

type codeRow struct {
	ID                   int64
	Label, Person, Valid string
	PersonID             int64
	Revoked              bool
	CanReveal, CanRevoke bool
	Locks                []codeLock
}

type codeLock struct {
	ID           int64
	Name, Status string
}

// lockChoice is a lock to put a code on, with why it cannot take one now.
type lockChoice struct {
	ID                int64
	Name, Place, Zone string // Place: its site's name; Zone: its site's time zone
	Checked           bool
	Refused           string
	NoKeypad          bool
}

// codeForm is what the add-a-code form was given, shown again when it is refused.
type codeForm struct {
	PersonID                    int64
	Label, Valid, From, Until   string
	Days                        map[int]bool
	HoursFrom, HoursUntil, Uses string
	OneTime, Confirmed          bool
}

type codesPage struct {
	base
	Codes, Gone []codeRow // gone: revoked and removed from every lock
	People      []*latchkey.Person
	Locks       []lockChoice
	Form        codeForm
	Weekdays    []weekday
	NewPIN      string
	Back        *lockChoice // the one lock the new code went on, to go back to
}

type weekday struct {
	Day  int
	Name string
}

var weekdays = []weekday{{1, "Mon"}, {2, "Tue"}, {3, "Wed"}, {4, "Thu"}, {5, "Fri"}, {6, "Sat"}, {0, "Sun"}}

// codesPage lists every code with where it stands; form is what the add form shows.
func (s *Server) codesPage(r *http.Request, form codeForm, checked map[int64]bool) (codesPage, error) {
	page := codesPage{base: s.base(r, "codes"), Form: form, Weekdays: weekdays}
	rec, err := s.Service.Export(r.Context())
	if err != nil {
		return page, err
	}
	page.People = rec.People
	people, locks := map[int64]string{}, map[int64]string{}
	for _, p := range rec.People {
		people[p.ID] = p.Name
	}
	zones := lockZones(rec)
	siteName, siteNames := map[int64]string{}, map[int64]string{} // by site, by door
	sites, doorSites := map[int64]*latchkey.Site{}, map[int64]*latchkey.Site{}
	for _, st := range rec.Sites {
		siteName[st.ID] = st.Name
		sites[st.ID] = st
	}
	for _, d := range rec.Doors {
		siteNames[d.ID] = siteName[d.SiteID]
		doorSites[d.ID] = sites[d.SiteID]
	}
	lockSites := map[int64]*latchkey.Site{}
	connected := map[int64]bool{}
	for _, l := range rec.Locks {
		locks[l.ID] = l.Name
		connected[l.ID] = l.Connection.Driver != ""
		lockSites[l.ID] = doorSites[l.DoorID]
		choice := lockChoice{ID: l.ID, Name: l.Name, Checked: checked[l.ID], NoKeypad: !s.Catalog.TakesCodes(l.ModelID)}
		if refusal := s.Service.ProgrammingRefusal(l); refusal != nil {
			choice.Refused = latchkey.ErrorMessage(refusal)
		}
		choice.Zone, choice.Place = zones[l.ID].String(), siteNames[l.DoorID]
		page.Locks = append(page.Locks, choice)
	}
	for _, c := range rec.Codes {
		row := codeRow{ID: c.ID, Label: c.Label, Person: people[c.PersonID], PersonID: c.PersonID, Revoked: c.Revoked,
			CanReveal: page.CanReveal && !c.Revoked, CanRevoke: page.CanWrite && !c.Revoked}
		var loc *time.Location
		gone := c.Revoked
		for _, g := range rec.Grants {
			if g.CodeID == c.ID {
				row.Locks = append(row.Locks, codeLock{ID: g.LockID, Name: locks[g.LockID], Status: standing(g, c, connected[g.LockID], lockSites[g.LockID], time.Now())})
				gone = gone && g.Status == latchkey.GrantRemoved
				if loc == nil {
					loc = zones[g.LockID]
				}
			}
		}
		row.Valid = c.Validity(loc)
		if gone {
			page.Gone = append(page.Gone, row)
		} else {
			page.Codes = append(page.Codes, row)
		}
	}
	return page, nil
}

// lockZone is the time zone of a lock's site, remembered in seen for the next call.
func (s *Server) lockZone(ctx context.Context, lockID int64, seen map[int64]*time.Location) (*time.Location, error) {
	if loc, ok := seen[lockID]; ok {
		return loc, nil
	}
	rec, err := s.Service.FindLockRecord(ctx, lockID)
	if err != nil {
		return nil, err
	}
	seen[lockID] = siteZone(rec.Site)
	return seen[lockID], nil
}

// lockZones is the time zone of each lock's site.
func lockZones(rec *latchkey.Records) map[int64]*time.Location {
	siteOfDoor, zoneOfSite := map[int64]int64{}, map[int64]*time.Location{}
	for _, st := range rec.Sites {
		zoneOfSite[st.ID] = siteZone(st)
	}
	for _, d := range rec.Doors {
		siteOfDoor[d.ID] = d.SiteID
	}
	out := map[int64]*time.Location{}
	for _, l := range rec.Locks {
		if loc := zoneOfSite[siteOfDoor[l.DoorID]]; loc != nil {
			out[l.ID] = loc
		} else {
			out[l.ID] = time.UTC
		}
	}
	return out
}

func (s *Server) pageCodes(w http.ResponseWriter, r *http.Request) {
	checked := map[int64]bool{}
	if id, ok := canonicalNumber(r.URL.Query().Get("lock"), 1); ok {
		checked[id] = true
	}
	page, err := s.codesPage(r, codeForm{Valid: "always"}, checked)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, 200, "codes", page)
}

// pageAddCode adds a code and shows its PIN once, on the page itself (never in a URL).
// A refused form comes back as it was filled in, the PIN excepted.
func (s *Server) pageAddCode(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	form := codeForm{Label: r.PostFormValue("label"), Valid: r.PostFormValue("valid"), From: r.PostFormValue("from"), Until: r.PostFormValue("until"),
		HoursFrom: r.PostFormValue("hours_from"), HoursUntil: r.PostFormValue("hours_until"), Uses: strings.TrimSpace(r.PostFormValue("uses")),
		OneTime: r.PostFormValue("one_time") == "1", Confirmed: r.PostFormValue("confirmed") == "1", Days: map[int]bool{}}
	for _, d := range r.PostForm["day"] {
		if n, ok := canonicalNumber(d, 0); ok && n <= 6 {
			form.Days[int(n)] = true
		}
	}
	checked := map[int64]bool{}
	var lockIDs []int64
	personID, err := formID(r, "person_id")
	form.PersonID = personID
	if err == nil {
		for _, v := range r.PostForm["lock_id"] {
			id, ok := canonicalNumber(v, 1)
			if !ok {
				err = latchkey.Errorf(latchkey.EINVALID, "Choose the locks from the list.")
				break
			}
			lockIDs, checked[id] = append(lockIDs, id), true
		}
	}
	var pin string
	if err == nil {
		code := latchkey.Code{PersonID: personID, Label: form.Label, OneTime: form.OneTime}
		if code.UseLimit, err = formUses(form.Uses); err == nil {
			code.Schedule, err = s.formSchedule(r, form, lockIDs)
		}
		if err == nil {
			_, pin, err = s.Service.CreateCode(r.Context(), latchkey.NewCode{Code: code, PIN: strings.TrimSpace(r.PostFormValue("pin")),
				LockIDs: lockIDs, Confirmed: form.Confirmed})
		}
	}
	if err == nil {
		form, checked = codeForm{Valid: "always"}, nil
	}
	page, perr := s.codesPage(r, form, checked)
	if perr != nil {
		s.renderError(w, r, perr)
		return
	}
	if err != nil {
		page.Error = latchkey.ErrorMessage(err)
		s.render(w, r, statusByCode[latchkey.ErrorCode(err)], "codes", page)
		return
	}
	page.NewPIN = pin
	if len(lockIDs) == 1 {
		for i := range page.Locks {
			if page.Locks[i].ID == lockIDs[0] {
				page.Back = &page.Locks[i]
			}
		}
	}
	s.render(w, r, http.StatusOK, "codes", page)
}

func formUses(v string) (int, error) {
	if v == "" {
		return 0, nil
	}
	n, ok := canonicalNumber(v, 1)
	if !ok || n > latchkey.MaxUseLimit {
		return 0, latchkey.Errorf(latchkey.EINVALID, "Uses %q: give a whole number from 1 to %d, or leave it empty for no limit.", v, latchkey.MaxUseLimit)
	}
	return int(n), nil
}

// formSchedule reads when a code works. Dates and hours are wall-clock times at the
// doors: read in the time zone of the first chosen lock's site.
func (s *Server) formSchedule(r *http.Request, f codeForm, lockIDs []int64) (latchkey.Schedule, error) {
	switch f.Valid {
	case "", "always":
		return latchkey.Schedule{Kind: latchkey.ScheduleAlways}, nil
	case "window":
		loc := time.UTC
		if len(lockIDs) > 0 {
			rec, err := s.Service.FindLockRecord(r.Context(), lockIDs[0])
			if err != nil {
				return latchkey.Schedule{}, err
			}
			loc = siteZone(rec.Site)
		}
		from, err := formLocalTime(f.From, "start", loc)
		if err != nil {
			return latchkey.Schedule{}, err
		}
		until, err := formLocalTime(f.Until, "end", loc)
		if err != nil {
			return latchkey.Schedule{}, err
		}
		return latchkey.Schedule{Kind: latchkey.ScheduleWindow, Start: &from, End: &until}, nil
	case "weekly":
		var days []string
		for _, d := range weekdays {
			if f.Days[d.Day] {
				days = append(days, strings.ToLower(d.Name))
			}
		}
		if len(days) == 0 {
			return latchkey.Schedule{}, latchkey.Errorf(latchkey.EINVALID, "Tick the days the code works on.")
		}
		for _, t := range []string{f.HoursFrom, f.HoursUntil} {
			if !clockField.MatchString(t) {
				return latchkey.Schedule{}, latchkey.Errorf(latchkey.EINVALID, "Give the hours as HH:MM, such as 08:00 and 17:00.")
			}
		}
		until := f.HoursUntil
		if until == "00:00" {
			until = "24:00" // until midnight
		}
		var parts []string
		for _, d := range days {
			parts = append(parts, d+" "+f.HoursFrom+"-"+until)
		}
		hours, err := latchkey.ParseWeekly(strings.Join(parts, ", "))
		return latchkey.Schedule{Kind: latchkey.ScheduleWeekly, Weekly: hours}, err
	}
	return latchkey.Schedule{}, latchkey.Errorf(latchkey.EINVALID, "Choose when the code works: always, between two dates, or on weekly hours.")
}

// clockField is a time of day as a browser's time field sends it.
var clockField = regexp.MustCompile(`^[0-2][0-9]:[0-5][0-9]$`)

// formLocalTime reads a date and time as a browser's datetime-local field sends it.
func formLocalTime(v, what string, loc *time.Location) (time.Time, error) {
	t, err := time.ParseInLocation("2006-01-02T15:04", strings.TrimSpace(v), loc)
	if err != nil {
		return time.Time{}, latchkey.Errorf(latchkey.EINVALID, "Give the window's %s as a date and time (YYYY-MM-DD HH:MM).", what)
	}
	return t, nil
}
