package http

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
)

// lockRoutes are the lock page and what can be done on it.
func (s *Server) lockRoutes() []uiRoute {
	read, write := latchkey.PermRead, latchkey.PermWrite
	return []uiRoute{
		{Method: "GET", Pattern: "/locks/{id}", Perm: read, handler: s.pageLock},
		{Method: "POST", Pattern: "/locks/{id}", Perm: write, handler: s.pageEditLock},
		{Method: "POST", Pattern: "/locks/{id}/key", Perm: write, handler: s.pageSetLockKey},
		{Method: "POST", Pattern: "/locks/{id}/rekey", Perm: write, handler: s.pageRekey},
		{Method: "POST", Pattern: "/locks/{id}/reprovision", Perm: write, handler: s.pageReprovision},
		{Method: "POST", Pattern: "/locks/{id}/delete", Perm: write, handler: s.pageDeleteLock},
		{Method: "POST", Pattern: "/locks/{id}/receipts", Perm: write, handler: s.pageAddReceipt},
		{Method: "GET", Pattern: "/locks/{id}/receipts/{receipt}", Perm: read, handler: s.pageReceipt},
		{Method: "GET", Pattern: "/locks/{id}/sheet", Perm: read, handler: s.pageSheet},
		{Method: "POST", Pattern: "/locks/{id}/service", Perm: write, handler: s.pageAddService},
		{Method: "POST", Pattern: "/locks/{id}/slots/{slot}/adopt", Perm: write, handler: s.pageAdoptSlot},
		{Method: "POST", Pattern: "/locks/{id}/slots/{slot}/clear", Perm: write, handler: s.pageClearSlot},
	}
}

// lockPageEvents is how many of its latest events a lock's page shows, above its codes:
// few enough that the codes are in reach at the door.
const lockPageEvents = 8

type codeLine struct {
	ID             int64
	Label, Person  string
	PersonID       int64
	Slot           int
	Status, Valid  string
	Confirmable    bool
	Revocable      bool
	RevocationOpen bool // revoked, waiting for the lock to confirm
	Retryable      bool // failed at a lock on a hub, or put off: the engine can try again now
	standingDetail
}

type lockPage struct {
	base
	Rec          *latchkey.LockRecord
	Model        string
	Class, Label string
	People       map[int64]string
	TakesCodes   bool
	NoCodesWhy   string // why no code can be added now ("" when one can)
	Codes        []codeLine
	Foreign      []foreignLine      // codes in slots Latchkey does not own
	Adopters     []*latchkey.Person // whom such a code can be adopted for
	Warranty     string
	Kinds        []latchkey.ServiceKind
	Events       []eventLine
	Battery      int
	Models       []ModelChoice
	SiteKeys     []*latchkey.Key // active keys of the lock's site, to key it to or rekey it to
	RekeyTests   int
	Holds        []string // what removing the lock would drop ("2 codes", "its connection to sim")
	Procedures   lockProcedures
	Survey       string // where the reading of its slots stands, when adopted from its hub
}

func (s *Server) pageLock(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	page, err := s.lockPage(r, id)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, 200, "lock", page)
}

// lockPage reads everything a lock's page shows.
func (s *Server) lockPage(r *http.Request, id int64) (lockPage, error) {
	ctx := r.Context()
	rec, err := s.Service.FindLockRecord(ctx, id)
	if err != nil {
		return lockPage{}, err
	}
	l := rec.Lock
	page := lockPage{base: s.base(r, "dashboard"), Rec: rec, Model: or(s.Catalog.ModelName(l.ModelID), "model not identified"),
		People: map[int64]string{}, Warranty: s.Catalog.Warranty(l.ModelID, l.PurchasedAt), Models: s.Catalog.Models(),
		Kinds: []latchkey.ServiceKind{latchkey.ServiceNote, latchkey.ServiceBattery, latchkey.ServiceRekey, latchkey.ServiceCodes,
			latchkey.ServiceReset, latchkey.ServiceRepair, latchkey.ServiceInspection}, RekeyTests: latchkey.RekeyTests}
	page.Class, page.Label = l.Attention.Level, l.Attention.Label
	page.TakesCodes = s.Catalog.TakesCodes(l.ModelID)
	if refusal := s.Service.ProgrammingRefusal(l); refusal != nil {
		page.NoCodesWhy = latchkey.ErrorMessage(refusal)
	}
	page.Battery = l.State.BatteryPercent()
	page.Survey = surveyText(l.Survey)
	for pid, p := range rec.People {
		page.People[pid] = p.Name
	}
	if page.Events, err = s.eventLines(ctx, id, lockPageEvents, page.People, nil); err != nil {
		return page, err
	}
	loc := siteZone(rec.Site)
	for _, g := range rec.Grants {
		c := rec.Codes[g.CodeID]
		if c == nil || g.Status == latchkey.GrantRemoved {
			continue
		}
		connected := l.Connection.Driver != ""
		line := codeLine{ID: c.ID, Label: c.Label, Person: page.People[c.PersonID], PersonID: c.PersonID, Slot: g.Slot,
			Status: standing(g, c, connected, rec.Site, time.Now()), Valid: c.Validity(loc), Revocable: !c.Revoked, RevocationOpen: c.Revoked,
			// On a hub the engine confirms by reading back; by hand only what it could not.
			Confirmable: confirmable(g, connected), Retryable: retryable(g, connected), standingDetail: detailOf(g, loc)}
		page.Codes = append(page.Codes, line)
	}
	for _, f := range rec.Foreign {
		page.Foreign = append(page.Foreign, foreignLine{Slot: f.Slot, Seen: f.SeenAt.In(loc).Format("2006-01-02 15:04"), Clearing: f.Clearing, Reason: f.Reason})
	}
	if len(page.Foreign) > 0 && page.CanWrite {
		if page.Adopters, _, err = s.Service.FindPeople(ctx, latchkey.Page{Limit: 1000}); err != nil {
			return page, err
		}
	}
	if n := len(page.Codes); n > 0 {
		page.Holds = append(page.Holds, plural(n, "code", "codes")+" recorded on it")
	}
	if l.Connection.Driver != "" {
		page.Holds = append(page.Holds, "its connection to "+string(l.Connection.Driver))
	}
	if l.KeyID != 0 {
		page.Holds = append(page.Holds, "the record of the key it takes")
	}
	if page.Procedures, err = s.lockProceduresCard(ctx, rec, page.TakesCodes); err != nil {
		return page, err
	}
	active := latchkey.KeyActive
	page.SiteKeys, _, err = s.Service.FindKeys(ctx, latchkey.KeyFilter{SiteID: &rec.Site.ID, State: &active}, latchkey.Page{Limit: 1000})
	return page, err
}

// standing says where a code stands on a lock, as the lock's page and the codes page
// both show it: a windowed code waiting for its time says when it goes on (the lead time
// of the lock's site, when a hub puts it on), and how.
func standing(g *latchkey.Grant, c *latchkey.Code, connected bool, site *latchkey.Site, now time.Time) string {
	text := standingStatus(g, c, connected, site, now)
	if g.Reason != "" {
		text += " (" + g.Reason + ")"
	}
	return text
}

// standingStatus is standing without the reason, for a page that shows it apart.
func standingStatus(g *latchkey.Grant, c *latchkey.Code, connected bool, site *latchkey.Site, now time.Time) string {
	text := grantStatusText(g.Status, connected)
	// The lock does not know a window: programmed early, the code works early.
	if sc := c.Schedule; g.Status == latchkey.GrantPending && sc.Kind == latchkey.ScheduleWindow && sc.Start != nil && now.Before(*sc.Start) {
		text = "to program at the lock when its window opens"
		if connected {
			lead := (&latchkey.Site{}).CodeLeadText()
			if site != nil {
				lead = site.CodeLeadText()
			}
			text = "goes on through the hub " + lead + " before its window opens"
		}
	}
	return text
}

// grantStatusText says where a code stands on a lock in words: on a lock on a hub the
// sync engine makes the change, elsewhere a person at the keypad.
func grantStatusText(st latchkey.GrantStatus, connected bool) string {
	switch {
	case st == latchkey.GrantPending && connected:
		return "on its way through the hub"
	case st == latchkey.GrantRemoving && connected:
		return "revoked: being removed through the hub"
	}
	switch st {
	case latchkey.GrantPending:
		return "to program at the lock"
	case latchkey.GrantSetting:
		return "being written to the lock"
	case latchkey.GrantUnconfirmed:
		return "written, not read back: check at the door"
	case latchkey.GrantRemoving:
		return "revoked: still to remove at the lock"
	case latchkey.GrantSet:
		return "on the lock"
	case latchkey.GrantRemoved:
		return "removed"
	case latchkey.GrantFailed:
		return "failed at the lock"
	}
	return string(st)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// siteZone is the time zone a site's schedules are read in (UTC when it names none this
// machine knows).
func siteZone(site *latchkey.Site) *time.Location {
	if site != nil {
		if loc, err := time.LoadLocation(site.TimeZone); err == nil {
			return loc
		}
	}
	return time.UTC
}

// lockBack goes back to the lock's page after a form: with what it says done, or, when
// the form was refused, the page itself with why (a lock that cannot be read gets the
// error page).
func (s *Server) lockBack(w http.ResponseWriter, r *http.Request, id int64, done string, err error) {
	if err != nil {
		page, perr := s.lockPage(r, id)
		if perr != nil {
			s.renderError(w, r, err)
			return
		}
		if latchkey.ErrorCode(err) == latchkey.EINTERNAL {
			logger(r).Error("page failed", "error", err.Error())
		}
		page.Error = latchkey.ErrorMessage(err)
		s.render(w, r, statusOf(w, err), "lock", page)
		return
	}
	http.Redirect(w, r, "/locks/"+strconv.FormatInt(id, 10)+"?done="+done, http.StatusSeeOther)
}

// formDate reads an optional date field (yyyy-mm-dd); empty leaves the record as it is.
func formDate(r *http.Request, name, what string) (*time.Time, error) {
	v := strings.TrimSpace(r.PostFormValue(name))
	if v == "" {
		return nil, nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return nil, latchkey.Errorf(latchkey.EINVALID, "%s %q is not a date; write it as YYYY-MM-DD.", what, v)
	}
	return &t, nil
}

// pageEditLock changes a lock's record from its page's form: every field the form
// shows is sent, so each is set to what the person left in it.
func (s *Server) pageEditLock(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	u := latchkey.LockUpdate{}
	name, model, serial, notes := r.PostFormValue("name"), r.PostFormValue("model_id"), r.PostFormValue("serial"), r.PostFormValue("notes")
	smartKey := r.PostFormValue("smartkey") == "1"
	u.Name, u.ModelID, u.SerialNumber, u.Notes, u.HasSmartKey = &name, &model, &serial, &notes, &smartKey
	if u.PurchasedAt, err = formDate(r, "purchased", "Purchase date"); err == nil {
		u.InstalledAt, err = formDate(r, "installed", "Installation date")
	}
	if err == nil {
		_, err = s.Service.UpdateLock(r.Context(), id, u)
	}
	s.lockBack(w, r, id, "saved", err)
}

func (s *Server) pageSetLockKey(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var keyID int64
	if err == nil && r.PostFormValue("key_id") != "0" {
		keyID, err = formID(r, "key_id")
	}
	if err == nil {
		_, err = s.Service.SetLockKey(r.Context(), id, keyID)
	}
	s.lockBack(w, r, id, "saved", err)
}

// pageRekey records a rekey with what the person attests of the new key's tests; the
// domain refuses it unless they are enough (make before break).
func (s *Server) pageRekey(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	rk := latchkey.Rekey{LockID: id, How: latchkey.RekeyHow(r.PostFormValue("how")), BothSides: r.PostFormValue("both_sides") == "1",
		DoorOpen: r.PostFormValue("door_open") == "1", Note: r.PostFormValue("note")}
	if err == nil {
		rk.KeyID, err = formID(r, "key_id")
	}
	if err == nil {
		n, ok := canonicalNumber(r.PostFormValue("tests"), 0)
		if !ok || n > 1000 {
			err = latchkey.Errorf(latchkey.EINVALID, "Say how many times the new key worked, as a number (at least %d from each side).", latchkey.RekeyTests)
		}
		rk.Tests = int(n)
	}
	if err == nil {
		_, err = s.Service.RecordRekey(r.Context(), rk)
	}
	s.lockBack(w, r, id, "rekeyed", err)
}

// pageRetry has the sync engine try a failed code on the lock again.
func (s *Server) pageRetry(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var lockID int64
	if err == nil {
		lockID, err = formID(r, "lock_id")
	}
	if err == nil {
		_, err = s.Service.RetrySync(r.Context(), id, lockID)
	}
	if lockID == 0 {
		s.renderError(w, r, err)
		return
	}
	s.lockBack(w, r, lockID, "retry", err)
}

// pageReprovision puts a reset lock's codes back through the sync engine.
func (s *Server) pageReprovision(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err == nil {
		_, err = s.Service.Reprovision(r.Context(), id)
	}
	s.lockBack(w, r, id, "reprovisioned", err)
}

// pageDeleteLock removes a lock's record; the page asked first, saying what goes with it.
func (s *Server) pageDeleteLock(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err == nil && r.PostFormValue("confirm") != "1" {
		err = latchkey.Errorf(latchkey.EINVALID, "Tick the box that says you mean it, then remove the lock.")
	}
	if err == nil {
		err = s.Service.DeleteLock(r.Context(), id, true) // the page asked, saying what goes with it
	}
	if err != nil {
		s.lockBack(w, r, id, "", err)
		return
	}
	http.Redirect(w, r, "/?done=removed", http.StatusSeeOther)
}

// maxUploadOverhead is what a multipart form adds around a kept file.
const maxUploadOverhead = 64 << 10

func (s *Server) pageAddReceipt(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, latchkey.MaxReceiptBytes+maxUploadOverhead)
	err = func() error {
		f, hdr, err := r.FormFile("file")
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return latchkey.Errorf(latchkey.EINVALID, "The file is larger than 10 MiB, the most Latchkey keeps; scan it at a lower resolution or as a PDF.")
			}
			return latchkey.Errorf(latchkey.EINVALID, "Choose a file to keep with the lock's records.")
		}
		defer f.Close()
		data, err := io.ReadAll(io.LimitReader(f, latchkey.MaxReceiptBytes+1))
		if err != nil {
			return latchkey.Errorf(latchkey.EINVALID, "Could not read the file: %v.", err)
		}
		_, err = s.Service.AddReceipt(r.Context(), id, hdr.Filename, data)
		return err
	}()
	s.lockBack(w, r, id, "kept", err)
}

func (s *Server) pageReceipt(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var rid int64
	if err == nil {
		rid, err = pathID(r, "receipt")
	}
	var rc *latchkey.Receipt
	if err == nil {
		rc, err = s.Service.FindReceipt(r.Context(), id, rid)
	}
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	writeReceipt(w, rc)
}

// writeReceipt sends a kept file as a download, never as a page of this site: it is the
// user's own upload.
func writeReceipt(w http.ResponseWriter, rc *latchkey.Receipt) {
	w.Header().Set("Content-Type", rc.ContentType)
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", rc.Name))
	w.Header().Set("Content-Security-Policy", "default-src 'none'; sandbox")
	w.Write(rc.Data)
}
