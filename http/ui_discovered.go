package http

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/latchkey/latchkey"
)

// Discovered locks on the pages: the settings page lists, hub by hub, the locks a hub
// knows that no lock record is connected to, with the model their ids identify, and
// those who change records add one to a door. The lock's page then shows its survey and
// the codes found on it, as codes Latchkey does not own.

func (s *Server) discoveredUIRoutes() []uiRoute {
	write := latchkey.PermWrite
	return []uiRoute{
		{Method: "POST", Pattern: "/settings/hubs/adopt", Perm: write, handler: s.pageAdoptDiscovered},
		{Method: "POST", Pattern: "/locks/{id}/survey", Perm: write, handler: s.pageSurveyLock},
	}
}

// discoveredHub is a hub's discovered locks as the settings page shows them.
type discoveredHub struct {
	Driver latchkey.Driver
	Error  string
	Locks  []discoveredLine
}

// discoveredLine is one discovered lock: its model's name, or the models to choose from.
type discoveredLine struct {
	latchkey.DiscoveredLock
	Model      string        // the identified model's name; "" when a person chooses
	Candidates []ModelChoice // the models sharing its ids, when several do
}

// doorChoice is a door to add a lock to, named with its site.
type doorChoice struct {
	ID   int64
	Name string
}

// discoveredSection fills what the settings page shows of discovered locks, for those
// who change records, when this server runs hubs.
func (s *Server) discoveredSection(r *http.Request, page *settingsPage) error {
	if !page.CanWrite || len(s.Service.Listers) == 0 {
		return nil
	}
	found, err := s.Service.DiscoveredLocks(r.Context())
	if err != nil {
		return err
	}
	page.Discovery = true
	for _, hd := range found {
		h := discoveredHub{Driver: hd.Driver, Error: hd.Error}
		for _, dl := range hd.Locks {
			line := discoveredLine{DiscoveredLock: dl, Model: s.Catalog.ModelName(dl.ModelID)}
			for _, id := range dl.Candidates {
				line.Candidates = append(line.Candidates, ModelChoice{ID: id, Name: or(s.Catalog.ModelName(id), id)})
			}
			h.Locks = append(h.Locks, line)
		}
		page.Discovered = append(page.Discovered, h)
	}
	sites, _, err := s.Service.FindSites(r.Context(), latchkey.Page{Limit: 1000})
	if err != nil {
		return err
	}
	for _, site := range sites {
		doors, _, err := s.Service.FindDoors(r.Context(), latchkey.DoorFilter{SiteID: &site.ID}, latchkey.Page{Limit: 1000})
		if err != nil {
			return err
		}
		for _, d := range doors {
			page.Doors = append(page.Doors, doorChoice{ID: d.ID, Name: site.Name + " · " + d.Name})
		}
	}
	page.Models = s.Catalog.Models()
	return nil
}

func (s *Server) pageAdoptDiscovered(w http.ResponseWriter, r *http.Request) {
	req := latchkey.DiscoveredAdoption{Driver: latchkey.Driver(r.PostFormValue("driver")), Address: r.PostFormValue("address"),
		Name: r.PostFormValue("name"), ModelID: r.PostFormValue("model_id")}
	doorID, err := formID(r, "door_id")
	if err != nil {
		s.settings(w, r, "", latchkey.Errorf(latchkey.EINVALID, "Choose the door the lock is on."), "")
		return
	}
	req.DoorID = doorID
	if req.ModelID != "" && s.Catalog.ModelName(req.ModelID) == "" {
		s.settings(w, r, "", latchkey.Errorf(latchkey.EINVALID, "Choose the model from the list."), "")
		return
	}
	l, err := s.Service.AdoptDiscovered(r.Context(), req)
	if err != nil {
		s.settings(w, r, "", err, "")
		return
	}
	http.Redirect(w, r, "/locks/"+strconv.FormatInt(l.ID, 10)+"#survey", http.StatusSeeOther)
}

func (s *Server) pageSurveyLock(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err == nil {
		_, err = s.Service.SurveyLock(r.Context(), id)
	}
	if err != nil && latchkey.ErrorCode(err) != latchkey.EUNAVAILABLE {
		s.renderError(w, r, err)
		return
	}
	// A lock that stopped answering shows its survey's reason on its page.
	http.Redirect(w, r, "/locks/"+strconv.FormatInt(id, 10)+"#survey", http.StatusSeeOther)
}

// surveyText says where an adopted lock's survey stands, for its page.
func surveyText(sv latchkey.SlotSurvey) string {
	found := plural(sv.Found, "code", "codes")
	switch sv.State {
	case latchkey.SurveyDone:
		return fmt.Sprintf("Every slot was read when it was adopted from its hub: %s found on it.", found)
	case latchkey.SurveyPending:
		var b strings.Builder
		fmt.Fprintf(&b, "Its slots are being read: %s read so far, %s found. No code is put on it until every slot is read.", plural(sv.Read, "slot", "slots"), found)
		if sv.Reason != "" {
			b.WriteString(" " + sv.Reason)
		}
		return b.String()
	}
	return ""
}
