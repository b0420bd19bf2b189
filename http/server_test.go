package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
	lkhttp "github.com/latchkey/latchkey/http"
	"github.com/latchkey/latchkey/postgres"
	"github.com/latchkey/latchkey/postgres/pgtest"
	"github.com/latchkey/latchkey/sqlite"
	"github.com/latchkey/latchkey/storetest"
)

// openStore opens a fresh store of the kind asked for, or skips PostgreSQL when its
// variable is not set.
func openStore(t *testing.T, kind string) latchkey.Store { return openStoreTB(t, kind) }

// newBenchService is the service benchmarks use: a real vault, the system clock.
func newBenchService(tb testing.TB, store latchkey.Store) *latchkey.Service {
	svc := storetest.NewService(tb, store)
	svc.Clock = latchkey.SystemClock{}
	return svc
}

func openStoreTB(t testing.TB, kind string) latchkey.Store {
	t.Helper()
	if kind == "sqlite" {
		db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "latchkey.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	u := pgtest.FreshSchema(t, "the API")
	if _, err := postgres.Migrate(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	db, err := postgres.Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// MustOpenServer starts a server on port 0 over a fresh store: the API alone.
func MustOpenServer(t *testing.T, kind string) (*lkhttp.Server, *latchkey.Service) {
	t.Helper()
	return mustOpen(t, kind, nil)
}

// MustOpenUIServer starts a server with the web UI (over a stand-in catalog) and the API,
// on a fresh SQLite store.
func MustOpenUIServer(t *testing.T) (*lkhttp.Server, *latchkey.Service) {
	t.Helper()
	return mustOpen(t, "sqlite", fakeCatalog{})
}

func mustOpen(t *testing.T, kind string, catalog lkhttp.Catalog) (*lkhttp.Server, *latchkey.Service) {
	t.Helper()
	svc := storetest.NewService(t, openStore(t, kind))
	svc.Clock = latchkey.SystemClock{}
	s := &lkhttp.Server{Service: svc, Addr: "127.0.0.1:0", Catalog: catalog}
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s, svc
}

// client is a browser-like client with a cookie jar, or a token client.
type client struct {
	t     *testing.T
	base  string
	http  *http.Client
	token string
	hdr   map[string]string
	last  http.Header // the last response's headers
}

func newClient(t *testing.T, base string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: base, http: &http.Client{Jar: jar}, hdr: map[string]string{}}
}

// do sends a request and decodes the JSON answer into out (when not nil).
func (c *client) do(method, path string, body any, out any) int {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for k, v := range c.hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	c.last = resp.Header
	if resp.Header.Get("Content-Type") == "text/event-stream" {
		return resp.StatusCode // a stream never ends; its status is all a route check needs
	}
	data, _ := io.ReadAll(resp.Body)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			c.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, data)
		}
	}
	return resp.StatusCode
}

func (c *client) must(method, path string, body, out any, want int) {
	c.t.Helper()
	var raw json.RawMessage
	if got := c.do(method, path, body, &raw); got != want {
		c.t.Fatalf("%s %s: status %d, want %d: %s", method, path, got, want, raw)
	}
	if out != nil {
		json.Unmarshal(raw, out)
	}
}

// setup creates the owner and a person, a lock and a code (code 1, whose PIN it returns),
// and returns the owner's client.
func setup(t *testing.T, base string) *client {
	c, _ := setupWithPIN(t, base)
	return c
}

func setupWithPIN(t *testing.T, base string) (*client, string) {
	owner := newClient(t, base)
	var me lkhttp.Me
	owner.must("GET", "/api/v1/me", nil, &me, 200)
	if !me.SetupNeeded {
		t.Fatal("a fresh server does not ask for setup")
	}
	owner.must("POST", "/api/v1/setup", lkhttp.Credentials{Name: "ana", Password: "correct horse battery"}, &me, 200)
	if me.Role != latchkey.UserOwner {
		t.Fatalf("setup: %+v", me)
	}
	owner.must("POST", "/api/v1/setup", lkhttp.Credentials{Name: "eve", Password: "another long one"}, nil, 409)
	var site latchkey.Site
	owner.must("POST", "/api/v1/sites", map[string]any{"name": "Maple Street", "time_zone": "America/Chicago"}, &site, 201)
	var door latchkey.Door
	owner.must("POST", "/api/v1/doors", map[string]any{"site_id": site.ID, "name": "Front"}, &door, 201)
	var lock latchkey.Lock
	owner.must("POST", "/api/v1/locks", map[string]any{"door_id": door.ID, "name": "Deadbolt", "model_id": "916"}, &lock, 201)
	var p latchkey.Person
	owner.must("POST", "/api/v1/people", map[string]any{"name": "Ana", "role": "owner"}, &p, 201)
	var nc lkhttp.NewCodeResponse
	owner.must("POST", "/api/v1/codes", lkhttp.NewCodeRequest{PersonID: p.ID, Label: "Ana", LockIDs: []int64{lock.ID}, Confirmed: true}, &nc, 201)
	if len(nc.PIN) < 4 || nc.Code.ID != 1 {
		t.Fatalf("new code %+v", nc)
	}
	return owner, nc.PIN
}

func TestAPI(t *testing.T) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			s, _ := MustOpenServer(t, kind)
			owner, pin := setupWithPIN(t, s.URL())
			var locks lkhttp.List[latchkey.Lock]
			owner.must("GET", "/api/v1/locks?limit=10", nil, &locks, 200)
			if locks.Total != 1 || locks.Limit != 10 || locks.Items[0].Status != latchkey.LockOK {
				t.Fatalf("locks %+v", locks)
			}
			// Invariant 1 over the API: the last way in is refused, 422 unsafe.
			var body lkhttp.ErrorBody
			if got := owner.do("DELETE", "/api/v1/codes/1", nil, &body); got != 422 || body.Error.Code != "unsafe" {
				t.Fatalf("revoke the last code: %d %+v", got, body)
			}
			// A code reads back without its digits, in any form.
			var code map[string]any
			owner.must("GET", "/api/v1/codes/1", nil, &code, 200)
			if _, ok := code["pin"]; ok || code["label"] != "Ana" || strings.Contains(fmt.Sprint(code), pin) {
				t.Fatalf("GET /api/v1/codes/1: %v", code)
			}
			if got := owner.do("GET", "/api/v1/codes/99", nil, &body); got != 404 {
				t.Fatalf("missing code: %d", got)
			}
			// A lock with a code on it keeps its record unless forced.
			if got := owner.do("DELETE", "/api/v1/locks/1", nil, &body); got != 422 || body.Error.Code != "unsafe" || !strings.Contains(body.Error.Message, "1 code on it") {
				t.Fatalf("removing a lock with a code: %d %+v", got, body)
			}
			if got := owner.do("DELETE", "/api/v1/locks/1?force=maybe", nil, &body); got != 400 || !strings.Contains(body.Error.Message, "neither true nor false") {
				t.Fatalf("?force=maybe: %d %+v", got, body)
			}
			// Given twice, which one counts would be a guess: refused, and the lock stays.
			if got := owner.do("DELETE", "/api/v1/locks/1?force=true&force=false", nil, &body); got != 400 || !strings.Contains(body.Error.Message, "give it once") {
				t.Fatalf("?force=true&force=false: %d %+v", got, body)
			}
			owner.must("GET", "/api/v1/locks/1", nil, nil, 200)
			if got := owner.do("GET", "/api/v1/locks?door=1&door=2", nil, &body); got != 400 || !strings.Contains(body.Error.Message, "give one id") {
				t.Fatalf("?door=1&door=2: %d %+v", got, body)
			}
			var rev lkhttp.RevealResponse
			owner.must("POST", "/api/v1/codes/1/reveal", nil, &rev, 200)
			if rev.PIN != pin || rev.ID != 1 {
				t.Fatalf("reveal gave code %d's PIN as %q; the code was created with another", rev.ID, rev.PIN)
			}
			var v lkhttp.VerifyResponse
			owner.must("GET", "/api/v1/audit/verify", nil, &v, 200)
			if !v.OK || v.Entries < 6 {
				t.Fatalf("audit %+v", v)
			}
			// Bad input gets a clear error.
			if got := owner.do("POST", "/api/v1/sites", map[string]any{"name": "X", "colour": "red"}, &body); got != 400 || !strings.Contains(body.Error.Message, "colour") {
				t.Fatalf("unknown field: %d %+v", got, body)
			}
			if got := owner.do("GET", "/api/v1/locks/abc", nil, &body); got != 400 {
				t.Fatalf("bad id: %d", got)
			}
			if got := owner.do("GET", "/api/v1/locks/99", nil, &body); got != 404 || body.Error.Code != "not_found" {
				t.Fatalf("missing lock: %d %+v", got, body)
			}
			if got := owner.do("GET", "/api/v1/nonsense", nil, &body); got != 404 {
				t.Fatalf("unknown route: %d", got)
			}
			// Sign out ends the session.
			owner.must("POST", "/api/v1/logout", nil, nil, 200)
			if got := owner.do("GET", "/api/v1/locks", nil, &body); got != 401 {
				t.Fatalf("after sign-out: %d", got)
			}
		})
	}
}

// routePermissions is the API's permission table, stated literally: what each route
// needs. A route whose declared permission changes, or a new route, fails
// TestRouteTable until it is written here too.
var routePermissions = map[string]latchkey.Permission{
	"POST /api/v1/tokens": latchkey.PermRead,

	"GET /api/v1/sites": latchkey.PermRead, "POST /api/v1/sites": latchkey.PermWrite,
	"GET /api/v1/sites/{id}": latchkey.PermRead, "DELETE /api/v1/sites/{id}": latchkey.PermWrite,
	"POST /api/v1/sites/{id}/bittings": latchkey.PermWrite,
	"GET /api/v1/doors":                latchkey.PermRead, "POST /api/v1/doors": latchkey.PermWrite,
	"GET /api/v1/doors/{id}": latchkey.PermRead, "DELETE /api/v1/doors/{id}": latchkey.PermWrite,
	"GET /api/v1/locks": latchkey.PermRead, "POST /api/v1/locks": latchkey.PermWrite,
	"GET /api/v1/locks/{id}": latchkey.PermRead, "GET /api/v1/locks/{id}/record": latchkey.PermRead,
	"PATCH /api/v1/locks/{id}": latchkey.PermWrite, "PUT /api/v1/locks/{id}/key": latchkey.PermWrite,
	"DELETE /api/v1/locks/{id}": latchkey.PermWrite, "POST /api/v1/locks/{id}/service": latchkey.PermWrite,
	"POST /api/v1/locks/{id}/rekey": latchkey.PermWrite, "POST /api/v1/locks/{id}/check-code": latchkey.PermWrite, "POST /api/v1/locks/{id}/reprovision": latchkey.PermWrite,
	"POST /api/v1/locks/{id}/receipts": latchkey.PermWrite, "GET /api/v1/locks/{id}/receipts": latchkey.PermRead,
	"GET /api/v1/locks/{id}/receipts/{receipt}": latchkey.PermRead,
	"GET /api/v1/locks/{id}/slots":              latchkey.PermRead, "POST /api/v1/locks/{id}/slots/{slot}/adopt": latchkey.PermWrite,
	"POST /api/v1/locks/{id}/slots/{slot}/clear": latchkey.PermWrite,
	"GET /api/v1/people":                         latchkey.PermRead, "POST /api/v1/people": latchkey.PermWrite,
	"GET /api/v1/people/{id}": latchkey.PermRead, "DELETE /api/v1/people/{id}": latchkey.PermWrite,
	"PATCH /api/v1/people/{id}": latchkey.PermWrite, "POST /api/v1/people/{id}/revoke": latchkey.PermWrite,
	"PATCH /api/v1/sites/{id}": latchkey.PermWrite, "PATCH /api/v1/doors/{id}": latchkey.PermWrite,
	"GET /api/v1/keys": latchkey.PermRead, "POST /api/v1/keys": latchkey.PermWrite,
	"GET /api/v1/keys/{id}": latchkey.PermRead, "POST /api/v1/keys/{id}/copies": latchkey.PermWrite,
	"PUT /api/v1/keys/{id}/copies/{copy}/state": latchkey.PermWrite, "PUT /api/v1/keys/{id}/state": latchkey.PermWrite,
	"GET /api/v1/codes": latchkey.PermRead, "POST /api/v1/codes": latchkey.PermWrite,
	"GET /api/v1/codes/{id}": latchkey.PermRead, "GET /api/v1/codes/{id}/grants": latchkey.PermRead, "GET /api/v1/grants": latchkey.PermRead,
	"POST /api/v1/codes/{id}/confirm": latchkey.PermWrite, "POST /api/v1/codes/{id}/retry": latchkey.PermWrite, "DELETE /api/v1/codes/{id}": latchkey.PermWrite,
	"POST /api/v1/codes/{id}/reveal": latchkey.PermReveal, "POST /api/v1/keys/{id}/reveal": latchkey.PermReveal,
	"GET /api/v1/events/stream": latchkey.PermRead, "GET /api/v1/events": latchkey.PermRead,
	"GET /api/v1/audit/verify": latchkey.PermRead, "GET /api/v1/audit": latchkey.PermRead, "GET /api/v1/export": latchkey.PermRead,

	"GET /api/v1/tokens": latchkey.PermRead, "DELETE /api/v1/tokens/{id}": latchkey.PermRead,
	"POST /api/v1/me/password": latchkey.PermRead, "POST /api/v1/me/revoke": latchkey.PermRead,
	"GET /api/v1/users": latchkey.PermAdmin, "POST /api/v1/users": latchkey.PermAdmin,
	"PATCH /api/v1/users/{id}": latchkey.PermAdmin, "DELETE /api/v1/users/{id}": latchkey.PermAdmin,
	"POST /api/v1/users/{id}/revoke": latchkey.PermAdmin,

	"POST /api/v1/webhooks": latchkey.PermSettings, "GET /api/v1/webhooks": latchkey.PermSettings,
	"GET /api/v1/webhooks/{id}": latchkey.PermSettings, "PATCH /api/v1/webhooks/{id}": latchkey.PermSettings,
	"DELETE /api/v1/webhooks/{id}": latchkey.PermSettings, "GET /api/v1/webhooks/{id}/deliveries": latchkey.PermSettings,
	"POST /api/v1/webhooks/deliveries/{id}/replay": latchkey.PermSettings,

	"POST /api/v1/procedures": latchkey.PermWrite, "GET /api/v1/procedures": latchkey.PermRead,
	"GET /api/v1/procedures/{id}": latchkey.PermRead, "POST /api/v1/procedures/{id}/steps": latchkey.PermWrite,
	"POST /api/v1/procedures/{id}/abort": latchkey.PermWrite, "POST /api/v1/procedures/{id}/escalate": latchkey.PermWrite,

	"POST /api/v1/hubs": latchkey.PermSettings, "GET /api/v1/hubs": latchkey.PermRead, "GET /api/v1/hubs/status": latchkey.PermRead,
	"GET /api/v1/hubs/{id}": latchkey.PermRead, "DELETE /api/v1/hubs/{id}": latchkey.PermSettings,
	"GET /api/v1/hubs/discovered": latchkey.PermRead, "POST /api/v1/hubs/discovered/adopt": latchkey.PermWrite,
	"POST /api/v1/locks/{id}/survey": latchkey.PermWrite,
}

// rolePermissions is SPEC §4.9's role table, stated literally (as the domain's own test
// states it), so that these requests check the server against the specification rather
// than against itself.
var rolePermissions = map[latchkey.UserRole][]latchkey.Permission{
	latchkey.UserManager:   {latchkey.PermRead, latchkey.PermWrite, latchkey.PermReveal},
	latchkey.UserInstaller: {latchkey.PermRead, latchkey.PermWrite},
	latchkey.UserViewer:    {latchkey.PermRead},
}

// Every route but health, readiness, metrics, the document and signing in needs
// authentication; each role is refused, through real requests, exactly what the literal
// tables above say it may not do.
func TestRouteTable(t *testing.T) {
	s, svc := MustOpenServer(t, "sqlite")
	owner := setup(t, s.URL())
	tokens := map[latchkey.UserRole]string{}
	for role := range rolePermissions {
		hash, _ := lkhttp.HashPassword("a long enough password")
		u := &latchkey.User{Name: string(role), Role: role, PasswordHash: hash}
		if err := svc.CreateUser(latchkey.NewContextWithActor(context.Background(), "ana"), u); err != nil {
			t.Fatal(err)
		}
		c := newClient(t, s.URL())
		c.must("POST", "/api/v1/login", lkhttp.Credentials{Name: string(role), Password: "a long enough password"}, nil, 200)
		var tok lkhttp.TokenResponse
		c.must("POST", "/api/v1/tokens", lkhttp.TokenRequest{Name: "cli"}, &tok, 201)
		tokens[role] = tok.Secret
	}
	open := map[string]bool{"/api/v1/openapi.json": true, "/api/v1/setup": true, "/api/v1/login": true, "/api/v1/logout": true, "/api/v1/me": true}
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		if got := newClient(t, s.URL()).do("GET", path, nil, nil); got != 200 {
			t.Errorf("GET %s without credentials: %d, want 200", path, got)
		}
	}
	doc := s.OpenAPI()
	paths := doc["paths"].(map[string]map[string]any)
	served := map[string]bool{}
	for pattern, ops := range paths {
		// Ids no record has: the routes' answers say who may call them without a
		// request changing or ending anything (a role revoking its own token, say).
		path := strings.NewReplacer("{id}", "999", "{copy}", "999", "{receipt}", "999").Replace(pattern)
		for method, op := range ops {
			method = strings.ToUpper(method)
			route := method + " " + pattern
			anon := newClient(t, s.URL())
			got := anon.do(method, path, nil, nil)
			if open[pattern] {
				if got == 404 || got == 405 {
					t.Errorf("%s is documented but not served (%d)", route, got)
				}
				continue
			}
			served[route] = true
			if route == "POST /api/v1/me/revoke" {
				// Signing out everywhere would end the roles' tokens for the routes after
				// it; TestAccountsAndTokens uses it. Its permission is still checked.
				if doc := fmt.Sprint(op.(map[string]any)["description"]); doc != "Needs permission to read records." {
					t.Errorf("%s documents %q", route, doc)
				}
				continue
			}
			perm, ok := routePermissions[route]
			if !ok {
				t.Errorf("%s is not in the literal permission table; add it with the permission it must need", route)
				continue
			}
			if doc := fmt.Sprint(op.(map[string]any)["description"]); doc != "Needs permission to "+string(perm)+"." {
				t.Errorf("%s documents %q, want permission to %s", route, doc, perm)
			}
			if got != 401 {
				t.Errorf("%s without credentials: %d, want 401", route, got)
			}
			for role, tok := range tokens {
				c := newClient(t, s.URL())
				c.token = tok
				got := c.do(method, path, nil, nil)
				allowed := slices.Contains(rolePermissions[role], perm)
				if !allowed && got != 403 {
					t.Errorf("%s as %s: %d, want 403 (may not %s)", route, role, got, perm)
				}
				if allowed && (got == 401 || got == 403) {
					t.Errorf("%s as %s: %d, want it allowed", route, role, got)
				}
			}
		}
	}
	for route := range routePermissions {
		if !served[route] {
			t.Errorf("%s is in the permission table but not documented", route)
		}
	}
	// A cross-site form post is refused, even with a valid session.
	owner.hdr["Origin"] = "https://evil.example"
	owner.hdr["Sec-Fetch-Site"] = "cross-site"
	var body lkhttp.ErrorBody
	if got := owner.do("POST", "/api/v1/sites", map[string]any{"name": "Evil", "time_zone": "UTC"}, &body); got != 403 || !strings.Contains(body.Error.Message, "Cross-site") {
		t.Fatalf("cross-site post: %d %+v", got, body)
	}
	// The same origin is fine.
	owner.hdr["Origin"] = s.URL()
	owner.hdr["Sec-Fetch-Site"] = "same-origin"
	owner.must("POST", "/api/v1/sites", map[string]any{"name": "Oak", "time_zone": "UTC"}, nil, 201)
}

// Five wrong passwords, then sign-in waits (429 with Retry-After), even with the right
// one; the other axes of throttle.go are tested on its own clock.
func TestLoginThrottle(t *testing.T) {
	s, _ := MustOpenServer(t, "sqlite")
	setup(t, s.URL())
	c := newClient(t, s.URL())
	var body lkhttp.ErrorBody
	for i := range 5 {
		// Without a trusted proxy, X-Forwarded-For (anyone can send it) changes nothing.
		c.hdr["X-Forwarded-For"] = fmt.Sprintf("203.0.113.%d", i)
		if got := c.do("POST", "/api/v1/login", lkhttp.Credentials{Name: "ana", Password: "wrong password " + fmt.Sprint(i)}, &body); got != 401 {
			t.Fatalf("wrong password %d: %d", i, got)
		}
	}
	if got := c.do("POST", "/api/v1/login", lkhttp.Credentials{Name: "ana", Password: "correct horse battery"}, &body); got != 429 || !strings.Contains(body.Error.Message, "wait") {
		t.Fatalf("after five failures: %d %+v", got, body)
	}
	if retry, err := strconv.Atoi(c.last.Get("Retry-After")); err != nil || retry < 1 || retry > 31 {
		t.Fatalf("Retry-After %q after the first throttled try; want the seconds left of a 30 s wait", c.last.Get("Retry-After"))
	}
	// A different name is not held up by ana's failures.
	if got := c.do("POST", "/api/v1/login", lkhttp.Credentials{Name: "bob", Password: "whatever it is"}, &body); got != 401 {
		t.Fatalf("other name: %d", got)
	}
}

// The document is OpenAPI 3 with the parts tools need, and every operation has an id.
func TestOpenAPIDocument(t *testing.T) {
	s, _ := MustOpenServer(t, "sqlite")
	var doc map[string]any
	newClient(t, s.URL()).must("GET", "/api/v1/openapi.json", nil, &doc, 200)
	if !strings.HasPrefix(fmt.Sprint(doc["openapi"]), "3.") {
		t.Fatalf("openapi %v", doc["openapi"])
	}
	ids := map[string]bool{}
	for path, ops := range doc["paths"].(map[string]any) {
		for method, op := range ops.(map[string]any) {
			o := op.(map[string]any)
			id := fmt.Sprint(o["operationId"])
			if ids[id] {
				t.Errorf("operationId %s used twice", id)
			}
			ids[id] = true
			if _, ok := o["responses"].(map[string]any)["default"]; !ok {
				t.Errorf("%s %s has no error response", method, path)
			}
		}
	}
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	for name := range schemas {
		if name == "" || strings.ContainsAny(name, "[]*./ ") {
			t.Errorf("schema named %q", name)
		}
	}
	for _, want := range []string{"Lock", "Code", "ListLock", "NewCodeRequest", "ErrorBody"} {
		if schemas[want] == nil {
			t.Errorf("schema %s missing", want)
		}
	}
	if props := schemas["Code"].(map[string]any)["properties"].(map[string]any); props["SealedPIN"] != nil || props["sealed_pin"] != nil {
		t.Error("the Code schema exposes the sealed PIN")
	}
}

// The audit log reads as sentences, newest first, filtered by record, action and actor.
func TestAuditLogAPI(t *testing.T) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			s, _ := MustOpenServer(t, kind)
			owner := setup(t, s.URL())
			owner.must("POST", "/api/v1/codes/1/reveal", nil, nil, 200)
			var all, reveals, lock lkhttp.List[lkhttp.AuditLine]
			owner.must("GET", "/api/v1/audit?limit=3", nil, &all, 200)
			if all.Total < 7 || len(all.Items) != 3 || all.Items[0].Action != "code.reveal" || all.Items[0].Seq <= all.Items[1].Seq {
				t.Fatalf("the log, newest first: %+v", all)
			}
			owner.must("GET", "/api/v1/audit?action=code.reveal", nil, &reveals, 200)
			if reveals.Total != 1 || reveals.Items[0].Sentence != "ana revealed code 1 (Ana)" {
				t.Fatalf("reveals: %+v", reveals)
			}
			owner.must("GET", "/api/v1/audit?entity=lock&id=1", nil, &lock, 200)
			// The lock's own entries and its code's: added, then revealed.
			if lock.Total != 3 || lock.Items[2].Sentence != "ana added lock 1 (Deadbolt)" || lock.Items[1].Sentence != "ana added code 1 (Ana)" {
				t.Fatalf("lock 1's entries: %+v", lock)
			}
			owner.must("GET", "/api/v1/audit?action=code&actor=nobody", nil, &lock, 200)
			if lock.Total != 0 {
				t.Fatalf("nobody's entries: %+v", lock)
			}
		})
	}
}
