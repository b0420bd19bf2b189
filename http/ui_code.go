package http

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
)

// standingDetail is what a page shows of where a code stands on one lock, beside its
// status: the problem, the alert, the warnings and the next attempt, in words.
type standingDetail struct {
	Problem  string   // the problem's kind in a few words, "" when none
	Alert    string   // the revoked-but-used alert, "" when none
	Warnings []string // in words
	Next     string   // when the engine tries again, "" when it does not
}

// warningText says a warning in words.
func warningText(w latchkey.Warning) string {
	switch w {
	case latchkey.WarningDelaySetting:
		return "late: on its way for more than " + latchkey.SyncDelay.String()
	case latchkey.WarningDelayRemoving:
		return "late: being removed for more than " + latchkey.SyncDelay.String()
	case latchkey.WarningChangeAtLockInEffect:
		return "the change made at the lock is in effect"
	}
	return string(w)
}

// detailOf describes a grant's problem, alert, warnings and next attempt.
func detailOf(g *latchkey.Grant, loc *time.Location) standingDetail {
	d := standingDetail{Problem: g.Problem.Describe(), Alert: g.Alert}
	if g.Problem == latchkey.ProblemDuplicateOnDevice && g.ProblemSlot > 0 {
		d.Problem += " (slot " + strconv.Itoa(g.ProblemSlot) + ")"
	}
	for _, w := range g.Warnings {
		d.Warnings = append(d.Warnings, warningText(w))
	}
	if g.NextAttempt != nil {
		if loc == nil {
			loc = time.UTC
		}
		d.Next = "next attempt " + g.NextAttempt.In(loc).Format("2006-01-02 15:04")
	}
	return d
}

// standingWords says in one line where a code stands on a lock (the event stream's
// text): its status, problem, alert, warnings and next attempt.
func standingWords(g *latchkey.Grant) string {
	d := detailOf(g, nil)
	parts := []string{grantStatusText(g.Status, true)} // the stream tells of the engine's changes
	for _, s := range append([]string{d.Problem, d.Alert, d.Next}, d.Warnings...) {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "; ") + " (lock " + strconv.FormatInt(g.LockID, 10) + ", slot " + strconv.Itoa(g.Slot) + ")"
}

// retryable says whether "try again" applies: a failed code, or one the engine put off,
// on a lock on a hub.
func retryable(g *latchkey.Grant, connected bool) bool {
	return connected && (g.Status == latchkey.GrantFailed ||
		g.NextAttempt != nil && (g.Status == latchkey.GrantPending || g.Status == latchkey.GrantSetting || g.Status == latchkey.GrantRemoving))
}

// codeStanding is a code's place on one lock, on the code's page.
type codeStanding struct {
	LockID      int64
	Lock        string
	Slot        int
	Status      string
	Class       string
	Reason      string
	Updated     string
	Confirmable bool
	Retryable   bool
	standingDetail
}

type codePage struct {
	base
	Code    *latchkey.Code
	Person  string
	Valid   string
	Uses    int
	Locks   []codeStanding
	Removed int // locks it is recorded gone from
}

// pageCode shows one code: whose it is, when it is valid, and where it stands on each
// lock, with what is wrong and what can be done.
func (s *Server) pageCode(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	page, err := s.codePage(r, id)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "code", page)
}

func (s *Server) codePage(r *http.Request, id int64) (codePage, error) {
	ctx := r.Context()
	page := codePage{base: s.base(r, "codes")}
	c, err := s.Service.FindCodeByID(ctx, id)
	if err != nil {
		return page, err
	}
	c.PIN, c.SealedPIN = "", nil
	page.Code = c
	if p, err := s.Service.FindPersonByID(ctx, c.PersonID); err == nil {
		page.Person = p.Name
	}
	grants, err := s.Service.FindGrants(ctx, latchkey.GrantFilter{CodeID: &id})
	if err != nil {
		return page, err
	}
	var loc *time.Location
	for _, g := range grants {
		// The lock's record holds the lock and its site: its zone, and its lead time.
		rec, err := s.Service.FindLockRecord(ctx, g.LockID)
		if err != nil {
			return page, err
		}
		l := rec.Lock
		loc = siteZone(rec.Site)
		page.Uses += g.Uses
		if g.Status == latchkey.GrantRemoved {
			page.Removed++
			continue
		}
		connected := l.Connection.Driver != ""
		_, class := grantText(g.Status, connected)
		page.Locks = append(page.Locks, codeStanding{LockID: l.ID, Lock: l.Name, Slot: g.Slot, Status: standingStatus(g, c, connected, rec.Site, time.Now()),
			Class: class, Reason: g.Reason, Updated: g.UpdatedAt.In(loc).Format("2006-01-02 15:04"), standingDetail: detailOf(g, loc),
			Confirmable: confirmable(g, connected), Retryable: retryable(g, connected)})
	}
	page.Valid = c.Validity(loc)
	return page, nil
}

// confirmable says whether a person may confirm a code's change by hand: at a lock with
// no hub, or what the hub could not confirm itself.
func confirmable(g *latchkey.Grant, connected bool) bool {
	switch g.Status {
	case latchkey.GrantUnconfirmed:
		return true
	case latchkey.GrantFailed:
		// On a hub, a change made at the lock is resolved by putting the code back (try
		// again) or revoking it, not by a word that it is there.
		return !connected || !g.Problem.Conflict()
	case latchkey.GrantPending, latchkey.GrantRemoving:
		return !connected || g.Reason != ""
	}
	return false
}

// foreignLine is a code on a lock in a slot Latchkey does not own, on the lock's page.
type foreignLine struct {
	Slot     int
	Seen     string
	Clearing bool
	Reason   string
}

// pageAdoptSlot makes the code in a slot Latchkey does not own a person's code.
func (s *Server) pageAdoptSlot(w http.ResponseWriter, r *http.Request) {
	lockID, err := pathID(r, "id")
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	a := latchkey.Adoption{LockID: lockID, Label: r.PostFormValue("label"), PIN: strings.TrimSpace(r.PostFormValue("pin"))}
	if a.Slot, err = pathSlot(r); err == nil {
		a.PersonID, err = formID(r, "person_id")
	}
	var c *latchkey.Code
	if err == nil {
		c, err = s.Service.AdoptForeignCode(r.Context(), a)
	}
	if err != nil {
		s.lockBack(w, r, lockID, "", err)
		return
	}
	http.Redirect(w, r, "/codes/"+strconv.FormatInt(c.ID, 10)+"?done=adopted", http.StatusSeeOther)
}

// pageClearSlot has the engine empty a slot holding a code Latchkey does not own.
func (s *Server) pageClearSlot(w http.ResponseWriter, r *http.Request) {
	lockID, err := pathID(r, "id")
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	slot, err := pathSlot(r)
	if err == nil {
		_, err = s.Service.ClearForeignSlot(r.Context(), lockID, slot)
	}
	s.lockBack(w, r, lockID, "clearing", err)
}

// pathSlot reads a slot number from the path.
func pathSlot(r *http.Request) (int, error) {
	n, ok := canonicalNumber(r.PathValue("slot"), 1)
	if !ok || n > 0xffff {
		return 0, latchkey.Errorf(latchkey.EINVALID, "Slot %q is not a slot number; give a whole number from 1 to 65535.", r.PathValue("slot"))
	}
	return int(n), nil
}
