package http

import (
	"net/http"

	"github.com/latchkey/latchkey"
)

// Hubs over the API: owners add and remove the Z-Wave JS server and the Zigbee2MQTT
// installation locks are reached through; anyone who reads records lists them (never
// their secrets) and sees how their drivers are doing. The rules are the domain's.

// HubInput adds a hub. Secret is the MQTT password or the zwave-js-server token, sealed
// by the server and never shown again.
type HubInput struct {
	Driver    latchkey.Driver `json:"driver"`
	Name      string          `json:"name,omitempty"`
	URL       string          `json:"url"`
	BaseTopic string          `json:"base_topic,omitempty"`
	Username  string          `json:"username,omitempty"`
	Secret    string          `json:"secret,omitempty"`
}

// hubStatuses is the health of the server's hub drivers; none when it runs none.
func (s *Server) hubStatuses() []latchkey.HubStatus {
	if s.Hubs == nil {
		return []latchkey.HubStatus{}
	}
	return s.Hubs.HubStatuses()
}

func (s *Server) hubRoutes() []route {
	svc := s.Service
	settings, read := latchkey.PermSettings, latchkey.PermRead
	return []route{
		{Method: "POST", Pattern: "/api/v1/hubs", Summary: "Add a hub (one per driver): its password or token is sealed and never shown", Perm: settings, Request: HubInput{}, Response: &latchkey.Hub{}, handler: handle(func(w http.ResponseWriter, r *http.Request) (int, any, error) {
			var in HubInput
			if err := decode(w, r, &in); err != nil {
				return 0, nil, err
			}
			v, err := svc.CreateHub(r.Context(), latchkey.NewHub{Driver: in.Driver, Name: in.Name, URL: in.URL, BaseTopic: in.BaseTopic, Username: in.Username, Secret: in.Secret})
			return http.StatusCreated, v, err
		})},
		{Method: "GET", Pattern: "/api/v1/hubs", Summary: "List hubs, never their secrets", Perm: read, Response: []latchkey.Hub{}, handler: handle(func(w http.ResponseWriter, r *http.Request) (int, any, error) {
			v, err := svc.FindHubs(r.Context())
			return http.StatusOK, v, err
		})},
		{Method: "GET", Pattern: "/api/v1/hubs/status", Summary: "How each hub driver this server runs is doing: connected, last heard, last error", Perm: read, Response: []latchkey.HubStatus{}, handler: handle(func(w http.ResponseWriter, r *http.Request) (int, any, error) {
			return http.StatusOK, s.hubStatuses(), nil
		})},
		{Method: "GET", Pattern: "/api/v1/hubs/{id}", Summary: "Show a hub, never its secret", Perm: read, Response: &latchkey.Hub{}, handler: handle(byID("id", func(r *http.Request, id int64) (int, any, error) {
			v, err := svc.FindHubByID(r.Context(), id)
			return http.StatusOK, v, err
		}))},
		{Method: "DELETE", Pattern: "/api/v1/hubs/{id}", Summary: "Remove a hub (refused while locks are connected through it)", Perm: settings, handler: handle(deleted(func(r *http.Request, id int64) error { return svc.DeleteHub(r.Context(), id) }))},
	}
}
