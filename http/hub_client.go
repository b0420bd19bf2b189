package http

import (
	"context"

	"github.com/latchkey/latchkey"
)

// The client's side of the hub routes: the command line manages a server's hubs through
// it as it manages local ones through the service, and reads how they are doing.

var (
	_ latchkey.HubService = (*Client)(nil)
	_ latchkey.Discovery  = (*Client)(nil)
)

// DiscoveredLocks lists the locks the server's hubs know that no lock record is
// connected to.
func (c *Client) DiscoveredLocks(ctx context.Context) ([]latchkey.HubDiscovery, error) {
	var v []latchkey.HubDiscovery
	return v, c.do(ctx, "GET", "/api/v1/hubs/discovered", nil, &v)
}

// AdoptDiscovered records a discovered lock on a door and surveys its slots.
func (c *Client) AdoptDiscovered(ctx context.Context, req latchkey.DiscoveredAdoption) (*latchkey.Lock, error) {
	var v latchkey.Lock
	in := AdoptInput{Driver: req.Driver, Address: req.Address, DoorID: req.DoorID, Name: req.Name, ModelID: req.ModelID}
	return &v, c.do(ctx, "POST", "/api/v1/hubs/discovered/adopt", in, &v)
}

// SurveyLock reads the slots of an adopted lock its survey has not read yet.
func (c *Client) SurveyLock(ctx context.Context, lockID int64) (*latchkey.Lock, error) {
	var v latchkey.Lock
	return &v, c.do(ctx, "POST", "/api/v1/locks/"+id(lockID)+"/survey", nil, &v)
}

// CreateHub adds a hub.
func (c *Client) CreateHub(ctx context.Context, req latchkey.NewHub) (*latchkey.Hub, error) {
	var v latchkey.Hub
	in := HubInput{Driver: req.Driver, Name: req.Name, URL: req.URL, BaseTopic: req.BaseTopic, Username: req.Username, Secret: req.Secret}
	return &v, c.do(ctx, "POST", "/api/v1/hubs", in, &v)
}

// FindHubs lists hubs.
func (c *Client) FindHubs(ctx context.Context) ([]*latchkey.Hub, error) {
	var v []*latchkey.Hub
	return v, c.do(ctx, "GET", "/api/v1/hubs", nil, &v)
}

// FindHubByID returns a hub.
func (c *Client) FindHubByID(ctx context.Context, n int64) (*latchkey.Hub, error) {
	var v latchkey.Hub
	return &v, c.do(ctx, "GET", "/api/v1/hubs/"+id(n), nil, &v)
}

// DeleteHub removes a hub.
func (c *Client) DeleteHub(ctx context.Context, n int64) error {
	return c.do(ctx, "DELETE", "/api/v1/hubs/"+id(n), nil, nil)
}

// HubStatuses is how the server's hub drivers are doing.
func (c *Client) HubStatuses(ctx context.Context) ([]latchkey.HubStatus, error) {
	var v []latchkey.HubStatus
	return v, c.do(ctx, "GET", "/api/v1/hubs/status", nil, &v)
}
