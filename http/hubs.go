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

// AdoptInput records a lock a hub knows on a door: the hub's driver and the lock's
// address there, as GET /api/v1/hubs/discovered lists them; model_id empty takes the
// model its ids identify.
type AdoptInput struct {
	Driver  latchkey.Driver `json:"driver"`
	Address string          `json:"address"`
	DoorID  int64           `json:"door_id"`
	Name    string          `json:"name"`
	ModelID string          `json:"model_id,omitempty"`
}

func (s *Server) hubRoutes() []route {
	svc := s.Service
	var found latchkey.Discovery = svc
	settings, read, write := latchkey.PermSettings, latchkey.PermRead, latchkey.PermWrite
	return []route{
		{Method: "GET", Pattern: "/api/v1/hubs/discovered", Summary: "List, hub by hub, the locks a hub knows that no lock record is connected to, with the model their ids identify", Perm: read, Response: []latchkey.HubDiscovery{}, handler: handle(func(w http.ResponseWriter, r *http.Request) (int, any, error) {
			v, err := found.DiscoveredLocks(r.Context())
			return http.StatusOK, v, err
		})},
		{Method: "POST", Pattern: "/api/v1/hubs/discovered/adopt", Summary: "Record a discovered lock on a door and survey its slots: codes found are listed as foreign codes, never overwritten", Perm: write, Request: AdoptInput{}, Response: &latchkey.Lock{}, handler: handle(func(w http.ResponseWriter, r *http.Request) (int, any, error) {
			var in AdoptInput
			if err := decode(w, r, &in); err != nil {
				return 0, nil, err
			}
			v, err := found.AdoptDiscovered(r.Context(), latchkey.DiscoveredAdoption{Driver: in.Driver, Address: in.Address, DoorID: in.DoorID, Name: in.Name, ModelID: in.ModelID})
			return http.StatusCreated, v, err
		})},
		{Method: "POST", Pattern: "/api/v1/locks/{id}/survey", Summary: "Read the slots of an adopted lock its survey has not read yet (again after a sleepy lock did not answer)", Perm: write, Response: &latchkey.Lock{}, handler: handle(byID("id", func(r *http.Request, id int64) (int, any, error) {
			v, err := found.SurveyLock(r.Context(), id)
			return http.StatusOK, v, err
		}))},
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
