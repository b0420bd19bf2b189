package http

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets/*
var assetFS embed.FS

// Catalog is what the web UI needs of the model catalog and the key rules; the command
// line wires it in, so that this package stays apart from them.
type Catalog interface {
	// ModelName names a catalog model ("" when unknown).
	ModelName(id string) string
	// Models lists the models to choose from when adding a lock.
	Models() []ModelChoice
	// KeySVG draws a key to scale ("" when the bitting cannot be drawn).
	KeySVG(bitting string) string
	// IdentifyQuestions are what a person can tell about a lock by looking at it, with
	// the answers in words, for the identify procedure's first step.
	IdentifyQuestions() []Question
	// KeyBlankSVG draws an uncut key, for a procedure step about handling keys: it shows
	// the shape, never a bitting.
	KeyBlankSVG() string
	// TakesCodes reports whether a model has a keypad that takes user codes.
	TakesCodes(modelID string) bool
	// Warranty describes a lock's warranty status in a sentence.
	Warranty(modelID string, purchased *time.Time) string
	// Sheet writes a lock's printable record sheet.
	Sheet(w io.Writer, rec *latchkey.LockRecord) error
}

// Question is one identify question and its answers.
type Question struct {
	Name, Text string
	Choices    []latchkey.Choice
}

// ModelChoice is one model in a list to choose from.
type ModelChoice struct {
	ID, Name string
}

// asset is an embedded file served under a name with its content hash, cached for good.
type asset struct {
	path, contentType string
	data              []byte
}

func loadAssets() map[string]asset {
	out := map[string]asset{}
	for name, ct := range map[string]string{"app.css": "text/css; charset=utf-8", "htmx-2.0.7.min.js": "text/javascript; charset=utf-8",
		"live.js": "text/javascript; charset=utf-8", "runner.js": "text/javascript; charset=utf-8", "icon.svg": "image/svg+xml"} {
		data, err := assetFS.ReadFile("assets/" + name)
		if err != nil {
			panic("http: missing asset " + name)
		}
		sum := sha256.Sum256(data)
		ext := path.Ext(name)
		out[name] = asset{path: "/assets/" + strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:6]) + ext, contentType: ct, data: data}
	}
	return out
}

var uiFuncs = template.FuncMap{
	"date": func(t *time.Time) string {
		if t == nil {
			return "not recorded"
		}
		return t.Format(time.DateOnly)
	},
	"when": func(t time.Time) string { return t.Local().Format("2006-01-02 15:04") },
	"add": func(a ...int) int {
		n := 0
		for _, v := range a {
			n += v
		}
		return n
	},
}

// pages parses every page with the layout once; a page missing its file is a build
// defect and panics at start.
func parsePages() map[string]*template.Template {
	layout := template.Must(template.New("layout.html").Funcs(uiFuncs).ParseFS(templateFS, "templates/layout.html", "templates/hub_health.html", "templates/runs.html"))
	out := map[string]*template.Template{}
	for _, name := range []string{"login", "setup", "dashboard", "lock", "site", "people", "codes", "keys", "bitting", "audit", "settings", "error", "person", "key", "code", "webhook", "procedures", "procedure"} {
		out[name] = template.Must(template.Must(layout.Clone()).ParseFS(templateFS, "templates/"+name+".html"))
	}
	return out
}

// doneMessages are what a page says after a form posted to it: named in the URL, so
// that no link can make Latchkey's pages say anything else.
var doneMessages = map[string]string{
	"lock":           "Lock added.",
	"logged":         "Logged.",
	"person":         "Person added.",
	"confirmed":      "Confirmed.",
	"saved":          "Saved.",
	"removed":        "Removed.",
	"door":           "Door added.",
	"kept":           "File kept with the lock's records.",
	"rekeyed":        "Rekey recorded: the lock takes the new key now. If no other lock takes the old key, it is retired and its copies are listed to be returned.",
	"person-saved":   "Saved.",
	"person-removed": "Person removed.",
	"code-revoked":   "Code revoked. Locks on a hub have it removed by the sync engine; at any other, remove it at the keypad, then confirm it is gone on the lock’s page. Until then it is listed as still to remove.",
	"key-added":      "Key added.",
	"copy-added":     "Copy added.",
	"copy-state":     "Copy updated.",
	"key-lost":       "The key is recorded as lost.",
	"copy-lost":      "The copy is recorded as lost.",
	"key-retired":    "The key is retired: it is recorded as opening nothing.",
	"reprovisioned":  "Its codes go back on through its hub; each shows “on the lock” once it was read back.",
	"retry":          "The sync engine tries the code again.",
	"adopted":        "Adopted: the code in that slot is now this person's, kept in the vault.",
	"clearing":       "The sync engine empties the slot; it stays listed until the lock is seen without it.",
}

// base is what every page shows.
type base struct {
	CSS, HTMX, Live, Icon string
	Runner                string // the procedure runner's script
	User                  *latchkey.Principal
	Nav                   string
	Flash, Error          string
	CanWrite              bool
	CanReveal             bool
}

func (s *Server) base(r *http.Request, nav string) base {
	b := base{CSS: s.assets["app.css"].path, HTMX: s.assets["htmx-2.0.7.min.js"].path, Live: s.assets["live.js"].path, Runner: s.assets["runner.js"].path, Icon: s.assets["icon.svg"].path, Nav: nav,
		Flash: doneMessages[r.URL.Query().Get("done")]}
	if p, ok := latchkey.PrincipalFromContext(r.Context()); ok {
		b.User = &p
		b.CanWrite, b.CanReveal = p.Role.Allows(latchkey.PermWrite), p.Role.Allows(latchkey.PermReveal)
	}
	return b
}

// render writes a page; status is 200 unless the page reports an error.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := s.pages[name].ExecuteTemplate(w, "layout", data); err != nil {
		logger(r).Error("render", "page", name, "error", err.Error())
	}
}

// renderError shows an error page (or the same page with the error, by the caller).
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, err error) {
	b := s.base(r, "")
	b.Error = latchkey.ErrorMessage(err)
	status := statusByCode[latchkey.ErrorCode(err)]
	if latchkey.ErrorCode(err) == latchkey.EINTERNAL {
		logger(r).Error("page failed", "error", err.Error())
	}
	s.render(w, r, status, "error", b)
}

// uiRoute is a page route; open pages need no sign-in.
type uiRoute struct {
	Method, Pattern string
	Open            bool
	Perm            latchkey.Permission
	handler         http.HandlerFunc
}

// UIRoutes lists the web UI's routes (for the route-table test).
func (s *Server) UIRoutes() []uiRoute { return s.uiRoutes() }

func (s *Server) uiRoutes() []uiRoute {
	read, write, reveal := latchkey.PermRead, latchkey.PermWrite, latchkey.PermReveal
	routes := []uiRoute{
		{Method: "GET", Pattern: "/login", Open: true, handler: s.pageLogin},
		{Method: "POST", Pattern: "/login", Open: true, handler: s.pageLoginPost},
		{Method: "GET", Pattern: "/login/link/{secret}", Open: true, handler: s.pageLoginLink},
		{Method: "GET", Pattern: "/setup", Open: true, handler: s.pageSetup},
		{Method: "POST", Pattern: "/setup", Open: true, handler: s.pageSetupPost},
		{Method: "POST", Pattern: "/logout", Open: true, handler: s.pageLogout},
		{Method: "GET", Pattern: "/{$}", Perm: read, handler: s.pageDashboard},
		{Method: "POST", Pattern: "/locks", Perm: write, handler: s.pageAddLock},
		{Method: "GET", Pattern: "/people", Perm: read, handler: s.pagePeople},
		{Method: "POST", Pattern: "/people", Perm: write, handler: s.pageAddPerson},
		{Method: "POST", Pattern: "/codes/{id}/reveal", Perm: reveal, handler: s.pageReveal},
		{Method: "POST", Pattern: "/codes/{id}/confirm", Perm: write, handler: s.pageConfirm},
		{Method: "POST", Pattern: "/codes/{id}/retry", Perm: write, handler: s.pageRetry},
		{Method: "GET", Pattern: "/keys", Perm: read, handler: s.pageKeys},
		{Method: "POST", Pattern: "/keys/{id}/reveal", Perm: reveal, handler: s.pageRevealBitting},
		{Method: "GET", Pattern: "/audit", Perm: read, handler: s.pageAudit},
	}
	for _, more := range [][]uiRoute{s.lockRoutes(), s.codeRoutes(), s.siteRoutes(), s.peopleRoutes(), s.keyRoutes(), s.settingsRoutes(), s.webhookUIRoutes(), s.hubUIRoutes(), s.procedureUIRoutes(), s.discoveredUIRoutes()} {
		routes = append(routes, more...)
	}
	return routes
}

// uiAuthorize sends an anonymous visitor to sign in (or to set up, on a fresh server),
// and refuses what the role may not do.
func (s *Server) uiAuthorize(rt uiRoute, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := s.principal(r)
		if err == nil {
			r = r.WithContext(latchkey.NewContextWithPrincipal(r.Context(), p))
		}
		if rt.Open {
			next(w, r)
			return
		}
		if err != nil {
			target := "/login"
			if n, cerr := s.Service.CountUsers(r.Context()); cerr == nil && n == 0 {
				target = "/setup"
			}
			next := "/" // a form's address is no page to come back to
			if r.Method == http.MethodGet {
				next = r.URL.RequestURI()
			}
			http.Redirect(w, r, target+"?next="+url.QueryEscape(next), http.StatusSeeOther)
			return
		}
		if !p.Role.Allows(rt.Perm) {
			s.renderError(w, r, latchkey.Forbidden(p.Role, rt.Perm))
			return
		}
		next(w, r)
	}
}

// safeNext keeps a post-sign-in redirect on this site: a path of this server, written
// plainly. Browsers drop tabs and line breaks from URLs and read a backslash as a slash,
// so "/\t/evil.example" and "/\\evil.example" lead to another site: anything but
// printable ASCII without backslashes, or anything a URL parser reads as having a host,
// is refused in favour of the dashboard.
func safeNext(next string) string {
	if len(next) < 1 || len(next) > 2000 || next[0] != '/' || (len(next) > 1 && next[1] == '/') {
		return "/"
	}
	for i := 0; i < len(next); i++ {
		if c := next[i]; c <= ' ' || c >= 0x7f || c == '\\' {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return "/"
	}
	return next
}

type loginPage struct {
	base
	Name string
	Next string // where to go once signed in
}

func (s *Server) pageLogin(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, 200, "login", loginPage{base: s.base(r, ""), Next: safeNext(r.URL.Query().Get("next"))})
}

func (s *Server) pageLoginPost(w http.ResponseWriter, r *http.Request) {
	name := r.PostFormValue("name")
	next := safeNext(r.PostFormValue("next"))
	u, err := s.signIn(r, name, r.PostFormValue("password"))
	if err != nil {
		page := loginPage{base: s.base(r, ""), Name: name, Next: next}
		page.Error = latchkey.ErrorMessage(err)
		s.render(w, r, statusOf(w, err), "login", page)
		return
	}
	if err := s.setSessionCookie(w, r, u); err != nil {
		s.renderError(w, r, err)
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) pageSetup(w http.ResponseWriter, r *http.Request) {
	if n, err := s.Service.CountUsers(r.Context()); err == nil && n > 0 {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	s.render(w, r, 200, "setup", loginPage{base: s.base(r, "")})
}

func (s *Server) pageSetupPost(w http.ResponseWriter, r *http.Request) {
	name := r.PostFormValue("name")
	u, err := s.setUp(r, name, r.PostFormValue("password"))
	if err != nil {
		page := loginPage{base: s.base(r, ""), Name: name}
		page.Error = latchkey.ErrorMessage(err)
		s.render(w, r, statusByCode[latchkey.ErrorCode(err)], "setup", page)
		return
	}
	if err := s.setSessionCookie(w, r, u); err != nil {
		s.renderError(w, r, err)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) pageLogout(w http.ResponseWriter, r *http.Request) {
	s.endSession(w, r)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

type lockCard struct {
	Lock                   *latchkey.Lock
	Site                   *latchkey.Site
	Door, Model            string
	Class, Label, Why      string
	CodesSet, CodesPending int
	Codes                  []string // "Ana's code · Ana"
	Battery                int      // percent, 0 unknown
	LowBattery             bool
	Run                    *runItem               // the procedure in progress on it
	Fix                    latchkey.ProcedureKind // the procedure that answers what it needs
	FixName                string
}

type dashboardPage struct {
	base
	Locks, Attention []lockCard
	Latest           []eventLine // the latest events at every door
	Sites            []*latchkey.Site
	Models           []ModelChoice
	Zones            []string
	ForSite          int64                // the site to add a lock to, chosen already
	ForDoor          string               // and its door
	Hubs             []latchkey.HubStatus // the configured hubs' health
	Runs             []runItem            // procedures in progress
	CanStart         bool                 // procedures can be started here
}

func (s *Server) pageDashboard(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	page := dashboardPage{base: s.base(r, "dashboard"), Models: s.Catalog.Models(), Zones: commonZones, ForDoor: r.URL.Query().Get("door")}
	// A site's page sends here to add a lock on one of its doors.
	page.ForSite, _ = canonicalNumber(r.URL.Query().Get("site"), 1)
	rec, err := s.Service.Export(ctx)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	page.Sites = rec.Sites
	sites, doors := map[int64]*latchkey.Site{}, map[int64]*latchkey.Door{}
	for _, st := range rec.Sites {
		sites[st.ID] = st
	}
	for _, d := range rec.Doors {
		doors[d.ID] = d
	}
	set, pending := map[int64]int{}, map[int64]int{}
	people, codes, onLock := map[int64]string{}, map[int64]*latchkey.Code{}, map[int64][]string{}
	for _, p := range rec.People {
		people[p.ID] = p.Name
	}
	for _, c := range rec.Codes {
		codes[c.ID] = c
	}
	for _, g := range rec.Grants {
		if c := codes[g.CodeID]; c != nil && g.Status != latchkey.GrantRemoved {
			onLock[g.LockID] = append(onLock[g.LockID], c.Label+" · "+people[c.PersonID])
		}
		switch g.Status {
		case latchkey.GrantSet:
			set[g.LockID]++
		case latchkey.GrantPending, latchkey.GrantSetting, latchkey.GrantUnconfirmed, latchkey.GrantRemoving, latchkey.GrantFailed:
			pending[g.LockID]++
		}
	}
	for _, l := range rec.Locks {
		c := lockCard{Lock: l, Model: or(s.Catalog.ModelName(l.ModelID), "model not identified"), CodesSet: set[l.ID], CodesPending: pending[l.ID], Codes: onLock[l.ID]}
		if d := doors[l.DoorID]; d != nil {
			c.Site, c.Door = sites[d.SiteID], d.Name
		}
		c.Battery = l.State.BatteryPercent()
		c.LowBattery = l.State.LowBattery()
		// What a lock needs is the domain's rule, derived with the records it read.
		need := l.Attention
		c.Class, c.Label, c.Why = need.Level, need.Label, need.Why
		if need.Level != latchkey.AttentionOK {
			page.Attention = append(page.Attention, c)
		}
		page.Locks = append(page.Locks, c)
	}
	names := lockNames(rec.Locks)
	if page.Runs, err = s.activeRuns(ctx, names); err != nil {
		s.renderError(w, r, err)
		return
	}
	page.CanStart = page.CanWrite && s.Procedures != nil
	for i := range page.Attention {
		c := &page.Attention[i]
		for j, run := range page.Runs {
			if slices.Contains(run.Run.LockIDs, c.Lock.ID) {
				c.Run = &page.Runs[j]
			}
		}
		if c.Fix = attentionProcedure(c.Lock); c.Fix != "" {
			c.FixName = procedureName(c.Fix)
		}
	}
	if page.Latest, err = s.eventLines(ctx, 0, 6, people, names); err != nil {
		s.renderError(w, r, err)
		return
	}
	for _, st := range s.hubStatuses() {
		if st.HubID != 0 {
			page.Hubs = append(page.Hubs, st)
		}
	}
	s.render(w, r, 200, "dashboard", page)
}

func or(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

func formID(r *http.Request, name string) (int64, error) {
	id, ok := canonicalNumber(r.PostFormValue(name), 1)
	if !ok {
		return 0, latchkey.Errorf(latchkey.EINVALID, "Choose a %s.", strings.TrimSuffix(name, "_id"))
	}
	return id, nil
}

// pageAddLock adds a lock, creating its site and door when they are new.
func (s *Server) pageAddLock(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	err := func() error {
		// What would refuse the lock is checked before a new site or door is made, so
		// that a refused form leaves nothing behind.
		doorName, lockName, model := strings.TrimSpace(r.PostFormValue("door")), strings.TrimSpace(r.PostFormValue("name")), r.PostFormValue("model_id")
		switch {
		case doorName == "":
			return latchkey.Errorf(latchkey.EINVALID, "Name the door the lock is on, such as Front door.")
		case lockName == "":
			return latchkey.Errorf(latchkey.EINVALID, "Name the lock, such as Deadbolt.")
		case model != "" && s.Catalog.ModelName(model) == "":
			return latchkey.Errorf(latchkey.EINVALID, "Choose the model from the list, or \"Not sure yet\".")
		}
		var siteID int64
		if v := r.PostFormValue("site_id"); v != "" {
			id, err := formID(r, "site_id")
			if err != nil {
				return err
			}
			siteID = id
		} else {
			site := &latchkey.Site{Name: r.PostFormValue("site_name"), TimeZone: strings.TrimSpace(r.PostFormValue("time_zone"))}
			if strings.TrimSpace(site.Name) == "" {
				return latchkey.Errorf(latchkey.EINVALID, "Name the new site, or choose one.")
			}
			if site.TimeZone == "" {
				return latchkey.Errorf(latchkey.EINVALID, "Give the new site's time zone, such as America/Chicago: codes' dates and hours are read in it.")
			}
			if err := s.Service.CreateSite(ctx, site); err != nil {
				return err
			}
			siteID = site.ID
		}
		doors, _, err := s.Service.FindDoors(ctx, latchkey.DoorFilter{SiteID: &siteID}, latchkey.Page{Limit: 1000})
		if err != nil {
			return err
		}
		var door *latchkey.Door
		for _, d := range doors {
			if strings.EqualFold(d.Name, doorName) {
				door = d
			}
		}
		if door == nil {
			door = &latchkey.Door{SiteID: siteID, Name: doorName}
			if err := s.Service.CreateDoor(ctx, door); err != nil {
				return err
			}
		}
		l := &latchkey.Lock{DoorID: door.ID, Name: lockName, ModelID: model, HasSmartKey: r.PostFormValue("smartkey") == "1"}
		return s.Service.CreateLock(ctx, l)
	}()
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	http.Redirect(w, r, "/?done=lock", http.StatusSeeOther)
}

type eventLine struct {
	At   time.Time
	Text string
}

// eventLines describes a lock's latest events (all locks' for lockID 0) for people,
// naming people from the page's records and, when lockNames is given, each event's lock.
func (s *Server) eventLines(ctx context.Context, lockID int64, limit int, people, lockNames map[int64]string) ([]eventLine, error) {
	events, err := s.Service.FindEvents(ctx, lockID, limit)
	if err != nil {
		return nil, err
	}
	lines := make([]eventLine, 0, len(events))
	for _, e := range events {
		text := eventText(e, people[e.PersonID])
		if name := lockNames[e.LockID]; name != "" {
			text = name + ": " + text
		}
		lines = append(lines, eventLine{At: e.At, Text: text})
	}
	return lines, nil
}

// sheetCSP is the record sheet's policy: nothing but its own inline style and images.
const sheetCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; form-action 'none'; base-uri 'none'"

func (s *Server) pageSheet(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	rec, err := s.Service.FindLockRecord(r.Context(), id)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	// The sheet prints the key to scale for whoever may see its cuts; that is a reveal,
	// recorded like any other, and so only when the person opened it from Latchkey's own
	// pages: a link on another site must not make a reveal in their name.
	site := r.Header.Get("Sec-Fetch-Site")
	fromHere := site == "" || site == "same-origin" || site == "none"
	if p, _ := latchkey.PrincipalFromContext(r.Context()); rec.Key != nil && fromHere && p.Role.Allows(latchkey.PermReveal) {
		if rec.Key.Bitting, err = s.Service.RevealBitting(r.Context(), rec.Key.ID); err != nil {
			s.renderError(w, r, err)
			return
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// The sheet is a document to print, standing alone: its style is inline, and it runs
	// no script at all.
	w.Header().Set("Content-Security-Policy", sheetCSP)
	if err := s.Catalog.Sheet(w, rec); err != nil {
		logger(r).Error("sheet", "error", err.Error())
	}
}

func (s *Server) pageAddService(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err == nil {
		err = s.Service.AddServiceEntry(r.Context(), &latchkey.ServiceEntry{LockID: id, Note: r.PostFormValue("note"),
			Kind: latchkey.ServiceKind(r.PostFormValue("kind")), WarrantyRelevant: r.PostFormValue("deviates") == "1"})
	}
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	http.Redirect(w, r, "/locks/"+strconv.FormatInt(id, 10)+"?done=logged", http.StatusSeeOther)
}

type peoplePage struct {
	base
	People []*latchkey.Person
	Roles  []latchkey.PersonRole
}

func (s *Server) pagePeople(w http.ResponseWriter, r *http.Request) {
	people, _, err := s.Service.FindPeople(r.Context(), latchkey.Page{Limit: 1000})
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, 200, "people", peoplePage{base: s.base(r, "people"), People: people,
		Roles: []latchkey.PersonRole{latchkey.RoleFamily, latchkey.RoleOwner, latchkey.RoleTenant, latchkey.RoleGuest, latchkey.RoleService}})
}

func (s *Server) pageAddPerson(w http.ResponseWriter, r *http.Request) {
	p := &latchkey.Person{Name: r.PostFormValue("name"), Role: latchkey.PersonRole(r.PostFormValue("role")),
		Phone: r.PostFormValue("phone"), Email: r.PostFormValue("email")}
	if err := s.Service.CreatePerson(r.Context(), p); err != nil {
		s.renderError(w, r, err)
		return
	}
	http.Redirect(w, r, "/people?done=person", http.StatusSeeOther)
}

// pageReveal reveals a code: with htmx, the digits replace the button; without, a page.
func (s *Server) pageReveal(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var pin string
	if err == nil {
		pin, err = s.Service.RevealCode(r.Context(), id)
	}
	if s.revealFragment(w, r, err, pin, "") || err != nil {
		return
	}
	b := s.base(r, "codes")
	b.Flash = "Code " + strconv.FormatInt(id, 10) + ": " + pin + " (this reveal is recorded in the audit log)"
	s.render(w, r, 200, "error", b)
}

// revealFragment answers a reveal asked for by htmx with the secret (and extra, our own
// markup) in place of the button, or the error's message; it reports whether it
// answered. A reveal that failed without htmx gets the error page here too.
func (s *Server) revealFragment(w http.ResponseWriter, r *http.Request, err error, secret string, extra template.HTML) bool {
	if r.Header.Get("HX-Request") != "true" {
		if err != nil {
			s.renderError(w, r, err)
		}
		return false
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err != nil {
		w.WriteHeader(statusByCode[latchkey.ErrorCode(err)])
		template.HTMLEscape(w, []byte(latchkey.ErrorMessage(err)))
		return true
	}
	io.WriteString(w, `<span class="pin revealed">`)
	template.HTMLEscape(w, []byte(secret))
	io.WriteString(w, `</span>`+string(extra))
	return true
}

// pageRevealBitting reveals a key's bitting, with its drawing to scale: with htmx in
// place of the button; without, on a page of its own.
func (s *Server) pageRevealBitting(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var bitting string
	if err == nil {
		bitting, err = s.Service.RevealBitting(r.Context(), id)
	}
	var drawing template.HTML
	if err == nil {
		// Our own drawing of a validated bitting, not outside input.
		drawing = template.HTML(`<div class="key">` + s.Catalog.KeySVG(bitting) + `</div>`)
	}
	if s.revealFragment(w, r, err, bitting, drawing) || err != nil {
		return
	}
	s.render(w, r, 200, "bitting", bittingPage{base: s.base(r, "keys"), KeyID: id, Bitting: bitting, Drawing: drawing})
}

type bittingPage struct {
	base
	KeyID   int64
	Bitting string
	Drawing template.HTML
}

func (s *Server) pageConfirm(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var lockID int64
	if err == nil {
		lockID, err = formID(r, "lock_id")
	}
	if err == nil {
		_, err = s.Service.ConfirmCode(r.Context(), id, lockID)
	}
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	http.Redirect(w, r, "/locks/"+strconv.FormatInt(lockID, 10)+"?done=confirmed", http.StatusSeeOther)
}

type auditPage struct {
	base
	Lines        []AuditLine
	Filter       latchkey.AuditFilter
	Total        int
	Prev, Next   string // links to the pages before and after, "" at an end
	Kinds        []string
	FilterQuery  string // the filter as a query, for the page links
	ShownFrom, N int
	Locks        []*latchkey.Lock   // to choose one lock's entries
	People       []*latchkey.Person // to choose one person's
}

// auditPageSize is how many entries the audit page shows at a time.
const auditPageSize = 50

func (s *Server) pageAudit(w http.ResponseWriter, r *http.Request) {
	f, err := auditFilter(r)
	if about := r.URL.Query().Get("about"); err == nil && about != "" {
		// One select chooses the record: "lock:3", "person:2".
		entity, id, _ := strings.Cut(about, ":")
		n, ok := canonicalNumber(id, 1)
		if (entity != "lock" && entity != "person") || !ok {
			err = latchkey.Errorf(latchkey.EINVALID, "Choose a lock or a person from the list.")
		}
		f.Entity, f.EntityID = entity, n
	}
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	p, err := page(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	p.Limit = auditPageSize
	entries, total, err := s.Service.FindAuditEntries(r.Context(), f, p)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	page := auditPage{base: s.base(r, "audit"), Filter: f, Total: total, ShownFrom: p.Offset + 1, N: len(entries),
		Kinds: []string{"site", "door", "lock", "person", "key", "code", "user", "token", "vault", "audit"}}
	if page.Locks, _, err = s.Service.FindLocks(r.Context(), latchkey.LockFilter{}, latchkey.Page{Limit: 1000}); err == nil {
		page.People, _, err = s.Service.FindPeople(r.Context(), latchkey.Page{Limit: 1000})
	}
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	for _, e := range entries {
		page.Lines = append(page.Lines, AuditLine{AuditEntry: *e, Sentence: e.Sentence()})
	}
	if r.URL.Query().Get("verify") == "1" {
		if n, err := s.Service.VerifyAuditLog(r.Context()); err != nil {
			page.Error = latchkey.ErrorMessage(err)
		} else {
			page.Flash = "The audit log is intact: " + plural(n, "entry", "entries") + " checked, each chained to the one before and authenticated."
		}
	}
	q := url.Values{}
	for k, v := range map[string]string{"entity": f.Entity, "action": f.Action, "actor": f.Actor} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.EntityID != 0 {
		q.Set("id", strconv.FormatInt(f.EntityID, 10))
	}
	link := func(offset int) string {
		q.Set("offset", strconv.Itoa(offset))
		return "/audit?" + q.Encode()
	}
	if p.Offset > 0 {
		page.Prev = link(max(p.Offset-auditPageSize, 0))
	}
	if p.Offset+len(entries) < total {
		page.Next = link(p.Offset + auditPageSize)
	}
	s.render(w, r, 200, "audit", page)
}
