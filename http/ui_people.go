package http

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
)

// The person pages: who someone is and what they hold (their codes, with each lock and
// its status, and their key copies, with the locks those keys open), and the acts on
// all of it: edit the record, revoke one code or everything, remove the person.

func (s *Server) peopleRoutes() []uiRoute {
	read, write := latchkey.PermRead, latchkey.PermWrite
	return []uiRoute{
		{Method: "GET", Pattern: "/people/{id}", Perm: read, handler: s.pagePerson},
		{Method: "POST", Pattern: "/people/{id}", Perm: write, handler: s.pageEditPerson},
		{Method: "POST", Pattern: "/people/{id}/revoke", Perm: write, handler: s.pageRevokePerson},
		{Method: "POST", Pattern: "/people/{id}/delete", Perm: write, handler: s.pageDeletePerson},
		{Method: "POST", Pattern: "/codes/{id}/revoke", Perm: write, handler: s.pageRevokeCode},
	}
}

// personRoles are the roles a person's form offers, in the order people pick them.
var personRoles = []latchkey.PersonRole{latchkey.RoleFamily, latchkey.RoleOwner, latchkey.RoleTenant, latchkey.RoleGuest, latchkey.RoleService}

type personPage struct {
	base
	Person     *latchkey.Person // as recorded
	Form       latchkey.Person  // the edit form: the record, or what was posted when it was refused
	Roles      []latchkey.PersonRole
	Codes      []heldCode
	Keys       []heldKey
	Revocable  int               // codes not revoked yet
	Revocation *revocationResult // what "revoke everything" just did
	Back       string            // this page, for forms that come back to it
}

// heldCode is one of a person's codes, with where it stands on each lock.
type heldCode struct {
	ID      int64
	Label   string
	Valid   string // when it opens the door, in words
	Revoked bool
	Locks   []grantLine
}

// grantLine is a code's place on one lock.
type grantLine struct {
	LockID       int64
	Lock         string
	Status       string // in words: "set", "revocation pending"…
	Class        string // the badge's class
	Removed      bool
	Slot         int
	StatusReason string
	standingDetail
}

// heldKey is a key a person holds a copy of, with the locks the key opens.
type heldKey struct {
	Key    *latchkey.Key
	Copies []copyLine       // theirs
	Locks  []*latchkey.Lock // keyed to it
}

// revocationResult is latchkey.PersonRevocation with the codes named.
type revocationResult struct {
	Revoked []string
	Kept    []keptCode
}

type keptCode struct {
	Label, Why string
}

// grantText says where a code stands on a lock, in words, with a badge class.
func grantText(st latchkey.GrantStatus, connected bool) (text, class string) {
	class = map[latchkey.GrantStatus]string{latchkey.GrantSet: "ok", latchkey.GrantPending: "warn", latchkey.GrantSetting: "warn",
		latchkey.GrantUnconfirmed: "warn", latchkey.GrantRemoving: "warn", latchkey.GrantFailed: "bad"}[st]
	return grantStatusText(st, connected), class
}

// personPage reads a person and everything they hold.
func (s *Server) personPage(r *http.Request, id int64) (personPage, error) {
	ctx := r.Context()
	page := personPage{base: s.base(r, "people"), Roles: personRoles, Back: "/people/" + strconv.FormatInt(id, 10)}
	p, err := s.Service.FindPersonByID(ctx, id)
	if err != nil {
		return page, err
	}
	page.Person, page.Form = p, *p
	locks, _, err := s.Service.FindLocks(ctx, latchkey.LockFilter{}, latchkey.Page{Limit: 1000})
	if err != nil {
		return page, err
	}
	zones := map[int64]*time.Location{}
	lockNames, connected := map[int64]string{}, map[int64]bool{}
	for _, l := range locks {
		lockNames[l.ID], connected[l.ID] = l.Name, l.Connection.Driver != ""
	}
	codes, _, err := s.Service.FindCodes(ctx, latchkey.CodeFilter{PersonID: &id}, latchkey.Page{Limit: 1000})
	if err != nil {
		return page, err
	}
	for _, c := range codes {
		grants, err := s.Service.FindGrants(ctx, latchkey.GrantFilter{CodeID: &c.ID})
		if err != nil {
			return page, err
		}
		var loc *time.Location // a code's dates are read at its doors
		if len(grants) > 0 {
			if loc, err = s.lockZone(ctx, grants[0].LockID, zones); err != nil {
				return page, err
			}
		}
		hc := heldCode{ID: c.ID, Label: c.Label, Valid: c.Validity(loc), Revoked: c.Revoked}
		for _, g := range grants {
			text, class := grantText(g.Status, connected[g.LockID])
			hc.Locks = append(hc.Locks, grantLine{LockID: g.LockID, Lock: or(lockNames[g.LockID], "lock "+strconv.FormatInt(g.LockID, 10)),
				Status: text, Class: class, Removed: g.Status == latchkey.GrantRemoved, Slot: g.Slot, StatusReason: g.Reason, standingDetail: detailOf(g, loc)})
		}
		if !c.Revoked {
			page.Revocable++
		}
		page.Codes = append(page.Codes, hc)
	}
	keys, _, err := s.Service.FindKeys(ctx, latchkey.KeyFilter{}, latchkey.Page{Limit: 1000})
	if err != nil {
		return page, err
	}
	for _, k := range keys {
		hk := heldKey{Key: k}
		for _, c := range k.Copies {
			if c.HolderID == id {
				hk.Copies = append(hk.Copies, copyLine{KeyCopy: c, Holder: p.Name, StateText: copyStateText(c.State)})
			}
		}
		if len(hk.Copies) == 0 {
			continue
		}
		for _, l := range locks {
			if l.KeyID == k.ID {
				hk.Locks = append(hk.Locks, l)
			}
		}
		page.Keys = append(page.Keys, hk)
	}
	return page, nil
}

func (s *Server) pagePerson(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	page, err := s.personPage(r, id)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "person", page)
}

// personFailed shows the person's page again with what went wrong; edit, when given,
// puts what was posted back into the page's form.
func (s *Server) personFailed(w http.ResponseWriter, r *http.Request, id int64, actErr error, edit func(*personPage)) {
	page, err := s.personPage(r, id)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	if edit != nil {
		edit(&page)
	}
	page.Flash, page.Error = "", latchkey.ErrorMessage(actErr)
	if latchkey.ErrorCode(actErr) == latchkey.EINTERNAL {
		logger(r).Error("page failed", "error", actErr.Error())
	}
	s.render(w, r, statusOf(w, actErr), "person", page)
}

// formText reads a form field that may be left out: nil when the form did not send it,
// so that only what the form shows is changed.
func formText(r *http.Request, name string) *string {
	if err := r.ParseForm(); err != nil {
		return nil
	}
	if vs, ok := r.PostForm[name]; ok && len(vs) > 0 {
		return &vs[0]
	}
	return nil
}

func (s *Server) pageEditPerson(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	u := latchkey.PersonUpdate{Name: formText(r, "name"), Phone: formText(r, "phone"), Email: formText(r, "email")}
	if v := formText(r, "role"); v != nil {
		role := latchkey.PersonRole(*v)
		u.Role = &role
	}
	if _, err := s.Service.UpdatePerson(r.Context(), id, u); err != nil {
		s.personFailed(w, r, id, err, func(p *personPage) {
			for dst, src := range map[*string]*string{&p.Form.Name: u.Name, &p.Form.Phone: u.Phone, &p.Form.Email: u.Email} {
				if src != nil {
					*dst = *src
				}
			}
			if u.Role != nil {
				p.Form.Role = *u.Role
			}
		})
		return
	}
	http.Redirect(w, r, "/people/"+strconv.FormatInt(id, 10)+"?done=person-saved", http.StatusSeeOther)
}

// pageRevokePerson revokes every code of a person and shows, on their page, what was
// revoked and what was kept as a lock's last way in, with why.
func (s *Server) pageRevokePerson(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	rev, revErr := s.Service.RevokePerson(r.Context(), id)
	page, err := s.personPage(r, id)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	if rev != nil {
		labels := map[int64]string{}
		for _, c := range page.Codes {
			labels[c.ID] = c.Label
		}
		name := func(id int64) string { return or(labels[id], "code "+strconv.FormatInt(id, 10)) }
		res := &revocationResult{}
		for _, cid := range rev.Revoked {
			res.Revoked = append(res.Revoked, name(cid))
		}
		kept := make([]int64, 0, len(rev.Kept))
		for cid := range rev.Kept {
			kept = append(kept, cid)
		}
		slices.Sort(kept)
		for _, cid := range kept {
			res.Kept = append(res.Kept, keptCode{Label: name(cid), Why: rev.Kept[cid]})
		}
		page.Revocation = res
	}
	status := http.StatusOK
	if revErr != nil {
		page.Error, status = latchkey.ErrorMessage(revErr), statusOf(w, revErr)
		if latchkey.ErrorCode(revErr) == latchkey.EINTERNAL {
			logger(r).Error("page failed", "error", revErr.Error())
		}
	}
	s.render(w, r, status, "person", page)
}

func (s *Server) pageDeletePerson(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	if err := s.Service.DeletePerson(r.Context(), id); err != nil {
		s.personFailed(w, r, id, err, nil)
		return
	}
	http.Redirect(w, r, "/people?done=person-removed", http.StatusSeeOther)
}

// pageRevokeCode revokes a code and goes back to the page the form came from (a local
// path in the form's "back" field; the codes page when there is none). A refusal is
// shown on a person's page when the form came from one.
func (s *Server) pageRevokeCode(w http.ResponseWriter, r *http.Request) {
	back := "/codes"
	if v := r.PostFormValue("back"); v != "" {
		back = safeNext(v)
	}
	id, err := pathID(r, "id")
	if err == nil {
		_, err = s.Service.RevokeCode(r.Context(), id)
	}
	if err != nil {
		if rest, ok := strings.CutPrefix(back, "/people/"); ok {
			if pid, ok := canonicalNumber(rest, 1); ok {
				s.personFailed(w, r, pid, err, nil)
				return
			}
		}
		s.renderError(w, r, err)
		return
	}
	http.Redirect(w, r, withDone(back, "code-revoked"), http.StatusSeeOther)
}

// withDone adds ?done=name to a local path (safeNext's answer), so that the page says
// what was done.
func withDone(path, name string) string {
	u, err := url.Parse(path)
	if err != nil {
		return "/?done=" + url.QueryEscape(name)
	}
	q := u.Query()
	q.Set("done", name)
	u.RawQuery = q.Encode()
	return u.String()
}
