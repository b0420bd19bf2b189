package latchkey

import "time"

// Site is a place that holds doors: a home, a rental unit, a building.
type Site struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Address   string    `json:"address,omitempty"`
	TimeZone  string    `json:"time_zone"` // IANA name; schedules of codes on this site use it
	CreatedAt time.Time `json:"created_at"`
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
