package http

import (
	"net/http"
	"strconv"

	"github.com/latchkey/latchkey"
)

// The settings pages: your API tokens and password for everyone; the accounts for
// owners. Each form posts to its own route and comes back to the page with what happened.

func (s *Server) settingsRoutes() []uiRoute {
	read, admin := latchkey.PermRead, latchkey.PermAdmin
	return []uiRoute{
		{Method: "GET", Pattern: "/settings", Perm: read, handler: s.pageSettings},
		{Method: "POST", Pattern: "/settings/tokens", Perm: read, handler: s.pageAddToken},
		{Method: "POST", Pattern: "/settings/tokens/{id}/revoke", Perm: read, handler: s.settingsAct(func(r *http.Request, id int64) (string, error) {
			t, err := s.Service.RevokeToken(r.Context(), id)
			if err != nil {
				return "", err
			}
			s.principals.forget(t.Hash)
			return "Token “" + t.Name + "” revoked.", nil
		})},
		{Method: "POST", Pattern: "/settings/password", Perm: read, handler: s.pagePassword},
		{Method: "POST", Pattern: "/settings/signout-everywhere", Perm: read, handler: s.pageSignOutEverywhere},
		{Method: "POST", Pattern: "/settings/users", Perm: admin, handler: s.pageAddUser},
		{Method: "POST", Pattern: "/settings/users/{id}/role", Perm: admin, handler: s.settingsAct(func(r *http.Request, id int64) (string, error) {
			role := latchkey.UserRole(r.PostFormValue("role"))
			u, err := s.Service.UpdateUser(r.Context(), id, latchkey.UserUpdate{Role: &role})
			s.principals.forgetUser(id)
			if err != nil {
				return "", err
			}
			return u.Name + " is now " + string(u.Role) + ".", nil
		})},
		{Method: "POST", Pattern: "/settings/users/{id}/password", Perm: admin, handler: s.settingsAct(func(r *http.Request, id int64) (string, error) {
			hash, err := s.hashNewPassword(r, r.PostFormValue("password"))
			if err != nil {
				return "", err
			}
			u, err := s.Service.UpdateUser(r.Context(), id, latchkey.UserUpdate{PasswordHash: &hash})
			s.principals.forgetUser(id)
			if err != nil {
				return "", err
			}
			return u.Name + "'s password was reset; their sessions and tokens ended.", nil
		})},
		{Method: "POST", Pattern: "/settings/users/{id}/revoke", Perm: admin, handler: s.settingsAct(func(r *http.Request, id int64) (string, error) {
			err := s.Service.RevokeAccess(r.Context(), id)
			s.principals.forgetUser(id)
			return "Every session and token of account " + strconv.FormatInt(id, 10) + " ended.", err
		})},
		{Method: "POST", Pattern: "/settings/users/{id}/delete", Perm: admin, handler: s.settingsAct(func(r *http.Request, id int64) (string, error) {
			err := s.Service.DeleteUser(r.Context(), id)
			s.principals.forgetUser(id)
			return "Account " + strconv.FormatInt(id, 10) + " removed.", err
		})},
	}
}

type settingsPage struct {
	base
	NewToken string
	Tokens   []*latchkey.Token
	Users    []*latchkey.User // for owners
	Roles    []latchkey.UserRole
	IsOwner  bool
	// Webhooks, for those who manage settings; NewSecret is a new one's, shown once.
	CanSettings bool
	Webhooks    []*latchkey.Webhook
	Kinds       []latchkey.WebhookKind
	NewSecret   string
	// Hubs, with their drivers' health, for those who manage settings.
	Hubs       []hubLine
	HubDrivers []latchkey.Driver
	// Discovered locks on the hubs this server runs, for those who change records, with
	// the doors and models to add one with.
	Discovery  bool
	Discovered []discoveredHub
	Doors      []doorChoice
	Models     []ModelChoice
}

// settings renders the settings page with a message (done) or an error.
func (s *Server) settings(w http.ResponseWriter, r *http.Request, done string, actErr error, newToken string) {
	s.settingsWith(w, r, done, actErr, newToken, "")
}

// settingsWith is settings showing a new webhook's secret once.
func (s *Server) settingsWith(w http.ResponseWriter, r *http.Request, done string, actErr error, newToken, newSecret string) {
	page := settingsPage{base: s.base(r, "settings"), NewToken: newToken, NewSecret: newSecret, Kinds: latchkey.WebhookKinds,
		Roles: []latchkey.UserRole{latchkey.UserOwner, latchkey.UserManager, latchkey.UserInstaller, latchkey.UserViewer}}
	page.Flash = done
	status := http.StatusOK
	if actErr != nil {
		page.Flash, page.Error, status = "", latchkey.ErrorMessage(actErr), statusOf(w, actErr)
	}
	var err error
	if page.Tokens, err = s.Service.FindTokens(r.Context(), 0); err != nil {
		s.renderError(w, r, err)
		return
	}
	if page.User != nil && page.User.Role.Allows(latchkey.PermAdmin) {
		page.IsOwner = true
		if page.Users, _, err = s.Service.FindUsers(r.Context(), latchkey.Page{Limit: 1000}); err != nil {
			s.renderError(w, r, err)
			return
		}
	}
	if page.User != nil && page.User.Role.Allows(latchkey.PermSettings) {
		page.CanSettings = true
		if page.Webhooks, err = s.Service.FindWebhooks(r.Context()); err != nil {
			s.renderError(w, r, err)
			return
		}
		hubs, err := s.Service.FindHubs(r.Context())
		if err != nil {
			s.renderError(w, r, err)
			return
		}
		page.Hubs, page.HubDrivers = s.hubLines(hubs), freeHubDrivers(hubs)
	}
	if err := s.discoveredSection(r, &page); err != nil {
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, status, "settings", page)
}

func (s *Server) pageSettings(w http.ResponseWriter, r *http.Request) {
	s.settings(w, r, "", nil, "")
}

// settingsAct runs an act on the record named in the path, and shows the page again.
func (s *Server) settingsAct(act func(r *http.Request, id int64) (string, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		var done string
		if err == nil {
			done, err = act(r, id)
		}
		s.settings(w, r, done, err, "")
	}
}

func (s *Server) pageAddToken(w http.ResponseWriter, r *http.Request) {
	req := TokenRequest{Name: r.PostFormValue("name")}
	if v := r.PostFormValue("expires_in_days"); v != "" {
		days, ok := canonicalNumber(v, 0)
		if !ok || days > 10000 {
			s.settings(w, r, "", latchkey.Errorf(latchkey.EINVALID, "Choose how long the token lasts from the list."), "")
			return
		}
		n := int(days)
		req.ExpiresInDays = &n
	}
	resp, err := s.makeToken(r, 0, req)
	if err != nil {
		s.settings(w, r, "", err, "")
		return
	}
	s.settings(w, r, "", nil, resp.Secret)
}

func (s *Server) pagePassword(w http.ResponseWriter, r *http.Request) {
	err := s.changeOwnPassword(w, r, PasswordChange{Current: r.PostFormValue("current"), New: r.PostFormValue("new")})
	s.settings(w, r, "Password changed; your other sessions and your tokens ended.", err, "")
}

func (s *Server) pageSignOutEverywhere(w http.ResponseWriter, r *http.Request) {
	p, _ := latchkey.PrincipalFromContext(r.Context())
	if err := s.Service.RevokeAccess(r.Context(), p.UserID); err != nil {
		s.settings(w, r, "", err, "")
		return
	}
	s.principals.forgetUser(p.UserID)
	s.endSession(w, r)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (s *Server) pageAddUser(w http.ResponseWriter, r *http.Request) {
	hash, err := s.hashNewPassword(r, r.PostFormValue("password"))
	var u *latchkey.User
	if err == nil {
		u = &latchkey.User{Name: r.PostFormValue("name"), Role: latchkey.UserRole(r.PostFormValue("role")), PasswordHash: hash}
		err = s.Service.CreateUser(r.Context(), u)
	}
	if err != nil {
		s.settings(w, r, "", err, "")
		return
	}
	s.settings(w, r, "Account "+u.Name+" added as "+string(u.Role)+".", nil, "")
}
