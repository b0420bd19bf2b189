package http

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/latchkey/latchkey"
)

// The hubs on the pages: the settings page lists the hubs with their drivers' health and
// lets owners add and remove them; the dashboard shows each configured hub's health.

func (s *Server) hubUIRoutes() []uiRoute {
	settings := latchkey.PermSettings
	return []uiRoute{
		{Method: "POST", Pattern: "/settings/hubs", Perm: settings, handler: s.pageAddHub},
		{Method: "POST", Pattern: "/settings/hubs/{id}/delete", Perm: settings, handler: s.settingsAct(func(r *http.Request, id int64) (string, error) {
			return "Hub " + strconv.FormatInt(id, 10) + " removed: its driver stops.", s.Service.DeleteHub(r.Context(), id)
		})},
	}
}

// hubLine is a hub as the pages show it: its record and, when the server runs its
// driver, how it is doing.
type hubLine struct {
	Hub    *latchkey.Hub
	Status *latchkey.HubStatus
}

// hubLines pairs hubs with their drivers' health.
func (s *Server) hubLines(hubs []*latchkey.Hub) []hubLine {
	statuses := map[latchkey.Driver]latchkey.HubStatus{}
	for _, st := range s.hubStatuses() {
		statuses[st.Driver] = st
	}
	out := make([]hubLine, len(hubs))
	for i, h := range hubs {
		out[i].Hub = h
		if st, ok := statuses[h.Driver]; ok && st.HubID == h.ID {
			out[i].Status = &st
		}
	}
	return out
}

// freeHubDrivers are the drivers the add form offers: those with no hub yet, since a
// second hub of a driver is refused (a lock's connection names only its driver).
func freeHubDrivers(hubs []*latchkey.Hub) []latchkey.Driver {
	var out []latchkey.Driver
	for _, d := range latchkey.HubDrivers {
		if !slices.ContainsFunc(hubs, func(h *latchkey.Hub) bool { return h.Driver == d }) {
			out = append(out, d)
		}
	}
	return out
}

func (s *Server) pageAddHub(w http.ResponseWriter, r *http.Request) {
	h, err := s.Service.CreateHub(r.Context(), latchkey.NewHub{Driver: latchkey.Driver(r.PostFormValue("driver")), Name: r.PostFormValue("name"),
		URL: r.PostFormValue("url"), BaseTopic: r.PostFormValue("base_topic"), Username: r.PostFormValue("username"), Secret: r.PostFormValue("secret")})
	if err != nil {
		s.settings(w, r, "", err, "")
		return
	}
	s.settings(w, r, "Hub "+strconv.FormatInt(h.ID, 10)+" ("+h.Name+") added: the server reaches it now.", nil, "")
}
