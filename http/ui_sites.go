package http

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/latchkey/latchkey"
)

func (s *Server) siteRoutes() []uiRoute {
	read, write := latchkey.PermRead, latchkey.PermWrite
	return []uiRoute{
		{Method: "GET", Pattern: "/sites/{id}", Perm: read, handler: s.pageSite},
		{Method: "POST", Pattern: "/sites/{id}", Perm: write, handler: s.pageEditSite},
		{Method: "POST", Pattern: "/sites/{id}/delete", Perm: write, handler: s.pageDeleteSite},
		{Method: "POST", Pattern: "/sites/{id}/doors", Perm: write, handler: s.pageAddDoor},
		{Method: "POST", Pattern: "/doors/{id}", Perm: write, handler: s.pageRenameDoor},
		{Method: "POST", Pattern: "/doors/{id}/delete", Perm: write, handler: s.pageDeleteDoor},
	}
}

type doorLine struct {
	Door  *latchkey.Door
	Locks []*latchkey.Lock
}

type sitePage struct {
	base
	Site  *latchkey.Site
	Doors []doorLine
	Zones []string
}

// commonZones are offered when a site's time zone is typed (any IANA name is taken).
var commonZones = []string{"America/New_York", "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles",
	"America/Anchorage", "Pacific/Honolulu", "America/Puerto_Rico", "America/Halifax", "America/Toronto", "America/Winnipeg",
	"America/Edmonton", "America/Vancouver", "America/Mexico_City", "Europe/London", "Europe/Dublin", "Europe/Lisbon",
	"Europe/Paris", "Europe/Berlin", "Europe/Madrid", "Europe/Rome", "Europe/Amsterdam", "Europe/Stockholm", "Europe/Athens",
	"Australia/Sydney", "Australia/Melbourne", "Australia/Brisbane", "Australia/Perth", "Pacific/Auckland", "Asia/Tokyo", "UTC"}

func (s *Server) pageSite(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var page sitePage
	if err == nil {
		page, err = s.sitePage(r, id)
	}
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, 200, "site", page)
}

// sitePage reads a site with its doors and their locks.
func (s *Server) sitePage(r *http.Request, id int64) (sitePage, error) {
	ctx := r.Context()
	page := sitePage{base: s.base(r, "dashboard"), Zones: commonZones}
	var err error
	if page.Site, err = s.Service.FindSiteByID(ctx, id); err != nil {
		return page, err
	}
	doors, _, err := s.Service.FindDoors(ctx, latchkey.DoorFilter{SiteID: &id}, latchkey.Page{Limit: 1000})
	if err != nil {
		return page, err
	}
	// One read of the site's locks, not one per door: each list derives what its locks need.
	locks, _, err := s.Service.FindLocks(ctx, latchkey.LockFilter{SiteID: &id}, latchkey.Page{Limit: 1000})
	if err != nil {
		return page, err
	}
	byDoor := map[int64][]*latchkey.Lock{}
	for _, l := range locks {
		byDoor[l.DoorID] = append(byDoor[l.DoorID], l)
	}
	for _, d := range doors {
		page.Doors = append(page.Doors, doorLine{Door: d, Locks: byDoor[d.ID]})
	}
	return page, nil
}

// siteBack goes back to the site's page after a form: with what it says done, or, when
// the form was refused, the page itself with why.
func (s *Server) siteBack(w http.ResponseWriter, r *http.Request, siteID int64, done string, err error) {
	if err != nil {
		page, perr := s.sitePage(r, siteID)
		if perr != nil {
			s.renderError(w, r, err)
			return
		}
		if latchkey.ErrorCode(err) == latchkey.EINTERNAL {
			logger(r).Error("page failed", "error", err.Error())
		}
		page.Error = latchkey.ErrorMessage(err)
		s.render(w, r, statusOf(w, err), "site", page)
		return
	}
	http.Redirect(w, r, "/sites/"+strconv.FormatInt(siteID, 10)+"?done="+done, http.StatusSeeOther)
}

func (s *Server) pageEditSite(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err == nil {
		name, address, zone := r.PostFormValue("name"), r.PostFormValue("address"), r.PostFormValue("time_zone")
		u := latchkey.SiteUpdate{Name: &name, Address: &address, TimeZone: &zone}
		if text := strings.TrimSpace(r.PostFormValue("code_lead_minutes")); text != "" {
			lead, convErr := strconv.Atoi(text)
			if convErr != nil {
				s.siteBack(w, r, id, "", latchkey.Errorf(latchkey.EINVALID, "The lead time is a whole number of minutes, from 1 to %d; %q is not one.", latchkey.MaxCodeLeadMinutes, text))
				return
			}
			u.CodeLeadMinutes = &lead
		}
		_, err = s.Service.UpdateSite(r.Context(), id, u)
	}
	s.siteBack(w, r, id, "saved", err)
}

func (s *Server) pageDeleteSite(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err == nil {
		err = s.Service.DeleteSite(r.Context(), id)
	}
	if err != nil {
		s.siteBack(w, r, id, "", err)
		return
	}
	http.Redirect(w, r, "/?done=removed", http.StatusSeeOther)
}

func (s *Server) pageAddDoor(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err == nil {
		err = s.Service.CreateDoor(r.Context(), &latchkey.Door{SiteID: id, Name: r.PostFormValue("name")})
	}
	s.siteBack(w, r, id, "door", err)
}

func (s *Server) pageRenameDoor(w http.ResponseWriter, r *http.Request) {
	s.doorAct(w, r, "saved", func(id int64) error {
		_, err := s.Service.UpdateDoor(r.Context(), id, r.PostFormValue("name"))
		return err
	})
}

func (s *Server) pageDeleteDoor(w http.ResponseWriter, r *http.Request) {
	s.doorAct(w, r, "removed", func(id int64) error { return s.Service.DeleteDoor(r.Context(), id) })
}

// doorAct does something to a door and goes back to its site's page.
func (s *Server) doorAct(w http.ResponseWriter, r *http.Request, done string, act func(id int64) error) {
	id, err := pathID(r, "id")
	var d *latchkey.Door
	if err == nil {
		d, err = s.Service.FindDoorByID(r.Context(), id)
	}
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.siteBack(w, r, d.SiteID, done, act(id))
}
