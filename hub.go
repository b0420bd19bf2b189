package latchkey

import (
	"context"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Hub is a Z-Wave JS server or a Zigbee2MQTT installation Latchkey reaches locks
// through. A lock's Connection names only its driver, so one hub per driver is kept: the
// driver is unique among hubs. The secret (the MQTT password, or a zwave-js-server
// token) is sealed by the vault when the hub is added and never shown again, not even a
// hint of it: a broker password is often short, and its last characters would give part
// of it away.
type Hub struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Driver Driver `json:"driver"` // zwavejs or zigbee2mqtt
	URL    string `json:"url"`    // never with a user name or password in it
	// BaseTopic is Zigbee2MQTT's mqtt.base_topic; empty for Z-Wave JS.
	BaseTopic string `json:"base_topic,omitempty"`
	// Username logs in to the MQTT broker; empty for Z-Wave JS, or a broker open to all.
	Username     string    `json:"username,omitempty"`
	HasSecret    bool      `json:"has_secret"`
	SealedSecret []byte    `json:"-"`
	CreatedBy    string    `json:"created_by"`
	CreatedAt    time.Time `json:"created_at"`
}

// Title is the hub's kind, as people call it.
func (d Driver) Title() string {
	switch d {
	case DriverZWaveJS:
		return "Z-Wave JS"
	case DriverZigbee2MQTT:
		return "Zigbee2MQTT"
	case DriverSim:
		return "the twins"
	}
	return string(d)
}

// HubDrivers are the drivers a hub can be added for, in the order people read them.
var HubDrivers = []Driver{DriverZWaveJS, DriverZigbee2MQTT}

// DefaultBaseTopic is Zigbee2MQTT's own default mqtt.base_topic.
const DefaultBaseTopic = "zigbee2mqtt"

// Limits on what a hub's record holds.
const (
	maxHubURLLen    = 2000
	maxHubTopicLen  = 200
	maxHubUserLen   = 200
	maxHubSecretLen = 1024
)

// hubSchemes are the URL schemes each driver takes: zwave-js-server speaks WebSocket;
// Zigbee2MQTT is reached through an MQTT broker, over TCP, TLS or WebSocket.
var hubSchemes = map[Driver][]string{
	DriverZWaveJS:     {"ws", "wss"},
	DriverZigbee2MQTT: {"mqtt", "mqtts", "tcp", "ssl", "ws", "wss"},
}

// NewHub asks for a hub. Secret is the MQTT password or the zwave-js-server token, if
// the hub asks for one; Name empty means the driver's title.
type NewHub struct {
	Driver    Driver `json:"driver"`
	Name      string `json:"name,omitempty"`
	URL       string `json:"url"`
	BaseTopic string `json:"base_topic,omitempty"`
	Username  string `json:"username,omitempty"`
	Secret    string `json:"secret,omitempty"`
}

// HubService is what the command line and the API use of hubs; Service implements it
// over a store, and the HTTP client over a server.
type HubService interface {
	// CreateHub adds a hub (owners only): EINVALID for a bad driver, URL, topic or
	// secret, ECONFLICT when a hub of that driver exists.
	CreateHub(ctx context.Context, req NewHub) (*Hub, error)
	// FindHubs lists the hubs, without their secrets.
	FindHubs(ctx context.Context) ([]*Hub, error)
	// FindHubByID returns one hub, without its secret; ENOTFOUND when there is none.
	FindHubByID(ctx context.Context, id int64) (*Hub, error)
	// DeleteHub removes a hub (owners only): ECONFLICT while locks are connected
	// through its driver.
	DeleteHub(ctx context.Context, id int64) error
}

var _ HubService = (*Service)(nil)

// HubStatus is how a hub's driver is doing in the server that runs it.
type HubStatus struct {
	Driver  Driver `json:"driver"`
	HubID   int64  `json:"hub_id,omitempty"` // 0 when no hub of the driver is configured
	Name    string `json:"name,omitempty"`
	Running bool   `json:"running"` // a driver was made from the hub's record
	// Connected says whether the driver reaches its hub now, as far as it knows.
	Connected bool `json:"connected"`
	// LastMessageAt is when the hub was last heard from: an event, or a command answered.
	LastMessageAt *time.Time `json:"last_message_at,omitempty"`
	// LastError is the last failure reaching the hub, as people read it (never a secret).
	LastError string `json:"last_error,omitempty"`
}

// HubHealth reports the state of every hub driver a server runs, one status per
// driver kind that can run, in HubDrivers' order.
type HubHealth interface {
	HubStatuses() []HubStatus
}

// HubConnection is a driver that can say whether it reaches its hub now. A driver
// without it is judged by what it does: connected once it answers or reports, not
// connected when a command fails because the hub cannot be reached.
type HubConnection interface {
	Connected() bool
}

// ParseHubURL checks a hub's URL for its driver: a scheme the driver speaks, a host, a
// port in range, no user name or password in it (they are given apart and sealed), no
// fragment. It returns the URL as the driver will dial it.
func ParseHubURL(d Driver, raw string) (string, error) {
	schemes, ok := hubSchemes[d]
	if !ok {
		return "", unknownHubDriver(d)
	}
	example := map[Driver]string{DriverZWaveJS: "ws://host:3000", DriverZigbee2MQTT: "mqtt://host:1883"}[d]
	raw = strings.TrimSpace(raw)
	switch {
	case raw == "":
		return "", Errorf(EINVALID, "A %s hub needs a URL, such as %s.", d.Title(), example)
	case len(raw) > maxHubURLLen:
		return "", Errorf(EINVALID, "The hub URL is longer than %d characters; use a shorter one.", maxHubURLLen)
	case !utf8.ValidString(raw) || strings.ContainsFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return "", Errorf(EINVALID, "The hub URL contains spaces or control characters; write it as %s.", example)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", Errorf(EINVALID, "The hub URL is not a URL; write it as %s.", example)
	}
	switch {
	case u.User != nil:
		// Said before anything else, and without echoing the URL: it holds a password.
		return "", Errorf(EINVALID, "Leave the user name and password out of the hub URL: give them with --username and --password-stdin (or the username and secret fields), so that the password is sealed.")
	case u.Scheme == "":
		return "", Errorf(EINVALID, "The hub URL has no scheme; write it as %s.", example)
	case !slices.Contains(schemes, strings.ToLower(u.Scheme)):
		return "", Errorf(EINVALID, "A %s hub URL starts with %s, not %q.", d.Title(), orList(schemesShown(schemes)), u.Scheme+"://")
	case u.Opaque != "" || u.Host == "" || u.Hostname() == "":
		return "", Errorf(EINVALID, "The hub URL names no host; write it as %s.", example)
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return "", Errorf(EINVALID, "The hub URL has a #fragment, which means nothing to a hub; leave it out.")
	}
	if err := checkHubHost(u.Hostname(), example); err != nil {
		return "", err
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", Errorf(EINVALID, "The hub URL's port %q is not a port (1 to 65535).", p)
		}
	}
	u.Scheme = strings.ToLower(u.Scheme)
	switch {
	case u.RawQuery != "" || u.ForceQuery:
		// A query is where a token would hide, in a URL listed to every reader.
		return "", Errorf(EINVALID, "Leave the query (?...) out of the hub URL: a token goes in --password-stdin (or the secret field), so that it is sealed.")
	case u.Scheme != "ws" && u.Scheme != "wss" && strings.Trim(u.Path, "/") != "":
		return "", Errorf(EINVALID, "An MQTT broker's URL is a host and a port only (%s); leave out the path.", example)
	}
	return u.String(), nil
}

// checkHubHost refuses a host no hub is at: one not in ASCII (it would be dialled
// percent-encoded, and fail), or an address that names no single machine on a network
// (unspecified, multicast, broadcast) or a link-local one, where a cloud's metadata
// service answers (169.254.169.254) and no hub is set up. Loopback and private
// addresses are where hubs are.
func checkHubHost(host, example string) error {
	for _, r := range host {
		if r > unicode.MaxASCII {
			return Errorf(EINVALID, "The hub URL's host is not in ASCII; write an international name in its xn-- form (as the hub's DNS record has it), or give its IP address, as in %s.", example)
		}
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return nil // a name: what it resolves to is the network's business
	}
	ip = ip.Unmap()
	switch {
	case ip.IsUnspecified() || ip.IsMulticast() || ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return Errorf(EINVALID, "The hub URL's address %s is no single machine (unspecified, multicast or broadcast); give the address of the machine the hub runs on.", ip)
	case ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast():
		return Errorf(EINVALID, "The hub URL's address %s is link-local (169.254.x.x or fe80::), where no hub is set up and a cloud's metadata service answers; give the hub's own address.", ip)
	}
	return nil
}

func schemesShown(schemes []string) []string {
	out := make([]string, len(schemes))
	for i, s := range schemes {
		out[i] = s + "://"
	}
	return out
}

// orList joins choices as people write them: "a, b or c".
func orList(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

func unknownHubDriver(d Driver) error {
	return Errorf(EINVALID, "A hub is zwavejs (Z-Wave JS) or zigbee2mqtt (Zigbee2MQTT), not %q.", truncate(strings.ToValidUTF8(string(d), "?"), 40))
}

// checkBaseTopic checks a Zigbee2MQTT base topic: a topic of its own, with no wildcard
// and no empty level, as Zigbee2MQTT's mqtt.base_topic is.
func checkBaseTopic(t string) error {
	switch {
	case !utf8.ValidString(t) || len(t) > maxHubTopicLen:
		return Errorf(EINVALID, "The base topic is not valid text of at most %d characters; it is mqtt.base_topic in Zigbee2MQTT's configuration (default zigbee2mqtt).", maxHubTopicLen)
	case strings.ContainsAny(t, "+#\x00") || strings.ContainsFunc(t, func(r rune) bool { return r < ' ' || r == 0x7f }):
		return Errorf(EINVALID, "The base topic contains a wildcard (+ or #) or a control character; it is mqtt.base_topic in Zigbee2MQTT's configuration (default zigbee2mqtt).")
	case strings.HasPrefix(t, "/") || strings.HasSuffix(t, "/") || strings.Contains(t, "//"):
		return Errorf(EINVALID, "The base topic %q has an empty level (a leading, trailing or double /); it is mqtt.base_topic in Zigbee2MQTT's configuration (default zigbee2mqtt).", t)
	}
	return nil
}

// checkHubSecret checks a password or token: printable, bounded. It never repeats it.
func checkHubSecret(s string) error {
	switch {
	case !utf8.ValidString(s):
		return Errorf(EINVALID, "The hub's password or token is not valid text (UTF-8).")
	case len(s) > maxHubSecretLen:
		return Errorf(EINVALID, "The hub's password or token is longer than %d bytes.", maxHubSecretLen)
	case strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f }):
		return Errorf(EINVALID, "The hub's password or token contains a control character (a line break?); give it on one line.")
	}
	return nil
}

// validate checks a request and returns the hub it makes (without its secret sealed).
func (req NewHub) validate() (*Hub, error) {
	if _, ok := hubSchemes[req.Driver]; !ok {
		return nil, unknownHubDriver(req.Driver)
	}
	u, err := ParseHubURL(req.Driver, req.URL)
	if err != nil {
		return nil, err
	}
	h := &Hub{Driver: req.Driver, Name: strings.TrimSpace(req.Name), URL: u, Username: req.Username, HasSecret: req.Secret != ""}
	if h.Name == "" {
		h.Name = req.Driver.Title()
	}
	if err := validateName("Hub name", h.Name); err != nil {
		return nil, err
	}
	if err := checkHubSecret(req.Secret); err != nil {
		return nil, err
	}
	switch req.Driver {
	case DriverZigbee2MQTT:
		h.BaseTopic = strings.TrimSpace(req.BaseTopic)
		if h.BaseTopic == "" {
			h.BaseTopic = DefaultBaseTopic
		}
		if err := checkBaseTopic(h.BaseTopic); err != nil {
			return nil, err
		}
		if err := validateText("MQTT username", h.Username, maxHubUserLen, false); err != nil {
			return nil, err
		}
		if h.HasSecret && h.Username == "" {
			return nil, Errorf(EINVALID, "An MQTT password goes with a username: give --username too (MQTT 3.1.1 takes no password alone).")
		}
	case DriverZWaveJS:
		if req.BaseTopic != "" {
			return nil, Errorf(EINVALID, "A base topic is Zigbee2MQTT's; a Z-Wave JS hub has none: leave --base-topic out.")
		}
		if req.Username != "" || req.Secret != "" {
			return nil, Errorf(EINVALID, "zwave-js-server takes no username or password; leave --username and --password-stdin out (reach it over a trusted network, or wss:// behind a proxy that checks who connects).")
		}
	}
	return h, nil
}

// hubAAD binds a sealed hub secret to its hub.
func hubAAD(id int64) []byte { return []byte("latchkey:hub:" + strconv.FormatInt(id, 10)) }

// hubDetail is what the audit log keeps of a hub: never its secret.
func hubDetail(h *Hub) map[string]any {
	d := map[string]any{"driver": h.Driver, "name": h.Name, "url": h.URL, "secret": map[bool]string{true: "given", false: "none"}[h.HasSecret]}
	if h.BaseTopic != "" {
		d["base_topic"] = h.BaseTopic
	}
	if h.Username != "" {
		d["username"] = h.Username
	}
	return d
}

// CreateHub adds a hub of a driver that has none yet, its secret sealed by the vault.
// Owners only: a hub decides where codes are sent.
func (s *Service) CreateHub(ctx context.Context, req NewHub) (*Hub, error) {
	if err := requireSettings(ctx); err != nil {
		return nil, err
	}
	h, err := req.validate()
	if err != nil {
		return nil, err
	}
	if h.HasSecret && s.Vault == nil {
		return nil, Errorf(EUNAVAILABLE, "No vault is open to seal the hub's password.")
	}
	h.CreatedBy, h.CreatedAt = ActorFromContext(ctx), s.now()
	err = s.change(ctx, "hub.create", "hub", func(tx Tx) (int64, any, error) {
		h.ID, h.SealedSecret = 0, nil // a change may run more than once
		existing, err := tx.FindHubs(ctx)
		if err != nil {
			return 0, nil, err
		}
		for _, o := range existing {
			if o.Driver == h.Driver {
				return 0, nil, Errorf(ECONFLICT, "There is a %s hub already (hub %d, %s): Latchkey reaches one hub per driver. Remove it first (latchkey hub rm %d) to replace it.", h.Driver.Title(), o.ID, o.Name, o.ID)
			}
		}
		if err := tx.CreateHub(ctx, h); err != nil {
			return 0, nil, err
		}
		if h.HasSecret {
			if h.SealedSecret, err = s.Vault.Seal([]byte(req.Secret), hubAAD(h.ID)); err != nil {
				return 0, nil, fmt.Errorf("seal hub secret: %w", err)
			}
			if err := tx.UpdateHub(ctx, h); err != nil {
				return 0, nil, err
			}
		}
		return h.ID, hubDetail(h), nil
	})
	if err != nil {
		return nil, err
	}
	h.SealedSecret = nil
	s.kickHubs()
	return h, nil
}

// FindHubs lists the hubs, without their secrets. Anyone who may read records may list
// them: which hubs run is no secret, their passwords are.
func (s *Service) FindHubs(ctx context.Context) (hubs []*Hub, err error) {
	err = s.view(ctx, func(tx Tx) error {
		hubs, err = tx.FindHubs(ctx)
		return err
	})
	for _, h := range hubs {
		h.SealedSecret = nil
	}
	if hubs == nil {
		hubs = []*Hub{}
	}
	return hubs, err
}

// FindHubByID returns one hub, without its secret.
func (s *Service) FindHubByID(ctx context.Context, id int64) (h *Hub, err error) {
	err = s.view(ctx, func(tx Tx) error {
		h, err = tx.FindHubByID(ctx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	h.SealedSecret = nil
	return h, nil
}

// DeleteHub removes a hub. It is refused while locks are connected through its driver:
// their codes would stop reaching them with no one told. Owners only.
func (s *Service) DeleteHub(ctx context.Context, id int64) error {
	if err := requireSettings(ctx); err != nil {
		return err
	}
	err := s.change(ctx, "hub.delete", "hub", func(tx Tx) (int64, any, error) {
		h, err := tx.FindHubByID(ctx, id)
		if err != nil {
			return 0, nil, err
		}
		locks, n, err := tx.FindLocks(ctx, LockFilter{Driver: &h.Driver}, Page{Limit: 5})
		if err != nil {
			return 0, nil, err
		}
		if n > 0 {
			names := make([]string, len(locks))
			for i, l := range locks {
				names[i] = fmt.Sprintf("%s (lock %d)", l.Name, l.ID)
			}
			if n > len(locks) {
				names = append(names, fmt.Sprintf("and %d more", n-len(locks)))
			}
			return 0, nil, Errorf(ECONFLICT, "Hub %d (%s) still reaches %d lock(s): %s. Disconnect them first (latchkey lock set ID --disconnect), then remove the hub.",
				h.ID, h.Name, n, strings.Join(names, ", "))
		}
		return id, hubDetail(h), tx.DeleteHub(ctx, id)
	})
	if err == nil {
		s.kickHubs()
	}
	return err
}

// HubSecret opens a hub's sealed secret, for the server that dials the hub: the one way
// it leaves the vault, and never to a person (no API or command shows it). Owners only
// (the server acts as one). Opening it is not audited: the server does it on each start
// and each change of hubs, with nobody behind it, and the secret stays in the process;
// the hub's creation and removal are what the audit log records.
func (s *Service) HubSecret(ctx context.Context, id int64) (string, error) {
	if err := requireSettings(ctx); err != nil {
		return "", err
	}
	var h *Hub
	err := s.Store.View(ctx, func(tx Tx) (err error) {
		h, err = tx.FindHubByID(ctx, id)
		return err
	})
	if err != nil || !h.HasSecret {
		return "", err
	}
	if s.Vault == nil {
		return "", Errorf(EUNAVAILABLE, "No vault is open to unseal the password of hub %d.", id)
	}
	secret, err := s.Vault.Open(h.SealedSecret, hubAAD(h.ID))
	if err != nil {
		if ErrorCode(err) == EUNAVAILABLE {
			return "", err
		}
		return "", Errorf(EINTERNAL, "The sealed password of hub %d does not open: it was altered or copied from another hub. Remove the hub and add it again.", h.ID)
	}
	return string(secret), nil
}

// HubsChanged delivers a value after a hub was added or removed, so that the server
// makes or stops its driver without a restart; a burst of changes is one value.
func (s *Service) HubsChanged() <-chan struct{} { return s.hubSignal.channel() }

// HubStarted tells the sync engine that a hub's driver runs now, so that the changes
// waiting for it are tried at once rather than at the engine's next look.
func (s *Service) HubStarted() { s.kickSync() }

func (s *Service) kickHubs() {
	select {
	case s.hubSignal.channel() <- struct{}{}:
	default:
	}
}

// resealHubSecrets seals every hub's secret again under the vault's current key.
func (s *Service) resealHubSecrets(ctx context.Context, tx Tx) (n int, err error) {
	hubs, err := tx.FindHubs(ctx)
	if err != nil {
		return 0, err
	}
	for _, h := range hubs {
		if !h.HasSecret {
			continue
		}
		secret, err := s.Vault.Open(h.SealedSecret, hubAAD(h.ID))
		if err != nil {
			return 0, err
		}
		if h.SealedSecret, err = s.Vault.Seal(secret, hubAAD(h.ID)); err != nil {
			return 0, err
		}
		if err := tx.UpdateHub(ctx, h); err != nil {
			return 0, err
		}
		n++
	}
	return n, nil
}
