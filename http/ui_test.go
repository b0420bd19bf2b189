package http_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	lkhttp "github.com/latchkey/latchkey/http"
)

// fakeCatalog stands in for the catalog in these tests.
type fakeCatalog struct{}

func (fakeCatalog) ModelName(id string) string { return map[string]string{"916": "SmartCode 916"}[id] }
func (fakeCatalog) Models() []lkhttp.ModelChoice {
	return []lkhttp.ModelChoice{{ID: "916", Name: "SmartCode 916"}}
}
func (fakeCatalog) KeySVG(string) string { return "<svg></svg>" }
func (fakeCatalog) IdentifyQuestions() []lkhttp.Question {
	return []lkhttp.Question{{Name: "keypad", Text: "What is on the outside?", Choices: []latchkey.Choice{{Value: "10-button", Label: "10 buttons"}, {Value: "touchscreen", Label: "A touchscreen"}}},
		{Name: "smartkey_hole", Text: "A slot beside the keyway?", Choices: []latchkey.Choice{{Value: "yes", Label: "Yes"}, {Value: "no", Label: "No"}}}}
}
func (fakeCatalog) KeyBlankSVG() string                { return `<svg data-blank="KW1"></svg>` }
func (fakeCatalog) TakesCodes(id string) bool          { return id != "smartkey" }
func (fakeCatalog) Warranty(string, *time.Time) string { return "unknown" }
func (fakeCatalog) Sheet(w io.Writer, rec *latchkey.LockRecord) error {
	_, err := io.WriteString(w, "sheet")
	return err
}

// Every page but signing in and setting up sends an anonymous visitor to sign in; each
// role is refused what it may not do; a cross-site form post is refused.
func TestUIRouteTable(t *testing.T) {
	ui, svc := MustOpenUIServer(t)
	setup(t, ui.URL())
	noRedirect := func(c *http.Client) *http.Client {
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		return c
	}
	cookies := map[latchkey.UserRole]*client{}
	for _, role := range []latchkey.UserRole{latchkey.UserManager, latchkey.UserInstaller, latchkey.UserViewer} {
		hash, _ := lkhttp.HashPassword("a long enough password")
		if err := svc.CreateUser(latchkey.NewContextWithActor(context.Background(), "ana"), &latchkey.User{Name: string(role), Role: role, PasswordHash: hash}); err != nil {
			t.Fatal(err)
		}
		c := newClient(t, ui.URL())
		c.must("POST", "/api/v1/login", lkhttp.Credentials{Name: string(role), Password: "a long enough password"}, nil, 200)
		noRedirect(c.http)
		cookies[role] = c
	}
	for _, rt := range ui.UIRoutes() {
		path := strings.NewReplacer("{id}", "999", "{$}", "").Replace(rt.Pattern) // no record has id 999: nothing changes
		anon := newClient(t, ui.URL())
		noRedirect(anon.http)
		req, _ := http.NewRequest(rt.Method, ui.URL()+path, strings.NewReader(url.Values{}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := anon.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if rt.Open {
			if resp.StatusCode == 404 || resp.StatusCode == 405 {
				t.Errorf("%s %s: %d", rt.Method, rt.Pattern, resp.StatusCode)
			}
			continue
		}
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
			t.Errorf("%s %s anonymously: %d to %q, want a redirect to /login", rt.Method, rt.Pattern, resp.StatusCode, resp.Header.Get("Location"))
		}
		if rt.Pattern == "/settings/signout-everywhere" {
			continue // it would end the roles' sessions for the routes after it; TestUISettings uses it
		}
		for role, c := range cookies {
			req, _ := http.NewRequest(rt.Method, ui.URL()+path, strings.NewReader(""))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := c.http.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			allowed := slices.Contains(rolePermissions[role], rt.Perm)
			if !allowed && resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s %s as %s: %d, want 403 (may not %s)", rt.Method, rt.Pattern, role, resp.StatusCode, rt.Perm)
			}
			if allowed && (resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusSeeOther && rt.Method == "GET") {
				t.Errorf("%s %s as %s: %d, want it allowed", rt.Method, rt.Pattern, role, resp.StatusCode)
			}
		}
	}
	// A cross-site form post with a valid session is refused.
	c := cookies[latchkey.UserManager]
	req, _ := http.NewRequest("POST", ui.URL()+"/people", strings.NewReader("name=Evil&role=guest"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(page), "Cross-site request refused") {
		t.Fatalf("cross-site form post: %d %s, want 403 and an error page like the others:\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), page)
	}
	people, _, _ := svc.FindPeople(latchkey.NewContextWithActor(context.Background(), "t"), latchkey.Page{})
	for _, p := range people {
		if p.Name == "Evil" {
			t.Fatal("the cross-site post added a person")
		}
	}
}

// The settings page: a token made there is shown once and can be revoked there; an
// owner manages accounts there; "sign out everywhere" ends every session.
func TestUISettings(t *testing.T) {
	ui, svc := MustOpenUIServer(t)
	owner := setup(t, ui.URL())
	post := func(c *client, path string, form url.Values) string {
		t.Helper()
		req, _ := http.NewRequest("POST", ui.URL()+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := c.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	page := post(owner, "/settings/tokens", url.Values{"name": {"laptop"}, "expires_in_days": {"30"}})
	if !strings.Contains(page, "New token, shown once") || !strings.Contains(page, "lk_") {
		t.Fatalf("the new token is not shown:\n%s", page)
	}
	tokens, err := svc.FindTokens(latchkey.NewContextWithPrincipal(context.Background(), latchkey.Principal{UserID: 1, Role: latchkey.UserOwner}), 0)
	if err != nil || len(tokens) != 1 || tokens[0].ExpiresAt == nil {
		t.Fatalf("tokens after making one: %+v %v", tokens, err)
	}
	page = post(owner, "/settings/tokens/1/revoke", nil)
	if !strings.Contains(page, "revoked") {
		t.Fatalf("revoking the token:\n%s", page)
	}
	page = post(owner, "/settings/users", url.Values{"name": {"sam"}, "role": {"installer"}, "password": {"a long enough password"}})
	if !strings.Contains(page, "Account sam added as installer") {
		t.Fatalf("adding an account:\n%s", page)
	}
	page = post(owner, "/settings/users/1/role", url.Values{"role": {"viewer"}})
	if !strings.Contains(page, "last owner") {
		t.Fatalf("demoting the last owner was not refused:\n%s", page)
	}
	sam := newClient(t, ui.URL())
	sam.must("POST", "/api/v1/login", lkhttp.Credentials{Name: "sam", Password: "a long enough password"}, nil, 200)
	post(sam, "/settings/signout-everywhere", nil)
	if got := sam.do("GET", "/api/v1/locks", nil, nil); got != 401 {
		t.Fatalf("after signing out everywhere sam still reads: %d", got)
	}
}
