package latchkey

import (
	"strconv"
	"time"
)

// Site is a place that holds doors: a home, a rental unit, a building.
type Site struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	Address  string `json:"address,omitempty"`
	TimeZone string `json:"time_zone"` // IANA name; schedules of codes on this site use it
	// CodeLeadMinutes is how long before a code's time starts the sync engine puts it on
	// the site's locks, so that it works when the guest arrives even if a lock is slow to
	// answer (0 is the default, DefaultCodeLeadMinutes, which a new site records).
	CodeLeadMinutes int       `json:"code_lead_minutes"`
	CreatedAt       time.Time `json:"created_at"`
}

// Bounds of a site's code lead time: an hour by default, as the best peer does
// (protocols.md §5), and at most a week.
const (
	DefaultCodeLeadMinutes = 60
	MaxCodeLeadMinutes     = 7 * 24 * 60
)

// CodeLeadText says the site's lead time as a person would: "an hour", "45 minutes",
// "an hour and 30 minutes", "3 hours".
func (s *Site) CodeLeadText() string {
	m := int(s.CodeLead() / time.Minute)
	count := func(n int, unit string) string {
		switch {
		case n == 1 && unit == "hour":
			return "an hour"
		case n == 1:
			return "a minute"
		}
		return strconv.Itoa(n) + " " + unit + "s"
	}
	switch h, rest := m/60, m%60; {
	case h == 0:
		return count(rest, "minute")
	case rest == 0:
		return count(h, "hour")
	default:
		return count(h, "hour") + " and " + count(rest, "minute")
	}
}

// CodeLead is how long before a code's time starts it goes on the site's locks.
func (s *Site) CodeLead() time.Duration {
	if s.CodeLeadMinutes == 0 {
		return DefaultCodeLeadMinutes * time.Minute
	}
	return time.Duration(s.CodeLeadMinutes) * time.Minute
}

// Validate reports whether the site's fields are acceptable.
func (s *Site) Validate() error {
	if err := validateName("Site name", s.Name); err != nil {
		return err
	}
	if err := validateText("Site address", s.Address, maxLineLen, false); err != nil {
		return err
	}
	if s.TimeZone == "" {
		return Errorf(EINVALID, "Site time zone is required (an IANA name such as America/Chicago).")
	}
	// "Local" is the server's zone, not the site's; "Factory" and "posixrules" are tzdata's
	// own entries, not places.
	if _, err := time.LoadLocation(s.TimeZone); err != nil || s.TimeZone == "Local" || s.TimeZone == "Factory" || s.TimeZone == "posixrules" {
		return Errorf(EINVALID, "Site time zone %q is not a known IANA time zone; use a name such as America/Chicago.", s.TimeZone)
	}
	if s.CodeLeadMinutes < 0 || s.CodeLeadMinutes > MaxCodeLeadMinutes {
		return Errorf(EINVALID, "A site's code lead time is from 1 to %d minutes (a week), or 0 for the default (%d), not %d: codes go on its locks that long before their time starts.", MaxCodeLeadMinutes, DefaultCodeLeadMinutes, s.CodeLeadMinutes)
	}
	return nil
}

// Door is an opening on a site. A door may carry two locks, a knob and a deadbolt.
type Door struct {
	ID     int64  `json:"id"`
	SiteID int64  `json:"site_id"`
	Name   string `json:"name"` // "Front door", "Garage entry"
}

// Validate reports whether the door's fields are acceptable.
func (d *Door) Validate() error {
	if d.SiteID == 0 {
		return Errorf(EINVALID, "Door must belong to a site.")
	}
	return validateName("Door name", d.Name)
}
