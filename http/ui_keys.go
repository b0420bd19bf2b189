package http

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/latchkey/latchkey"
)

// The key pages: the keys of every site, each with its copies (who holds them, or where
// a spare is kept) and the locks it opens; adding a key or a copy, recording where a
// copy is, and marking a key or a copy lost, after which the page shows the locks the
// loss exposes and what to do about them. A key's bitting is never on these pages: it
// is shown only by the audited reveal.

func (s *Server) keyRoutes() []uiRoute {
	read, write := latchkey.PermRead, latchkey.PermWrite
	return []uiRoute{
		{Method: "POST", Pattern: "/keys", Perm: write, handler: s.pageAddKey},
		{Method: "GET", Pattern: "/keys/{id}", Perm: read, handler: s.pageKey},
		{Method: "POST", Pattern: "/keys/{id}/copies", Perm: write, handler: s.keyAct(s.addKeyCopy)},
		{Method: "POST", Pattern: "/keys/{id}/copies/{copy}/state", Perm: write, handler: s.keyAct(s.setKeyCopyState)},
		{Method: "POST", Pattern: "/keys/{id}/lost", Perm: write, handler: s.keyAct(s.markKeyLost)},
		{Method: "POST", Pattern: "/keys/{id}/retire", Perm: write, handler: s.keyAct(s.retireKey)},
	}
}

// copyLine is one copy of a key as a page shows it.
type copyLine struct {
	latchkey.KeyCopy
	Holder    string // the holder's name; "" for a spare
	StateText string
}

// copyStateText says where a copy is, in words.
func copyStateText(st latchkey.CopyState) string {
	if st == latchkey.CopyToReturn {
		return "to be returned"
	}
	return string(st)
}

// copyStateChoice is a state a copy can be set to from its form.
type copyStateChoice struct {
	Value latchkey.CopyState
	Text  string
}

// copyStateChoices are the states a copy's form offers; a loss has a button of its
// own, since it exposes the locks the key opens.
var copyStateChoices = []copyStateChoice{{latchkey.CopyHeld, "held"}, {latchkey.CopyToReturn, "to be returned"}, {latchkey.CopyReturned, "returned"}}

// keyLost reports whether the key, or a copy of it, is lost: whoever has it can open the
// locks the key opens until they are rekeyed.
func keyLost(k *latchkey.Key) bool {
	if k.State == latchkey.KeyLost {
		return true
	}
	for _, c := range k.Copies {
		if c.State == latchkey.CopyLost {
			return true
		}
	}
	return false
}

// keyItem is one key in the list of keys.
type keyItem struct {
	Key   *latchkey.Key
	Site  string
	Locks []*latchkey.Lock // keyed to it
	Lost  bool
}

// keyForm is what the add-a-key form shows: nothing yet, or what was posted when it was
// refused. Never the bitting: a secret is not sent back into a page.
type keyForm struct {
	SiteID, HolderID        int64
	Label, Keyway, Location string
}

type keysPage struct {
	base
	Keys   []keyItem
	Sites  []*latchkey.Site
	People []*latchkey.Person
	Form   keyForm
}

func (s *Server) keysPage(r *http.Request) (keysPage, error) {
	ctx := r.Context()
	page := keysPage{base: s.base(r, "keys"), Form: keyForm{Keyway: "KW1"}}
	keys, _, err := s.Service.FindKeys(ctx, latchkey.KeyFilter{}, latchkey.Page{Limit: 1000})
	if err != nil {
		return page, err
	}
	if page.Sites, _, err = s.Service.FindSites(ctx, latchkey.Page{Limit: 1000}); err != nil {
		return page, err
	}
	if page.People, _, err = s.Service.FindPeople(ctx, latchkey.Page{Limit: 1000}); err != nil {
		return page, err
	}
	locks, _, err := s.Service.FindLocks(ctx, latchkey.LockFilter{}, latchkey.Page{Limit: 1000})
	if err != nil {
		return page, err
	}
	sites := map[int64]string{}
	for _, st := range page.Sites {
		sites[st.ID] = st.Name
	}
	if len(page.Sites) == 1 {
		page.Form.SiteID = page.Sites[0].ID
	}
	for _, k := range keys {
		item := keyItem{Key: k, Site: sites[k.SiteID], Lost: keyLost(k)}
		for _, l := range locks {
			if l.KeyID == k.ID {
				item.Locks = append(item.Locks, l)
			}
		}
		page.Keys = append(page.Keys, item)
	}
	return page, nil
}

func (s *Server) pageKeys(w http.ResponseWriter, r *http.Request) {
	page, err := s.keysPage(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "keys", page)
}

// pageAddKey records a key, and its first copy when a holder or a place is given. The
// bitting is checked by the service against the keyway, as for the API; when the key is
// refused the form comes back with what was entered, but without the bitting.
func (s *Server) pageAddKey(w http.ResponseWriter, r *http.Request) {
	form := keyForm{Label: r.PostFormValue("label"), Keyway: strings.TrimSpace(r.PostFormValue("keyway")), Location: strings.TrimSpace(r.PostFormValue("location"))}
	k := &latchkey.Key{Label: form.Label, Keyway: form.Keyway, Bitting: strings.TrimSpace(r.PostFormValue("bitting"))}
	err := func() (err error) {
		if form.SiteID, err = formID(r, "site_id"); err != nil {
			return err
		}
		if r.PostFormValue("holder_id") != "" {
			if form.HolderID, err = formID(r, "holder_id"); err != nil {
				return err
			}
		}
		k.SiteID = form.SiteID
		if form.HolderID != 0 || form.Location != "" {
			k.Copies = []latchkey.KeyCopy{{HolderID: form.HolderID, Location: form.Location}}
		}
		return s.Service.CreateKey(r.Context(), k)
	}()
	if err != nil {
		page, perr := s.keysPage(r)
		if perr != nil {
			s.renderError(w, r, perr)
			return
		}
		page.Form = form
		page.Error = latchkey.ErrorMessage(err)
		if latchkey.ErrorCode(err) == latchkey.EINTERNAL {
			logger(r).Error("page failed", "error", err.Error())
		}
		s.render(w, r, statusOf(w, err), "keys", page)
		return
	}
	http.Redirect(w, r, keyPath(k.ID)+"?done=key-added", http.StatusSeeOther)
}

func keyPath(id int64) string { return "/keys/" + strconv.FormatInt(id, 10) }

type keyPage struct {
	base
	Key     *latchkey.Key
	Site    string
	Copies  []copyLine
	Locks   []*latchkey.Lock // keyed to it
	Exposed []*latchkey.Lock // of those, the ones its loss leaves open until rekeyed
	Lost    bool
	People  []*latchkey.Person
	States  []copyStateChoice
	// CanStart says procedures can be started here: the lost-key procedure, or a
	// rekey of each exposed lock.
	CanStart bool
}

func (s *Server) keyPage(r *http.Request, id int64) (keyPage, error) {
	ctx := r.Context()
	page := keyPage{base: s.base(r, "keys"), States: copyStateChoices}
	page.CanStart = page.CanWrite && s.Procedures != nil
	k, err := s.Service.FindKeyByID(ctx, id)
	if err != nil {
		return page, err
	}
	page.Key, page.Lost = k, keyLost(k)
	site, err := s.Service.FindSiteByID(ctx, k.SiteID)
	if err != nil {
		return page, err
	}
	page.Site = site.Name
	if page.People, _, err = s.Service.FindPeople(ctx, latchkey.Page{Limit: 1000}); err != nil {
		return page, err
	}
	names := map[int64]string{}
	for _, p := range page.People {
		names[p.ID] = p.Name
	}
	for _, c := range k.Copies {
		line := copyLine{KeyCopy: c, StateText: copyStateText(c.State)}
		if c.HolderID != 0 {
			line.Holder = or(names[c.HolderID], "person "+strconv.FormatInt(c.HolderID, 10))
		}
		page.Copies = append(page.Copies, line)
	}
	if page.Locks, _, err = s.Service.FindLocks(ctx, latchkey.LockFilter{KeyID: &id}, latchkey.Page{Limit: 1000}); err != nil {
		return page, err
	}
	for _, l := range page.Locks {
		if l.Status == latchkey.LockExposed {
			page.Exposed = append(page.Exposed, l)
		}
	}
	return page, nil
}

func (s *Server) pageKey(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	page, err := s.keyPage(r, id)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "key", page)
}

// keyAct runs an act on the key named in the path and goes back to its page saying what
// was done (the act names its doneMessages entry), or shows the page with why it was
// refused.
func (s *Server) keyAct(act func(r *http.Request, keyID int64) (done string, err error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		if err != nil {
			s.renderError(w, r, err)
			return
		}
		done, err := act(r, id)
		if err != nil {
			page, perr := s.keyPage(r, id)
			if perr != nil {
				s.renderError(w, r, perr)
				return
			}
			page.Error = latchkey.ErrorMessage(err)
			if latchkey.ErrorCode(err) == latchkey.EINTERNAL {
				logger(r).Error("page failed", "error", err.Error())
			}
			s.render(w, r, statusOf(w, err), "key", page)
			return
		}
		http.Redirect(w, r, keyPath(id)+"?done="+done, http.StatusSeeOther)
	}
}

// addKeyCopy records another copy: held by a person, or a spare kept somewhere.
func (s *Server) addKeyCopy(r *http.Request, id int64) (string, error) {
	c := latchkey.KeyCopy{Location: strings.TrimSpace(r.PostFormValue("location"))}
	if r.PostFormValue("holder_id") != "" {
		holder, err := formID(r, "holder_id")
		if err != nil {
			return "", err
		}
		c.HolderID = holder
	}
	_, err := s.Service.AddKeyCopy(r.Context(), id, c)
	return "copy-added", err
}

// setKeyCopyState records where a copy is now.
func (s *Server) setKeyCopyState(r *http.Request, id int64) (string, error) {
	copyID, err := pathID(r, "copy")
	if err != nil {
		return "", err
	}
	_, err = s.Service.SetKeyCopyState(r.Context(), id, copyID, latchkey.CopyState(r.PostFormValue("state")))
	return "copy-state", err
}

// markKeyLost marks the key lost, or one copy of it when the form names the copy. The
// key's page then lists the locks the loss exposes.
func (s *Server) markKeyLost(r *http.Request, id int64) (string, error) {
	if r.PostFormValue("copy") == "" {
		_, err := s.Service.SetKeyState(r.Context(), id, latchkey.KeyLost)
		return "key-lost", err
	}
	copyID, err := formID(r, "copy")
	if err != nil {
		return "", err
	}
	_, err = s.Service.SetKeyCopyState(r.Context(), id, copyID, latchkey.CopyLost)
	return "copy-lost", err
}

// retireKey records that a key opens nothing any more; the domain refuses it while it is
// a lock's last way in.
func (s *Server) retireKey(r *http.Request, id int64) (string, error) {
	_, err := s.Service.SetKeyState(r.Context(), id, latchkey.KeyRetired)
	return "key-retired", err
}
