package http

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/latchkey/latchkey"
)

// handleEvents streams every event recorded from now on as server-sent events, with a
// comment every 15 s so that proxies keep the connection open. Before each message the
// stream checks that the caller's session or token still stands: a stream opened before
// an account was removed, its token revoked or its role taken down ends then.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	// The server's write timeout is for ordinary responses; a stream lives longer.
	_ = rc.SetWriteDeadline(time.Time{})
	events, cancel := s.Service.SubscribeEvents()
	defer cancel()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ": latchkey events\n\n")
	rc.Flush()
	beat := time.NewTicker(15 * time.Second)
	defer beat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.stopping:
			return
		case <-beat.C:
			if _, err := s.principal(r); err != nil {
				return
			}
			fmt.Fprint(w, ": keep-alive\n\n")
		case e, ok := <-events:
			if !ok {
				return
			}
			if p, err := s.principal(r); err != nil || !p.Role.Allows(latchkey.PermRead) {
				return
			}
			data, _ := json.Marshal(e)
			// One message type: the event's kind is in its data, so a client needs no
			// list of kinds that could fall behind the domain's.
			if e.ID == 0 {
				// A code's standing is not a stored event: it has no id to resume from.
				fmt.Fprintf(w, "data: %s\n\n", data)
			} else {
				fmt.Fprintf(w, "id: %d\ndata: %s\n\n", e.ID, data)
			}
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

// oneTime holds sign-in links that work once, for a short while (the demo prints one).
type oneTime struct {
	mu    sync.Mutex
	links map[string]oneTimeLink
}

type oneTimeLink struct {
	userID  int64
	expires time.Time
}

// LoginLink returns a link that signs the user in once, within 15 minutes.
func (s *Server) LoginLink(u *latchkey.User) string {
	plain, hash := secret("l_")
	s.oneTime.mu.Lock()
	defer s.oneTime.mu.Unlock()
	if s.oneTime.links == nil {
		s.oneTime.links = map[string]oneTimeLink{}
	}
	for h, l := range s.oneTime.links { // forget the links nobody used
		if time.Now().After(l.expires) {
			delete(s.oneTime.links, h)
		}
	}
	s.oneTime.links[hash] = oneTimeLink{userID: u.ID, expires: time.Now().Add(15 * time.Minute)}
	return s.URL() + "/login/link/" + plain
}

func (s *Server) pageLoginLink(w http.ResponseWriter, r *http.Request) {
	hash := hashSecret(r.PathValue("secret"))
	s.oneTime.mu.Lock()
	link, ok := s.oneTime.links[hash]
	delete(s.oneTime.links, hash)
	s.oneTime.mu.Unlock()
	if !ok || time.Now().After(link.expires) {
		page := loginPage{base: s.base(r, "")}
		page.Error = "That sign-in link has been used or has expired; sign in with your name and password."
		s.render(w, r, http.StatusUnauthorized, "login", page)
		return
	}
	u, err := s.Service.FindUserByID(r.Context(), link.userID)
	if err == nil {
		err = s.setSessionCookie(w, r, u)
	}
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// eventText describes an event for people.
func eventText(e *latchkey.Event, person string) string {
	s := string(e.Kind)
	switch e.Kind {
	case latchkey.EventUnlocked, latchkey.EventLocked:
		s = "Locked"
		if e.Kind == latchkey.EventUnlocked {
			s = "Unlocked"
		}
		switch {
		case person != "":
			s += " by " + person + "'s code"
		case e.Source == latchkey.SourceKeypad && e.Slot > 0:
			s += " by the code in slot " + strconv.Itoa(e.Slot)
		case e.Source == latchkey.SourceKeypad:
			s += " at the keypad"
		case e.Source == latchkey.SourceAuto:
			s += " automatically"
		case e.Source == latchkey.SourceManual:
			s += " by hand"
		case e.Source == latchkey.SourceRF:
			s += " remotely"
		}
	case latchkey.EventRevokedCodeUsed:
		s = "ALERT: " + e.Detail
	case latchkey.EventWrongCode:
		s = "Wrong code entered"
	case latchkey.EventKeypadLockout:
		s = "Keypad locked out after wrong codes"
	case latchkey.EventJammed:
		s = "Bolt jammed: check the door and strike alignment"
	case latchkey.EventLowBattery:
		s = "Battery low: replace the batteries before programming"
	case latchkey.EventResetLocally:
		s = "Reset at the lock: quarantined until its codes are re-provisioned"
	case latchkey.EventAllCodesDeleted:
		s = "All codes deleted at the lock: quarantined"
	case latchkey.EventTamper:
		s = "Tamper: the lock's assemblies are disconnected"
	case latchkey.EventCodeAdded:
		s = "A code was added at the lock itself, not through Latchkey"
	case latchkey.EventCodeDeleted:
		s = "A code was deleted at the lock itself, not through Latchkey"
	case latchkey.EventCodeChanged:
		s = "A code was changed at the lock itself, not through Latchkey"
	case latchkey.EventCodeStatus:
		if g := e.Grant; g != nil {
			s = fmt.Sprintf("Code %d: %s", g.CodeID, standingWords(g))
		}
	case latchkey.EventRunStatus:
		if r := e.Run; r != nil {
			s = fmt.Sprintf("Procedure run %d (%s): %s", r.ID, r.Title, r.Status)
			if r.Status == latchkey.RunActive {
				s = fmt.Sprintf("Procedure run %d (%s): step %d of %d", r.ID, r.Title, r.Current+1, r.Steps)
			}
		}
	case latchkey.EventOffline:
		s = "Stopped answering: check its batteries and the hub's range"
	case latchkey.EventReveal:
		s = "A code's digits were shown"
	case latchkey.EventChange:
		s = "Its records were changed"
	}
	if e.Detail != "" && e.Kind != latchkey.EventUnlocked && e.Kind != latchkey.EventLocked {
		s += " (" + e.Detail + ")"
	}
	return s
}
