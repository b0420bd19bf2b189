package http_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
	lkhttp "github.com/latchkey/latchkey/http"
)

// raw sends a body exactly as given and returns the status and the error body, if any.
func (c *client) raw(method, path, body string) (int, lkhttp.ErrorBody) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.base+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	c.last = resp.Header
	var eb lkhttp.ErrorBody
	b, _ := io.ReadAll(resp.Body)
	json.Unmarshal(b, &eb)
	return resp.StatusCode, eb
}

// wantRefused checks a refusal's status and that its message says what was wrong.
func wantRefused(t *testing.T, what string, status int, body lkhttp.ErrorBody, wantStatus int, says string) {
	t.Helper()
	if status != wantStatus || !strings.Contains(body.Error.Message, says) {
		t.Errorf("%s: %d %q; want %d saying %q", what, status, body.Error.Message, wantStatus, says)
	}
}

// Findings 3, 4, 6, 8 and 10 of the hardening review, over the API on both stores: ids,
// statuses and device state are the server's; input is strict; text and lists are
// bounded; the stores answer alike.
func TestAPIInputRules(t *testing.T) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			s, _ := MustOpenServer(t, kind)
			owner := setup(t, s.URL()) // site 1, door 1, lock 1, person 1, code 1

			// 3: a client's id is refused, and ids stay the server's to give.
			st, eb := owner.raw("POST", "/api/v1/people", `{"id":9223372036854775807,"name":"Mallory","role":"guest"}`)
			wantRefused(t, "a person with a chosen id", st, eb, 400, `Unknown field "id"`)
			var p latchkey.Person
			owner.must("POST", "/api/v1/people", map[string]any{"name": "Bo", "role": "guest"}, &p, 201)
			if p.ID != 2 {
				t.Errorf("the next person got id %d, want 2", p.ID)
			}
			for _, path := range []string{"/api/v1/sites", "/api/v1/doors", "/api/v1/locks", "/api/v1/keys"} {
				st, eb := owner.raw("POST", path, `{"id":77,"name":"X"}`)
				wantRefused(t, "POST "+path+" with an id", st, eb, 400, `Unknown field "id"`)
			}

			// 4: status, key and device state are derived, never written by a client.
			for field, value := range map[string]string{"status": `"ok"`, "key_id": "1", "state": `{"battery_mv":-5}`, "battery_mv": "-5"} {
				st, eb := owner.raw("POST", "/api/v1/locks", `{"door_id":1,"name":"Back","model_id":"916","`+field+`":`+value+`}`)
				wantRefused(t, "a lock with "+field, st, eb, 400, `Unknown field "`+field+`"`)
			}
			st, eb = owner.raw("PATCH", "/api/v1/locks/1", `{"status":"ok"}`)
			wantRefused(t, "PATCH status", st, eb, 400, `Unknown field "status"`)

			// 6: text the stores once disagreed on (NUL, numbers past 2^31) is refused alike.
			st, eb = owner.raw("POST", "/api/v1/people", `{"name":"Nul\u0000l","role":"guest"}`)
			wantRefused(t, "a NUL in a name", st, eb, 400, "control character")
			st, eb = owner.raw("POST", "/api/v1/codes", `{"person_id":1,"label":"Big","lock_ids":[1],"use_limit":2147483648}`)
			wantRefused(t, "a use limit of 2^31", st, eb, 400, "Use limit must be from 0")

			// 8: long text and long lists are refused before they reach the store.
			notes, _ := json.Marshal(strings.Repeat("n", 900<<10))
			st, eb = owner.raw("PATCH", "/api/v1/locks/1", `{"notes":`+string(notes)+`}`)
			wantRefused(t, "900 KB of notes", st, eb, 400, "Notes is longer than 4000 characters")
			ids := make([]string, latchkey.MaxLocksPerChange+1)
			for i := range ids {
				ids[i] = fmt.Sprint(i + 1)
			}
			st, eb = owner.raw("POST", "/api/v1/codes", `{"person_id":1,"label":"Everywhere","lock_ids":[`+strings.Join(ids, ",")+`]}`)
			wantRefused(t, "a code on 501 locks", st, eb, 400, "at most 500 locks")
			st, eb = owner.raw("POST", "/api/v1/codes", `{"person_id":1,"label":"Twice","lock_ids":[1,1]}`)
			wantRefused(t, "a lock named twice", st, eb, 400, "Lock 1 is named twice")

			// 10: loose input.
			st, eb = owner.raw("POST", "/api/v1/sites", `{"name":"A","time_zone":"UTC"}{"name":"B"}`)
			wantRefused(t, "trailing data", st, eb, 400, "more after its JSON object")
			st, eb = owner.raw("POST", "/api/v1/sites", "{\"name\":\"\xff\"}")
			wantRefused(t, "invalid UTF-8", st, eb, 400, "not valid UTF-8")
			for _, route := range []string{"PATCH /api/v1/locks/1", "PUT /api/v1/locks/1/key", "PUT /api/v1/keys/1/state"} {
				method, path, _ := strings.Cut(route, " ")
				st, eb = owner.raw(method, path, `null`)
				wantRefused(t, route+" with a null body", st, eb, 400, "must be a JSON object")
			}
			for name, text := range map[string]string{"right-to-left override": "Front\u202edoor", "C1 control": "Front\u0085door"} {
				body, _ := json.Marshal(map[string]any{"site_id": 1, "name": text})
				st, eb = owner.raw("POST", "/api/v1/doors", string(body))
				wantRefused(t, "a "+name+" in a name", st, eb, 400, "Door name contains")
			}
			for _, id := range []string{"+1", "01", "1.0", "0x1", " 1"} {
				st, eb = owner.raw("GET", "/api/v1/locks/"+url.PathEscape(id), "")
				wantRefused(t, "lock id "+id, st, eb, 400, "is not an id")
			}
			st, eb = owner.raw("GET", "/api/v1/locks?door=01", "")
			wantRefused(t, "?door=01", st, eb, 400, "is not an id")
			st, eb = owner.raw("POST", "/api/v1/doors", `{"site_id":1,"name":"Front"}`) // door 1's name again
			if st != 409 || strings.Contains(eb.Error.Message, "doors") || strings.Contains(eb.Error.Message, "site_id") {
				t.Errorf("a duplicate door: %d %q; want a conflict that names no table or column", st, eb.Error.Message)
			}
			// A JSON body over its 1 MiB limit is too large (413), not malformed.
			st, eb = owner.raw("POST", "/api/v1/people", `{"name":"`+strings.Repeat("x", 2<<20)+`"}`)
			if st != 413 || eb.Error.Code != latchkey.EINVALID || !strings.Contains(eb.Error.Message, "larger than 1024 KiB") {
				t.Errorf("a 2 MiB body: %d %s %q", st, eb.Error.Code, eb.Error.Message)
			}
			st, eb = owner.raw("POST", "/api/v1/locks/1/receipts?name=big.pdf", strings.Repeat("x", 11<<20))
			if st != 413 || strings.Contains(eb.Error.Message, "10.0 MiB") || !strings.Contains(eb.Error.Message, "larger than 10 MiB") {
				t.Errorf("an 11 MiB receipt: %d %q", st, eb.Error.Message)
			}
			// A receipt is kept under a file's name; no name, ".", ".." is none.
			for _, query := range []string{"", "?name=", "?name=.", "?name=..", "?name=%20", "?name=/"} {
				st, eb = owner.raw("POST", "/api/v1/locks/1/receipts"+query, "%PDF-1.4")
				wantRefused(t, "a receipt named by "+strconv.Quote(query), st, eb, 400, "Name the file")
			}
			// A status to list by is one of the statuses; an unknown one is not an empty list.
			st, eb = owner.raw("GET", "/api/v1/locks?status=bogus", "")
			wantRefused(t, "?status=bogus", st, eb, 400, "needs_locksmith")
			var exposed lkhttp.List[latchkey.Lock]
			owner.must("GET", "/api/v1/locks?status=exposed", nil, &exposed, 200)
			if exposed.Total != 0 {
				t.Errorf("?status=exposed: %+v", exposed)
			}
		})
	}
}

// Finding 4: a lost key leaves its locks exposed whatever the record says of them; only a
// recorded rekey, with the new key tested, clears it.
func TestExposureClearedOnlyByRekey(t *testing.T) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			s, _ := MustOpenServer(t, kind)
			owner := setup(t, s.URL())
			var old, fresh latchkey.Key
			owner.must("POST", "/api/v1/keys", map[string]any{"site_id": 1, "label": "House key", "bitting": "35242", "copies": []any{map[string]any{"holder_id": 1}}}, &old, 201)
			owner.must("POST", "/api/v1/keys", map[string]any{"site_id": 1, "label": "New house key", "bitting": "46353", "copies": []any{map[string]any{"holder_id": 1}}}, &fresh, 201)
			owner.must("PUT", "/api/v1/locks/1/key", map[string]any{"key_id": old.ID}, nil, 200)
			owner.must("PUT", fmt.Sprintf("/api/v1/keys/%d/state", old.ID), map[string]any{"state": "lost"}, nil, 200)
			status := func() latchkey.LockStatus {
				var l latchkey.Lock
				owner.must("GET", "/api/v1/locks/1", nil, &l, 200)
				return l.Status
			}
			if st := status(); st != latchkey.LockExposed {
				t.Fatalf("after the key was lost: %s", st)
			}
			// Un-identifying and re-identifying the model used to turn "exposed" into "ok".
			owner.must("PATCH", "/api/v1/locks/1", map[string]any{"model_id": ""}, nil, 200)
			owner.must("PATCH", "/api/v1/locks/1", map[string]any{"model_id": "916"}, nil, 200)
			owner.must("PATCH", "/api/v1/locks/1", map[string]any{"name": "Front deadbolt", "notes": "x"}, nil, 200)
			if st := status(); st != latchkey.LockExposed {
				t.Fatalf("editing the record cleared the exposure: %s", st)
			}
			// An exposed lock's record cannot be removed (and made again as if new).
			st, eb := owner.raw("DELETE", "/api/v1/locks/1", "")
			wantRefused(t, "removing an exposed lock", st, eb, 422, "is exposed")
			// A rekey without the new key's tests is refused as unsafe (make before break).
			st, eb = owner.raw("POST", "/api/v1/locks/1/rekey", fmt.Sprintf(`{"key_id":%d,"tests":1,"both_sides":true,"door_open":true}`, fresh.ID))
			wantRefused(t, "a rekey tried once", st, eb, 422, "must work 3 times")
			st, eb = owner.raw("POST", "/api/v1/locks/1/rekey", fmt.Sprintf(`{"key_id":%d,"tests":3,"both_sides":false,"door_open":true}`, fresh.ID))
			wantRefused(t, "a rekey tried from one side", st, eb, 422, "from outside and from inside")
			var l latchkey.Lock
			owner.must("POST", "/api/v1/locks/1/rekey", map[string]any{"key_id": fresh.ID, "tests": 3, "both_sides": true, "door_open": true, "note": "Ana did it"}, &l, 200)
			if l.Status != latchkey.LockOK || l.KeyID != fresh.ID {
				t.Fatalf("after the rekey: %+v", l)
			}
			var rec latchkey.LockRecord
			owner.must("GET", "/api/v1/locks/1/record", nil, &rec, 200)
			if n := len(rec.Service); n == 0 || rec.Service[n-1].Kind != latchkey.ServiceRekey || !strings.Contains(rec.Service[n-1].Note, "Ana did it") {
				t.Fatalf("the rekey is not in the service log: %+v", rec.Service)
			}
			var k latchkey.Key
			owner.must("GET", fmt.Sprintf("/api/v1/keys/%d", old.ID), nil, &k, 200)
			if k.State != latchkey.KeyLost || k.Copies[0].State != latchkey.CopyToReturn {
				t.Fatalf("the lost key after the rekey: %+v; want still lost, its copy to be returned", k)
			}

			// Changing an exposed lock's key record is refused: it would let the exposure's
			// cause drift. The rekey record, naming the new key, clears it.
			var back latchkey.Lock
			owner.must("POST", "/api/v1/locks", map[string]any{"door_id": 1, "name": "Back", "model_id": "916"}, &back, 201)
			var spare latchkey.Key
			owner.must("POST", "/api/v1/keys", map[string]any{"site_id": 1, "label": "Back key", "bitting": "24353", "copies": []any{map[string]any{"holder_id": 1}}}, &spare, 201)
			owner.must("PUT", fmt.Sprintf("/api/v1/locks/%d/key", back.ID), map[string]any{"key_id": spare.ID}, nil, 200)
			owner.must("PUT", fmt.Sprintf("/api/v1/keys/%d/state", spare.ID), map[string]any{"state": "lost"}, nil, 200)
			st, eb = owner.raw("PUT", fmt.Sprintf("/api/v1/locks/%d/key", back.ID), fmt.Sprintf(`{"key_id":%d}`, fresh.ID))
			wantRefused(t, "changing an exposed lock's key record", st, eb, 422, "record the rekey")
			owner.must("GET", fmt.Sprintf("/api/v1/locks/%d", back.ID), nil, &l, 200)
			if l.Status != latchkey.LockExposed || l.KeyID != spare.ID {
				t.Fatalf("a refused key change changed the lock: %+v", l)
			}
			owner.must("POST", fmt.Sprintf("/api/v1/locks/%d/rekey", back.ID), map[string]any{"key_id": fresh.ID, "tests": 3, "both_sides": true, "door_open": true}, &l, 200)
			if l.Status != latchkey.LockOK {
				t.Fatalf("after recording the rekey: %s", l.Status)
			}

			// A lost copy exposes the lock too, and "rekeying" it to that same key does
			// not clear it: the lost copy still opens it.
			owner.must("PUT", fmt.Sprintf("/api/v1/keys/%d/copies/%d/state", fresh.ID, fresh.Copies[0].ID), map[string]any{"state": "lost"}, nil, 200)
			owner.must("GET", fmt.Sprintf("/api/v1/locks/%d", back.ID), nil, &l, 200)
			if l.Status != latchkey.LockExposed {
				t.Fatalf("after a copy of its key was lost: %s", l.Status)
			}
			st, eb = owner.raw("POST", fmt.Sprintf("/api/v1/locks/%d/rekey", back.ID), fmt.Sprintf(`{"key_id":%d,"tests":3,"both_sides":true,"door_open":true}`, fresh.ID))
			wantRefused(t, "rekeying to the key whose copy is lost", st, eb, 422, "is lost")
			// Nor does saying the lost copy is held again: a lost copy stays lost.
			st, eb = owner.raw("PUT", fmt.Sprintf("/api/v1/keys/%d/copies/%d/state", fresh.ID, fresh.Copies[0].ID), `{"state":"held"}`)
			wantRefused(t, "a lost copy held again", st, eb, 422, "A lost copy stays lost")
			st, eb = owner.raw("POST", fmt.Sprintf("/api/v1/locks/%d/rekey", back.ID), fmt.Sprintf(`{"key_id":%d,"tests":3,"both_sides":true,"door_open":true}`, fresh.ID))
			wantRefused(t, "rekeying to the key whose copy is lost, after trying to find it", st, eb, 422, "is lost")
		})
	}
}

// Finding 9: every response carries the headers that keep browsers from sniffing,
// framing, leaking the Referer or caching records; the record sheet has a policy of its
// own, with no script.
func TestSecurityHeaders(t *testing.T) {
	ui, _ := MustOpenUIServer(t)
	owner := setup(t, ui.URL())
	owner.http.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if got := owner.do("GET", "/no-such-page", nil, nil); got != 404 || !strings.Contains(owner.last.Get("Content-Type"), "text/html") {
		t.Errorf("an unknown page: %d %s; want Latchkey's own 404 page", got, owner.last.Get("Content-Type"))
	}
	if got := owner.do("GET", "/favicon.ico", nil, nil); got != 301 {
		t.Errorf("/favicon.ico: %d, want a redirect to the icon", got)
	}
	for _, path := range []string{"/", "/locks/1", "/locks/1/sheet", "/api/v1/locks", "/api/v1/nonsense", "/healthz", "/login", "/no-such-page", "/api/v1/openapi.json"} {
		owner.do("GET", path, nil, nil)
		h := owner.last
		for header, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"} {
			if got := h.Get(header); got != want {
				t.Errorf("GET %s: %s %q, want %q", path, header, got, want)
			}
		}
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"frame-ancestors 'none'", "base-uri 'none'", "form-action"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s: CSP %q lacks %s", path, csp, want)
			}
		}
		if path == "/locks/1/sheet" && (!strings.HasPrefix(csp, "default-src 'none'") || strings.Contains(csp, "script-src")) {
			t.Errorf("the sheet's CSP %q should allow nothing but its inline style", csp)
		}
		if h.Get("Cache-Control") != "no-store" {
			t.Errorf("GET %s: Cache-Control %q", path, h.Get("Cache-Control"))
		}
	}
}

// Finding 11: after signing in a person lands where they were going, and never on
// another site however the target is written.
func TestSignInKeepsNext(t *testing.T) {
	ui, _ := MustOpenUIServer(t)
	setup(t, ui.URL())
	c := newClient(t, ui.URL())
	c.http.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.http.Get(ui.URL() + "/locks/1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loginURL := resp.Header.Get("Location")
	if loginURL != "/login?next=%2Flocks%2F1" {
		t.Fatalf("an anonymous visit to /locks/1 goes to %q", loginURL)
	}
	resp, err = c.http.Get(ui.URL() + loginURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Contains(page, []byte(`name="next" value="/locks/1"`)) {
		t.Fatalf("the sign-in form does not carry next:\n%s", page)
	}
	for next, want := range map[string]string{"/locks/1": "/locks/1", "/\t/evil.example": "/", "//evil.example": "/"} {
		form := url.Values{"name": {"ana"}, "password": {"correct horse battery"}, "next": {next}}
		req, _ := http.NewRequest("POST", ui.URL()+"/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := c.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || got != want {
			t.Errorf("signing in with next=%q: %d to %q, want %q", next, resp.StatusCode, got, want)
		}
	}
}

// Finding 12, on both stores: a key's bitting is a secret like a code. No answer carries
// it (a key, the list, a lock's record, the export); revealing it needs the reveal
// permission and is recorded.
func TestBittingsAreSecret(t *testing.T) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			s, svc := MustOpenServer(t, kind)
			owner := setup(t, s.URL())
			var k latchkey.Key
			owner.must("POST", "/api/v1/keys", map[string]any{"site_id": 1, "label": "House key", "bitting": "35242", "copies": []any{map[string]any{"holder_id": 1}}}, &k, 201)
			owner.must("PUT", "/api/v1/locks/1/key", map[string]any{"key_id": k.ID}, nil, 200)
			hash, _ := lkhttp.HashPassword("a long enough password")
			viewer := newClient(t, s.URL())
			installer := newClient(t, s.URL())
			for name, c := range map[string]*client{"vera": viewer, "ian": installer} {
				role := latchkey.UserViewer
				if name == "ian" {
					role = latchkey.UserInstaller
				}
				if err := svc.CreateUser(latchkey.NewContextWithActor(t.Context(), "ana"), &latchkey.User{Name: name, Role: role, PasswordHash: hash}); err != nil {
					t.Fatal(err)
				}
				c.must("POST", "/api/v1/login", lkhttp.Credentials{Name: name, Password: "a long enough password"}, nil, 200)
			}
			for _, c := range []*client{owner, viewer, installer} {
				for _, path := range []string{"/api/v1/keys", fmt.Sprintf("/api/v1/keys/%d", k.ID), "/api/v1/locks/1/record", "/api/v1/export"} {
					var raw json.RawMessage
					c.must("GET", path, nil, &raw, 200)
					if bytes.Contains(raw, []byte("35242")) || bytes.Contains(raw, []byte(`"bitting"`)) {
						t.Errorf("GET %s shows the bitting: %s", path, raw)
					}
				}
			}
			for name, c := range map[string]*client{"viewer": viewer, "installer": installer} {
				if st, _ := c.raw("POST", fmt.Sprintf("/api/v1/keys/%d/reveal", k.ID), ""); st != 403 {
					t.Errorf("a %s revealing the bitting: %d, want 403", name, st)
				}
			}
			var rev lkhttp.BittingResponse
			owner.must("POST", fmt.Sprintf("/api/v1/keys/%d/reveal", k.ID), nil, &rev, 200)
			if rev.Bitting != "35242" {
				t.Fatalf("reveal: %+v", rev)
			}
		})
	}
}
