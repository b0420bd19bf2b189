package http_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
	lkhttp "github.com/latchkey/latchkey/http"
)

// page is one answer of the web UI.
type page struct {
	status   int
	location string // where a redirect leads
	body     string
}

// uiDo sends a page request without following redirects: a form post with form, or a
// GET when form is nil.
func uiDo(t *testing.T, c *client, method, path string, form url.Values, hdr ...string) page {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, c.base+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	hc := *c.http
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, location: resp.Header.Get("Location"), body: string(b)}
}

func uiGet(t *testing.T, c *client, path string) page {
	t.Helper()
	p := uiDo(t, c, "GET", path, nil)
	if p.status != http.StatusOK {
		t.Fatalf("GET %s: %d\n%s", path, p.status, p.body)
	}
	return p
}

// uiPostOK posts a form that must succeed and lead to want (with its ?done=), and
// returns the page it leads to.
func uiPostOK(t *testing.T, c *client, path string, form url.Values, want string) page {
	t.Helper()
	p := uiDo(t, c, "POST", path, form)
	if p.status != http.StatusSeeOther || p.location != want {
		t.Fatalf("POST %s: %d to %q, want a redirect to %q\n%s", path, p.status, p.location, want, p.body)
	}
	return uiGet(t, c, p.location)
}

func mustContain(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, body)
		}
	}
}

// signIn makes an account with role and returns its signed-in client.
func signIn(t *testing.T, ui *lkhttp.Server, svc *latchkey.Service, name string, role latchkey.UserRole) *client {
	t.Helper()
	hash, _ := lkhttp.HashPassword("a long enough password")
	if err := svc.CreateUser(latchkey.NewContextWithActor(context.Background(), "test"), &latchkey.User{Name: name, Role: role, PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, ui.URL())
	c.must("POST", "/api/v1/login", lkhttp.Credentials{Name: name, Password: "a long enough password"}, nil, 200)
	return c
}

// A person's page shows what they hold and does what the API does: edit the record,
// revoke a code or everything (keeping a lock's last way in, and saying so), remove the
// person; a viewer sees none of the forms and may post none of them.
func TestUIPersonPage(t *testing.T) {
	ui, svc := MustOpenUIServer(t)
	owner := setup(t, ui.URL()) // Ana (1) holds code 1, set on the Deadbolt (lock 1): its only way in
	ctx := latchkey.NewContextWithActor(context.Background(), "test")
	var bo, cy latchkey.Person
	owner.must("POST", "/api/v1/people", map[string]any{"name": "Bo", "role": "tenant", "phone": "555-0101"}, &bo, 201)
	owner.must("POST", "/api/v1/people", map[string]any{"name": "Cy", "role": "guest"}, &cy, 201)
	owner.must("POST", "/api/v1/codes", lkhttp.NewCodeRequest{PersonID: bo.ID, Label: "Tenant code", LockIDs: []int64{1}, Confirmed: true}, nil, 201)
	weekly, err := latchkey.ParseWeekly("mon-fri 08:00-17:00, sat 10:00-14:00")
	if err != nil {
		t.Fatal(err)
	}
	owner.must("POST", "/api/v1/codes", lkhttp.NewCodeRequest{PersonID: bo.ID, Label: "Cleaning", LockIDs: []int64{1},
		Schedule: latchkey.Schedule{Kind: latchkey.ScheduleWeekly, Weekly: weekly}, UseLimit: 5}, nil, 201)
	var spare latchkey.Key
	owner.must("POST", "/api/v1/keys", map[string]any{"site_id": 1, "label": "Shed key", "bitting": "35242", "copies": []any{map[string]any{"holder_id": 1}}}, &spare, 201)

	t.Run("List", func(t *testing.T) {
		p := uiGet(t, owner, "/people")
		mustContain(t, "the people page", p.body, `href="/people/1">Ana</a>`, `href="/people/2">Bo</a>`, "555-0101")
		if strings.Contains(p.body, "<table") {
			t.Error("the people page is a table again: it scrolls sideways on a phone")
		}
	})
	t.Run("Show", func(t *testing.T) {
		p := uiGet(t, owner, "/people/2")
		mustContain(t, "Bo's page", p.body, "Tenant code", `href="/locks/1">Deadbolt</a>`, "Valid always",
			"Valid Mon–Fri 08:00–17:00; Sat 10:00–14:00, up to 5 uses", `action="/codes/2/revoke"`, `name="back" value="/people/2"`,
			`action="/people/2/revoke"`, `<details class="confirm card">`, `action="/people/2/delete"`)
		p = uiGet(t, owner, "/people/1")
		mustContain(t, "Ana's page", p.body, `href="/keys/1">Shed key</a>`, "their copy: held", "No lock is recorded as keyed to it.")
		if p := uiDo(t, owner, "GET", "/people/99", nil); p.status != 404 {
			t.Errorf("a missing person: %d", p.status)
		}
	})
	t.Run("Edit", func(t *testing.T) {
		uiPostOK(t, owner, "/people/2", url.Values{"name": {"Bob"}, "role": {"family"}, "phone": {"555-0199"}, "email": {"bob@example.com"}}, "/people/2?done=person-saved")
		got, err := svc.FindPersonByID(ctx, 2)
		if err != nil || got.Name != "Bob" || got.Role != latchkey.RoleFamily || got.Phone != "555-0199" || got.Email != "bob@example.com" {
			t.Fatalf("after the edit: %+v %v", got, err)
		}
		p := uiDo(t, owner, "POST", "/people/2", url.Values{"name": {"  "}, "role": {"guest"}, "phone": {"555-0000"}, "email": {""}})
		if p.status != 400 {
			t.Fatalf("an empty name: %d", p.status)
		}
		mustContain(t, "the refused edit", p.body, "Person name is required.", `value="555-0000"`, `role="alert"`)
		if got, _ := svc.FindPersonByID(ctx, 2); got.Name != "Bob" || got.Phone != "555-0199" || got.Role != latchkey.RoleFamily {
			t.Fatalf("a refused edit changed the record: %+v", got)
		}
	})
	t.Run("RevokeCode", func(t *testing.T) {
		p := uiPostOK(t, owner, "/codes/2/revoke", url.Values{"back": {"/people/2"}}, "/people/2?done=code-revoked")
		mustContain(t, "Bob's page after revoking", p.body, "Code revoked", "revoked: still to remove at the lock")
		id := int64(2)
		grants, err := svc.FindGrants(ctx, latchkey.GrantFilter{CodeID: &id})
		if err != nil || len(grants) != 1 || grants[0].Status != latchkey.GrantRemoving {
			t.Fatalf("the revoked code's grants: %+v %v; want removing", grants, err)
		}
		if strings.Contains(p.body, `action="/codes/2/revoke"`) {
			t.Error("a revoked code still has a Revoke button")
		}
		// "back" leads only to a path of this server.
		if p := uiDo(t, owner, "POST", "/codes/3/revoke", url.Values{"back": {"//evil.example/x"}}); p.status != 303 || p.location != "/?done=code-revoked" {
			t.Fatalf("revoking with a foreign back: %d to %q", p.status, p.location)
		}
		// Ana's code is the Deadbolt's only way in: refused, on her page, saying why.
		p = uiDo(t, owner, "POST", "/codes/1/revoke", url.Values{"back": {"/people/1"}})
		if p.status != 422 {
			t.Fatalf("revoking the last way in: %d", p.status)
		}
		mustContain(t, "the refused revocation", p.body, "<h1 class=\"wraps\">Ana", "no way in")
		if c, _, _ := svc.FindCodes(ctx, latchkey.CodeFilter{}, latchkey.Page{}); c[0].Revoked {
			t.Fatal("the refused revocation revoked the code")
		}
	})
	t.Run("RevokeEverything", func(t *testing.T) {
		p := uiDo(t, owner, "POST", "/people/1/revoke", url.Values{})
		if p.status != 200 {
			t.Fatalf("revoking everything of Ana: %d", p.status)
		}
		mustContain(t, "the revocation", p.body, `id="revocation"`, "Kept, each as a lock's last way in", "<strong>Ana</strong>", "no way in",
			"Keys are not revoked this way")
		if strings.Contains(p.body, "Revoked: ") {
			t.Errorf("nothing was revoked, yet the page says so:\n%s", p.body)
		}
		// Cy holds nothing.
		p = uiDo(t, owner, "POST", "/people/3/revoke", url.Values{})
		mustContain(t, "revoking everything of Cy", p.body, "Nothing to revoke")
	})
	t.Run("Remove", func(t *testing.T) {
		p := uiDo(t, owner, "POST", "/people/1/delete", url.Values{})
		if p.status != 409 {
			t.Fatalf("removing Ana, who holds a code: %d", p.status)
		}
		mustContain(t, "the refused removal", p.body, "a person who ever held a code or a key stays on record", "<h1 class=\"wraps\">Ana")
		if _, err := svc.FindPersonByID(ctx, 1); err != nil {
			t.Fatal("the refused removal removed Ana")
		}
		p = uiPostOK(t, owner, "/people/3/delete", url.Values{}, "/people?done=person-removed")
		mustContain(t, "the people page after removing Cy", p.body, "Person removed.")
		if _, err := svc.FindPersonByID(ctx, cy.ID); latchkey.ErrorCode(err) != latchkey.ENOTFOUND {
			t.Fatalf("Cy after removal: %v", err)
		}
	})
	t.Run("Viewer", func(t *testing.T) {
		viewer := signIn(t, ui, svc, "val", latchkey.UserViewer)
		p := uiGet(t, viewer, "/people/2")
		mustContain(t, "Bob's page for a viewer", p.body, "Bob", "Cleaning")
		for _, form := range []string{`action="/people/2"`, `action="/codes/`, `action="/people/2/revoke"`, `action="/people/2/delete"`} {
			if strings.Contains(p.body, form) {
				t.Errorf("a viewer sees the form %s", form)
			}
		}
		for path, form := range map[string]url.Values{
			"/people/2": {"name": {"Mallory"}, "role": {"guest"}}, "/codes/3/revoke": {"back": {"/people/2"}},
			"/people/2/revoke": {}, "/people/2/delete": {}, "/people": {"name": {"Mallory"}, "role": {"guest"}},
		} {
			if p := uiDo(t, viewer, "POST", path, form); p.status != 403 {
				t.Errorf("a viewer's POST %s: %d, want 403", path, p.status)
			}
		}
		if got, err := svc.FindPersonByID(ctx, 2); err != nil || got.Name != "Bob" {
			t.Fatalf("Bob after the viewer's posts: %+v %v", got, err)
		}
		people, _, _ := svc.FindPeople(ctx, latchkey.Page{})
		if len(people) != 2 {
			t.Fatalf("people after the viewer's posts: %d", len(people))
		}
	})
}
