package http

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
)

// List is a page of a list, with the total count.
type List[T any] struct {
	Items  []T `json:"items"`
	Total  int `json:"total"`
	Offset int `json:"offset"`
	Limit  int `json:"limit"`
}

// NewCodeRequest adds a code; PIN empty means generate one.
type NewCodeRequest struct {
	PersonID  int64             `json:"person_id"`
	Label     string            `json:"label"`
	PIN       string            `json:"pin,omitempty"`
	LockIDs   []int64           `json:"lock_ids"`
	Confirmed bool              `json:"confirmed,omitempty"`
	Schedule  latchkey.Schedule `json:"schedule"`
	UseLimit  int               `json:"use_limit,omitempty"`
	OneTime   bool              `json:"one_time,omitempty"`
}

// NewCodeResponse returns the new code and its PIN, shown once.
type NewCodeResponse struct {
	Code *latchkey.Code `json:"code"`
	PIN  string         `json:"pin"`
}

// CheckCodeRequest carries a candidate PIN to check on a lock; it travels in the body,
// never in the URL, where logs and browser histories would keep it.
type CheckCodeRequest struct {
	PIN string `json:"pin"`
}

// BittingsRequest asks for new bittings clear of a site's keys.
type BittingsRequest struct {
	ModelID string   `json:"model_id,omitempty"` // the cylinders' catalog model; default SmartKey
	Count   int      `json:"count,omitempty"`    // default 1
	Apart   bool     `json:"apart,omitempty"`
	Avoid   []string `json:"avoid,omitempty"` // more bittings to keep clear of
}

// LockPatch changes a lock's record; absent fields stay.
type LockPatch struct {
	Name         *string              `json:"name,omitempty"`
	ModelID      *string              `json:"model_id,omitempty"`
	SerialNumber *string              `json:"serial_number,omitempty"`
	Notes        *string              `json:"notes,omitempty"`
	HasSmartKey  *bool                `json:"has_smartkey,omitempty"`
	Connection   *latchkey.Connection `json:"connection,omitempty"`
	PurchasedAt  *time.Time           `json:"purchased_at,omitempty"`
	InstalledAt  *time.Time           `json:"installed_at,omitempty"`
}

// KeyIDRequest names a key (0: none).
type KeyIDRequest struct {
	KeyID int64 `json:"key_id"`
}

// LockIDRequest names a lock.
type LockIDRequest struct {
	LockID int64 `json:"lock_id"`
}

// AdoptRequest makes the code in a slot Latchkey does not own a person's code. PIN is
// only for a lock whose hub does not tell the code; leave it out to have it read.
type AdoptRequest struct {
	PersonID int64  `json:"person_id"`
	Label    string `json:"label"`
	PIN      string `json:"pin,omitempty"`
}

// StateRequest sets a state.
type StateRequest struct {
	State string `json:"state"`
}

// RevealResponse carries a revealed PIN.
type RevealResponse struct {
	ID  int64  `json:"id"`
	PIN string `json:"pin"`
}

// AuditLine is an audit entry with what it says in words.
type AuditLine struct {
	latchkey.AuditEntry
	Sentence string `json:"sentence"`
}

// auditFilter reads ?entity=, ?id=, ?action= and ?actor=.
func auditFilter(r *http.Request) (latchkey.AuditFilter, error) {
	q := r.URL.Query()
	f := latchkey.AuditFilter{Entity: q.Get("entity"), Action: q.Get("action"), Actor: q.Get("actor")}
	id, err := queryID(r, "id")
	if id != nil {
		f.EntityID = *id
	}
	return f, err
}

// ReprovisionResponse says how many codes go back on a reset lock.
type ReprovisionResponse struct {
	CodesToPutBack int `json:"codes_to_put_back"`
}

// BittingResponse carries a revealed bitting.
type BittingResponse struct {
	ID      int64  `json:"id"`
	Bitting string `json:"bitting"`
}

// VerifyResponse reports an intact audit log.
type VerifyResponse struct {
	Entries int  `json:"entries"`
	OK      bool `json:"ok"`
}

// handle adapts a function returning a status and a value to an http.HandlerFunc.
func handle(fn func(w http.ResponseWriter, r *http.Request) (int, any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		status, v, err := fn(w, r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, status, v)
	}
}

// canonicalNumber parses a whole number written the one way: digits only, no sign, no
// leading zero (so that "1", "+1" and "01" cannot name the same record three ways).
func canonicalNumber(s string, min int64) (int64, bool) {
	if s == "" || len(s) > 19 || (s[0] == '0' && s != "0") || strings.Trim(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n >= min
}

// pathID reads a numeric path value.
func pathID(r *http.Request, name string) (int64, error) {
	id, ok := canonicalNumber(r.PathValue(name), 1)
	if !ok {
		return 0, latchkey.Errorf(latchkey.EINVALID, "%q is not an id; ids are whole numbers from 1, written with digits only.", r.PathValue(name))
	}
	return id, nil
}

// queryID reads an optional numeric query value (nil when absent).
func queryID(r *http.Request, name string) (*int64, error) {
	if vs := r.URL.Query()[name]; len(vs) > 1 {
		return nil, latchkey.Errorf(latchkey.EINVALID, "?%s= is given %d times; give one id.", name, len(vs))
	}
	v := r.URL.Query().Get(name)
	if v == "" {
		return nil, nil
	}
	id, ok := canonicalNumber(v, 1)
	if !ok {
		return nil, latchkey.Errorf(latchkey.EINVALID, "?%s=%q is not an id; ids are whole numbers from 1, written with digits only.", name, v)
	}
	return &id, nil
}

// queryBool reads an optional true/false query value (false when absent). Given more
// than once it is refused: which one counts would be a guess.
func queryBool(r *http.Request, name string) (bool, error) {
	if vs := r.URL.Query()[name]; len(vs) > 1 {
		return false, latchkey.Errorf(latchkey.EINVALID, "?%s= is given %d times; give it once, true or false.", name, len(vs))
	}
	switch v := r.URL.Query().Get(name); v {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	default:
		return false, latchkey.Errorf(latchkey.EINVALID, "?%s=%q is neither true nor false.", name, v)
	}
}

// page reads ?offset= and ?limit=.
func page(r *http.Request) (latchkey.Page, error) {
	var p latchkey.Page
	for name, dst := range map[string]*int{"offset": &p.Offset, "limit": &p.Limit} {
		if v := r.URL.Query().Get(name); v != "" {
			n, ok := canonicalNumber(v, 0)
			if !ok || n > 1<<31 {
				return p, latchkey.Errorf(latchkey.EINVALID, "?%s=%q is not a whole number (digits only).", name, v)
			}
			*dst = int(n)
		}
	}
	return p, nil
}

func listOf[T any](items []T, total int, p latchkey.Page) List[T] {
	if items == nil {
		items = []T{}
	}
	return List[T]{Items: items, Total: total, Offset: p.Offset, Limit: p.PageLimit()}
}

// byID reads a numeric path id and calls fn with it.
func byID(name string, fn func(r *http.Request, id int64) (int, any, error)) func(w http.ResponseWriter, r *http.Request) (int, any, error) {
	return func(w http.ResponseWriter, r *http.Request) (int, any, error) {
		id, err := pathID(r, name)
		if err != nil {
			return 0, nil, err
		}
		return fn(r, id)
	}
}

// created decodes a body into the route's input type, makes the record from it, runs
// create, and answers 201 with the record as stored.
func created[In, Out any](record func(In) Out, create func(r *http.Request, v Out) error) func(w http.ResponseWriter, r *http.Request) (int, any, error) {
	return func(w http.ResponseWriter, r *http.Request) (int, any, error) {
		var in In
		if err := decode(w, r, &in); err != nil {
			return 0, nil, err
		}
		v := record(in)
		if err := create(r, v); err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, v, nil
	}
}

func deleted(del func(r *http.Request, id int64) error) func(w http.ResponseWriter, r *http.Request) (int, any, error) {
	return byID("id", func(r *http.Request, id int64) (int, any, error) {
		return http.StatusOK, map[string]int64{"deleted": id}, del(r, id)
	})
}

// apiRoutes is the JSON API: every route, its permission, and example request and
// response values for the OpenAPI document.
func (s *Server) apiRoutes() []route {
	svc := s.Service
	read, write, reveal := latchkey.PermRead, latchkey.PermWrite, latchkey.PermReveal
	site, door, lock, person, key, code := &latchkey.Site{}, &latchkey.Door{}, &latchkey.Lock{}, &latchkey.Person{}, &latchkey.Key{}, &latchkey.Code{}
	return []route{
		{Method: "GET", Pattern: "/api/v1/openapi.json", Summary: "This document", handler: s.handleOpenAPI},
		{Method: "POST", Pattern: "/api/v1/setup", Summary: "Create the first account (an owner) and sign in", Request: Credentials{}, Response: Me{}, handler: s.handleCredentials(s.setUp)},
		{Method: "POST", Pattern: "/api/v1/login", Summary: "Sign in; sets the session cookie", Request: Credentials{}, Response: Me{}, handler: s.handleCredentials(s.signIn)},
		{Method: "POST", Pattern: "/api/v1/logout", Summary: "Sign out", handler: s.handleLogout},
		{Method: "GET", Pattern: "/api/v1/me", Summary: "Who is signed in (or whether setup is needed)", Response: Me{}, handler: s.handleMe},

		{Method: "GET", Pattern: "/api/v1/sites", Summary: "List sites", Perm: read, Response: List[*latchkey.Site]{}, handler: handle(func(w http.ResponseWriter, r *http.Request) (int, any, error) {
			p, err := page(r)
			if err != nil {
				return 0, nil, err
			}
			items, total, err := svc.FindSites(r.Context(), p)
			return http.StatusOK, listOf(items, total, p), err
		})},
		{Method: "POST", Pattern: "/api/v1/sites", Summary: "Add a site", Perm: write, Request: SiteInput{}, Response: site, handler: handle(created(SiteInput.site, func(r *http.Request, v *latchkey.Site) error { return svc.CreateSite(r.Context(), v) }))},
		{Method: "GET", Pattern: "/api/v1/sites/{id}", Summary: "Show a site", Perm: read, Response: site, handler: handle(byID("id", func(r *http.Request, id int64) (int, any, error) {
			v, err := svc.FindSiteByID(r.Context(), id)
			return http.StatusOK, v, err
		}))},
		{Method: "PATCH", Pattern: "/api/v1/sites/{id}", Summary: "Change a site's name, address or time zone", Perm: write, Request: SitePatch{}, Response: site, handler: handle(byID("id", func(r *http.Request, id int64) (int, any, error) {
			var in SitePatch
			if err := decode(nil, r, &in); err != nil {
				return 0, nil, err
			}
			v, err := svc.UpdateSite(r.Context(), id, latchkey.SiteUpdate{Name: in.Name, Address: in.Address, TimeZone: in.TimeZone, CodeLeadMinutes: in.CodeLeadMinutes})
			return http.StatusOK, v, err
		}))},
		{Method: "POST", Pattern: "/api/v1/sites/{id}/bittings", Summary: "Generate new key bittings clear of every key recorded on the site (recorded in the audit log; at most 3 at a time without the reveal permission)", Perm: write, Request: BittingsRequest{}, Response: latchkey.GeneratedBittings{}, handler: handle(byID("id", func(r *http.Request, id int64) (int, any, error) {
			var in BittingsRequest
			if err := decode(nil, r, &in); err != nil {
				return 0, nil, err
			}
			v, err := svc.GenerateBittings(r.Context(), latchkey.BittingRequest{SiteID: id, ModelID: in.ModelID, Count: in.Count, Apart: in.Apart, Avoid: in.Avoid})
			return http.StatusOK, v, err
		}))},
		{Method: "DELETE", Pattern: "/api/v1/sites/{id}", Summary: "Remove a site that has no doors", Perm: write, handler: handle(deleted(func(r *http.Request, id int64) error { return svc.DeleteSite(r.Context(), id) }))},

		{Method: "GET", Pattern: "/api/v1/doors", Summary: "List doors (?site=ID)", Perm: read, Response: List[*latchkey.Door]{}, handler: handle(func(w http.ResponseWriter, r *http.Request) (int, any, error) {
			p, err := page(r)
			if err != nil {
				return 0, nil, err
			}
			var f latchkey.DoorFilter
			if f.SiteID, err = queryID(r, "site"); err != nil {
				return 0, nil, err
			}
			items, total, err := svc.FindDoors(r.Context(), f, p)
			return http.StatusOK, listOf(items, total, p), err
		})},
		{Method: "POST", Pattern: "/api/v1/doors", Summary: "Add a door", Perm: write, Request: DoorInput{}, Response: door, handler: handle(created(DoorInput.door, func(r *http.Request, v *latchkey.Door) error { return svc.CreateDoor(r.Context(), v) }))},
		{Method: "GET", Pattern: "/api/v1/doors/{id}", Summary: "Show a door", Perm: read, Response: door, handler: handle(byID("id", func(r *http.Request, id int64) (int, any, error) {
			v, err := svc.FindDoorByID(r.Context(), id)
			return http.StatusOK, v, err
		}))},
		{Method: "PATCH", Pattern: "/api/v1/doors/{id}", Summary: "Rename a door", Perm: write, Request: DoorPatch{}, Response: door, handler: handle(byID("id", func(r *http.Request, id int64) (int, any, error) {
			var in DoorPatch
			if err := decode(nil, r, &in); err != nil {
				return 0, nil, err
			}
			v, err := svc.UpdateDoor(r.Context(), id, in.Name)
			return http.StatusOK, v, err
		}))},
		{Method: "DELETE", Pattern: "/api/v1/doors/{id}", Summary: "Remove a door that has no locks", Perm: write, handler: handle(deleted(func(r *http.Request, id int64) error { return svc.DeleteDoor(r.Context(), id) }))},

		{Method: "GET", Pattern: "/api/v1/locks", Summary: "List locks (?door=ID&site=ID&status=S)", Perm: read, Response: List[*latchkey.Lock]{}, handler: handle(func(w http.ResponseWriter, r *http.Request) (int, any, error) {
			p, err := page(r)
			if err != nil {
				return 0, nil, err
			}
			var f latchkey.LockFilter
			if f.DoorID, err = queryID(r, "door"); err != nil {
				return 0, nil, err
			}
			if f.SiteID, err = queryID(r, "site"); err != nil {
				return 0, nil, err
			}
			if st := r.URL.Query().Get("status"); st != "" {
				status := latchkey.LockStatus(st)
				f.Status = &status
			}
			items, total, err := svc.FindLocks(r.Context(), f, p)
			return http.StatusOK, listOf(items, total, p), err
		})},
		{Method: "POST", Pattern: "/api/v1/locks", Summary: "Add a lock (its key is recorded afterwards, with PUT .../key)", Perm: write, Request: LockInput{}, Response: lock, handler: handle(created(LockInput.lock, func(r *http.Request, v *latchkey.Lock) error { return svc.CreateLock(r.Context(), v) }))},
		{Method: "GET", Pattern: "/api/v1/locks/{id}", Summary: "Show a lock", Perm: read, Response: lock, handler: handle(byID("id", func(r *http.Request, id int64) (int, any, error) {
			v, err := svc.FindLockByID(r.Context(), id)
			return http.StatusOK, v, err
		}))},
		{Method: "GET", Pattern: "/api/v1/locks/{id}/record", Summary: "Everything recorded about a lock", Perm: read, Response: latchkey.LockRecord{}, handler: handle(byID("id", func(r *http.Request, id int64) (int, any, error) {
			v, err := svc.FindLockRecord(r.Context(), id)
			return http.StatusOK, v, err
		}))},
		{Method: "PATCH", Pattern: "/api/v1/locks/{id}", Summary: "Change a lock's record", Perm: write, Request: LockPatch{}, Response: lock, handler: handle(byID("id", func(r *http.Request, id int64) (int, any, error) {
			var p LockPatch
			if err := decode(nil, r, &p); err != nil {
				return 0, nil, err
			}
			v, err := svc.UpdateLock(r.Context(), id, latchkey.LockUpdate{Name: p.Name, ModelID: p.ModelID, SerialNumber: p.SerialNumber, Notes: p.Notes,
				HasSmartKey: p.HasSmartKey, Connection: p.Connection, PurchasedAt: p.PurchasedAt, InstalledAt: p.InstalledAt})
			return http.StatusOK, v, err
		}))},
		{Method: "PUT", Pattern: "/api/v1/locks/{id}/key", Summary: "Record the key a lock's cylinder is keyed to (0: none)", Perm: write, Request: KeyIDRequest{}, Response: lock, handler: handle(byID("id", func(r *http.Request, id int64) (int, any, error) {
			var req KeyIDRequest
			if err := decode(nil, r, &req); err != nil {
				return 0, nil, err
			}
			v, err := svc.SetLockKey(r.Context(), id, req.KeyID)
			return http.StatusOK, v, err
		}))},
		{Method: "POST", Pattern: "/api/v1/locks/{id}/rekey", Summary: "Record that a lock was rekeyed or its cylinder replaced, with the new key's tests; clears a lost key's exposure", Perm: write, Request: RekeyInput{}, Response: lock, handler: handle(byID("id", func(r *http.Request, id int64) (int, any, error) {
			var in RekeyInput
			if err := decode(nil, r, &in); err != nil {
				return 0, nil, err
			}
			v, err := svc.RecordRekey(r.Context(), latchkey.Rekey{LockID: id, KeyID: in.KeyID, How: in.How, Tests: in.Tests, BothSides: in.BothSides, DoorOpen: in.DoorOpen, Note: in.Note})
			return http.StatusOK, v, err
		}))},
		{Method: "POST", Pattern: "/api/v1/locks/{id}/reprovision", Summary: "Put a quarantined lock's codes back once it is paired with its hub again: each goes on through the sync engine", Perm: write, Response: ReprovisionResponse{}, handler: handle(byID("id", func(r *http.Request, id int64) (int, any, error) {
			n, err := svc.Reprovision(r.Context(), id)
			return http.StatusOK, ReprovisionResponse{CodesToPutBack: n}, err
		}))},
		{Method: "GET", Pattern: "/api/v1/locks/{id}/slots", Summary: "Codes on a lock in slots Latchkey does not own, to adopt or clear", Perm: read, Response: []latchkey.ForeignCode{}, handler: handle(byID("id", func(r *http.Request, id int64) (int, any, error) {
			v, err := svc.FindForeignCodes(r.Context(), id)
			if v == nil {
				v = []*latchkey.ForeignCode{}
			}
			return http.StatusOK, v, err
		}))},
		{Method: "POST", Pattern: "/api/v1/locks/{id}/slots/{slot}/adopt", Summary: "Adopt the code in a slot Latchkey does not own as a person's code (its PIN read from the lock into the vault)", Perm: write, Request: AdoptRequest{}, Response: code, handler: handle(byID("id", func(r *http.Request, id int64) (int, any, error) {
			slot, err := pathSlot(r)
			if err != nil {
				return 0, nil, err
			}
			var req AdoptRequest
			if err := decode(nil, r, &req); err != nil {
				return 0, nil, err
			}
			v, err := svc.AdoptForeignCode(r.Context(), latchkey.Adoption{LockID: id, Slot: slot, PersonID: req.PersonID, Label: req.Label, PIN: req.PIN})
			return http.StatusCreated, v, err
		}))},
		{Method: "POST", Pattern: "/api/v1/locks/{id}/slots/{slot}/clear", Summary: "Have the sync engine empty a slot holding a code Latchkey does not own", Perm: write, Response: latchkey.ForeignCode{}, handler: handle(byID("id", func(r *http.Request, id int64) (int, any, error) {
			slot, err := pathSlot(r)
			if err != nil {
				return 0, nil, err
			}
			v, err := svc.ClearForeignSlot(r.Context(), id, slot)
			return http.StatusOK, v, err
		}))},
		{Method: "POST", Pattern: "/api/v1/locks/{id}/check-code", Summary: "Check a candidate PIN on a lock: its model's rules, a free slot, the lock's state, and (for those who may reveal codes only) collisions with the codes on it", Perm: write, Request: CheckCodeRequest{}, Response: latchkey.CodeVerdict{}, handler: handle(byID("id", func(r *http.Request, id int64) (int, any, error) {
			var req CheckCodeRequest
			if err := decode(nil, r, &req); err != nil {
				return 0, nil, err
			}
			v, err := svc.CheckCode(r.Context(), id, req.PIN)
			return http.StatusOK, v, err
		}))},
		{Method: "DELETE", Pattern: "/api/v1/locks/{id}", Summary: "Remove a lock's record; one with codes on it or a connection is refused as unsafe unless ?force=true", Perm: write, handler: handle(deleted(func(r *http.Request, id int64) error {
			force, err := queryBool(r, "force")
			if err != nil {
				return err
			}
			return svc.DeleteLock(r.Context(), id, force)
		}))},
		{Method: "POST", Pattern: "/api/v1/locks/{id}/service", Summary: "Add to a lock's service log", Perm: write, Request: ServiceEntryInput{}, Response: latchkey.ServiceEntry{}, handler: handle(byID("id", func(r *http.Request, id int64) (int, any, error) {
			var in ServiceEntryInput
			if err := decode(nil, r, &in); err != nil {
				return 0, nil, err
			}
			e := latchkey.ServiceEntry{LockID: id, Kind: in.Kind, Note: in.Note, WarrantyRelevant: in.WarrantyRelevant}
			return http.StatusCreated, &e, svc.AddServiceEntry(r.Context(), &e)
		}))},
		{Method: "POST", Pattern: "/api/v1/locks/{id}/receipts", Summary: "Keep a file with a lock's records (raw body, ?name=FILE; up to 10 MiB)", Perm: write, Response: latchkey.Receipt{}, handler: handle(byID("id", func(r *http.Request, id int64) (int, any, error) {
			data, err := io.ReadAll(io.LimitReader(r.Body, latchkey.MaxReceiptBytes+1))
			if err != nil {
				return 0, nil, latchkey.Errorf(latchkey.EINVALID, "Could not read the file: %v.", err)
			}
			rc, err := svc.AddReceipt(r.Context(), id, r.URL.Query().Get("name"), data)
			if rc != nil {
				rc.Data = nil
			}
			if err != nil && len(data) > latchkey.MaxReceiptBytes {
				err = tooLarge{err} // the records' own words: larger than 10 MiB
			}
			return http.StatusCreated, rc, err
		}))},
		{Method: "GET", Pattern: "/api/v1/locks/{id}/receipts", Summary: "List a lock's files", Perm: read, Response: []latchkey.Receipt{}, handler: handle(byID("id", func(r *http.Request, id int64) (int, any, error) {
			v, err := svc.FindReceipts(r.Context(), id, false)
			return http.StatusOK, v, err
		}))},
		{Method: "GET", Pattern: "/api/v1/locks/{id}/receipts/{receipt}", Summary: "Download a kept file", Perm: read, handler: s.handleReceipt},

		{Method: "GET", Pattern: "/api/v1/people", Summary: "List people", Perm: read, Response: List[*latchkey.Person]{}, handler: handle(func(w http.ResponseWriter, r *http.Request) (int, any, error) {
			p, err := page(r)
			if err != nil {
				return 0, nil, err
			}
			items, total, err := svc.FindPeople(r.Context(), p)
			return http.StatusOK, listOf(items, total, p), err
		})},
		{Method: "POST", Pattern: "/api/v1/people", Summary: "Add a person", Perm: write, Request: PersonInput{}, Response: person, handler: handle(created(PersonInput.person, func(r *http.Request, v *latchkey.Person) error { return svc.CreatePerson(r.Context(), v) }))},
		{Method: "GET", Pattern: "/api/v1/people/{id}", Summary: "Show a person", Perm: read, Response: person, handler: handle(byID("id", func(r *http.Request, id int64) (int, any, error) {
			v, err := svc.FindPersonByID(r.Context(), id)
			return http.StatusOK, v, err
		}))},
		{Method: "PATCH", Pattern: "/api/v1/people/{id}", Summary: "Change a person's record", Perm: write, Request: PersonPatch{}, Response: person, handler: handle(byID("id", func(r *http.Request, id int64) (int, any, error) {
			var in PersonPatch
			if err := decode(nil, r, &in); err != nil {
				return 0, nil, err
			}
			v, err := svc.UpdatePerson(r.Context(), id, latchkey.PersonUpdate{Name: in.Name, Role: in.Role, Phone: in.Phone, Email: in.Email})
			return http.StatusOK, v, err
		}))},
		{Method: "POST", Pattern: "/api/v1/people/{id}/revoke", Summary: "Revoke every code of a person (each pending until its locks confirm; a lock's last way in stays)", Perm: write, Response: latchkey.PersonRevocation{}, handler: handle(byID("id", func(r *http.Request, id int64) (int, any, error) {
			v, err := svc.RevokePerson(r.Context(), id)
			return http.StatusOK, v, err
		}))},
		{Method: "DELETE", Pattern: "/api/v1/people/{id}", Summary: "Remove a person", Perm: write, handler: handle(deleted(func(r *http.Request, id int64) error { return svc.DeletePerson(r.Context(), id) }))},

		{Method: "GET", Pattern: "/api/v1/keys", Summary: "List keys (?site=ID)", Perm: read, Response: List[*latchkey.Key]{}, handler: handle(func(w http.ResponseWriter, r *http.Request) (int, any, error) {
			p, err := page(r)
			if err != nil {
				return 0, nil, err
			}
			var f latchkey.KeyFilter
			if f.SiteID, err = queryID(r, "site"); err != nil {
				return 0, nil, err
			}
			items, total, err := svc.FindKeys(r.Context(), f, p)
			return http.StatusOK, listOf(items, total, p), err
		})},
		{Method: "POST", Pattern: "/api/v1/keys", Summary: "Record a key and its copies", Perm: write, Request: KeyInput{}, Response: key, handler: handle(created(KeyInput.key, func(r *http.Request, v *latchkey.Key) error { return svc.CreateKey(r.Context(), v) }))},
		{Method: "GET", Pattern: "/api/v1/keys/{id}", Summary: "Show a key and its copies", Perm: read, Response: key, handler: handle(byID("id", func(r *http.Request, id int64) (int, any, error) {
			v, err := svc.FindKeyByID(r.Context(), id)
			return http.StatusOK, v, err
		}))},
		{Method: "POST", Pattern: "/api/v1/keys/{id}/reveal", Summary: "Reveal a key's bitting (recorded in the audit log)", Perm: reveal, Response: BittingResponse{}, handler: handle(byID("id", func(r *http.Request, id int64) (int, any, error) {
			b, err := svc.RevealBitting(r.Context(), id)
			return http.StatusOK, BittingResponse{ID: id, Bitting: b}, err
		}))},
		{Method: "POST", Pattern: "/api/v1/keys/{id}/copies", Summary: "Record another copy of a key", Perm: write, Request: KeyCopyInput{}, Response: key, handler: handle(byID("id", func(r *http.Request, id int64) (int, any, error) {
			var in KeyCopyInput
			if err := decode(nil, r, &in); err != nil {
				return 0, nil, err
			}
			v, err := svc.AddKeyCopy(r.Context(), id, in.keyCopy())
			return http.StatusCreated, v, err
		}))},
		{Method: "PUT", Pattern: "/api/v1/keys/{id}/copies/{copy}/state", Summary: "Record where a copy is now", Perm: write, Request: StateRequest{}, Response: key, handler: handle(byID("id", func(r *http.Request, id int64) (int, any, error) {
			copyID, err := pathID(r, "copy")
			if err != nil {
				return 0, nil, err
			}
			var req StateRequest
			if err := decode(nil, r, &req); err != nil {
				return 0, nil, err
			}
			v, err := svc.SetKeyCopyState(r.Context(), id, copyID, latchkey.CopyState(req.State))
			return http.StatusOK, v, err
		}))},
		{Method: "PUT", Pattern: "/api/v1/keys/{id}/state", Summary: "Mark a key lost or retired", Perm: write, Request: StateRequest{}, Response: key, handler: handle(byID("id", func(r *http.Request, id int64) (int, any, error) {
			var req StateRequest
			if err := decode(nil, r, &req); err != nil {
				return 0, nil, err
			}
			v, err := svc.SetKeyState(r.Context(), id, latchkey.KeyState(req.State))
			return http.StatusOK, v, err
		}))},

		{Method: "GET", Pattern: "/api/v1/codes", Summary: "List codes, never their digits (?lock=ID&person=ID)", Perm: read, Response: List[*latchkey.Code]{}, handler: handle(func(w http.ResponseWriter, r *http.Request) (int, any, error) {
			p, err := page(r)
			if err != nil {
				return 0, nil, err
			}
			var f latchkey.CodeFilter
			if f.LockID, err = queryID(r, "lock"); err != nil {
				return 0, nil, err
			}
			if f.PersonID, err = queryID(r, "person"); err != nil {
				return 0, nil, err
			}
			items, total, err := svc.FindCodes(r.Context(), f, p)
			return http.StatusOK, listOf(items, total, p), err
		})},
		{Method: "POST", Pattern: "/api/v1/codes", Summary: "Add a code on locks (generated when no pin is given; shown once)", Perm: write, Request: NewCodeRequest{}, Response: NewCodeResponse{}, handler: handle(func(w http.ResponseWriter, r *http.Request) (int, any, error) {
			var req NewCodeRequest
			if err := decode(w, r, &req); err != nil {
				return 0, nil, err
			}
			c, pin, err := svc.CreateCode(r.Context(), latchkey.NewCode{Code: latchkey.Code{PersonID: req.PersonID, Label: req.Label, Schedule: req.Schedule,
				UseLimit: req.UseLimit, OneTime: req.OneTime}, PIN: req.PIN, LockIDs: req.LockIDs, Confirmed: req.Confirmed})
			if c != nil {
				c.SealedPIN, c.PIN = nil, ""
			}
			return http.StatusCreated, NewCodeResponse{Code: c, PIN: pin}, err
		})},
		{Method: "GET", Pattern: "/api/v1/codes/{id}", Summary: "Show a code, never its digits", Perm: read, Response: code, handler: handle(byID("id", func(r *http.Request, id int64) (int, any, error) {
			v, err := svc.FindCodeByID(r.Context(), id)
			return http.StatusOK, v, err
		}))},
		{Method: "GET", Pattern: "/api/v1/codes/{id}/grants", Summary: "Where a code stands on each lock", Perm: read, Response: []latchkey.Grant{}, handler: handle(byID("id", func(r *http.Request, id int64) (int, any, error) {
			v, err := svc.FindGrants(r.Context(), latchkey.GrantFilter{CodeID: &id})
			if v == nil {
				v = []*latchkey.Grant{}
			}
			return http.StatusOK, v, err
		}))},
		{Method: "GET", Pattern: "/api/v1/grants", Summary: "Where codes stand (?lock=ID&code=ID)", Perm: read, Response: []latchkey.Grant{}, handler: handle(func(w http.ResponseWriter, r *http.Request) (int, any, error) {
			var f latchkey.GrantFilter
			var err error
			if f.LockID, err = queryID(r, "lock"); err != nil {
				return 0, nil, err
			}
			if f.CodeID, err = queryID(r, "code"); err != nil {
				return 0, nil, err
			}
			v, err := svc.FindGrants(r.Context(), f)
			if v == nil {
				v = []*latchkey.Grant{}
			}
			return http.StatusOK, v, err
		})},
		{Method: "POST", Pattern: "/api/v1/codes/{id}/confirm", Summary: "Record that a lock confirmed a code's change", Perm: write, Request: LockIDRequest{}, Response: latchkey.Grant{}, handler: handle(byID("id", func(r *http.Request, id int64) (int, any, error) {
			var req LockIDRequest
			if err := decode(nil, r, &req); err != nil {
				return 0, nil, err
			}
			v, err := svc.ConfirmCode(r.Context(), id, req.LockID)
			return http.StatusOK, v, err
		}))},
		{Method: "POST", Pattern: "/api/v1/codes/{id}/retry", Summary: "Have the sync engine try a code on a lock again now: a failed one, or one it put off", Perm: write, Request: LockIDRequest{}, Response: latchkey.Grant{}, handler: handle(byID("id", func(r *http.Request, id int64) (int, any, error) {
			var req LockIDRequest
			if err := decode(nil, r, &req); err != nil {
				return 0, nil, err
			}
			if req.LockID == 0 {
				return 0, nil, latchkey.Errorf(latchkey.EINVALID, "Say which lock to try the code on again: {\"lock_id\": N}.")
			}
			v, err := svc.RetrySync(r.Context(), id, req.LockID)
			return http.StatusOK, v, err
		}))},
		{Method: "DELETE", Pattern: "/api/v1/codes/{id}", Summary: "Revoke a code (pending until each lock confirms)", Perm: write, Response: code, handler: handle(byID("id", func(r *http.Request, id int64) (int, any, error) {
			v, err := svc.RevokeCode(r.Context(), id)
			if v != nil {
				v.SealedPIN = nil
			}
			return http.StatusOK, v, err
		}))},
		{Method: "POST", Pattern: "/api/v1/codes/{id}/reveal", Summary: "Reveal a code's digits (recorded in the audit log)", Perm: reveal, Response: RevealResponse{}, handler: handle(byID("id", func(r *http.Request, id int64) (int, any, error) {
			pin, err := svc.RevealCode(r.Context(), id)
			return http.StatusOK, RevealResponse{ID: id, PIN: pin}, err
		}))},

		{Method: "GET", Pattern: "/api/v1/events/stream", Summary: "Live events as server-sent events (text/event-stream): each message's data is one event as JSON", Perm: read, handler: s.handleEvents},
		{Method: "GET", Pattern: "/api/v1/events", Summary: "Recent events, newest first (?lock=ID&limit=N)", Perm: read, Response: []latchkey.Event{}, handler: handle(func(w http.ResponseWriter, r *http.Request) (int, any, error) {
			lockID, err := queryID(r, "lock")
			if err != nil {
				return 0, nil, err
			}
			p, err := page(r)
			if err != nil {
				return 0, nil, err
			}
			var id int64
			if lockID != nil {
				id = *lockID
			}
			v, err := svc.FindEvents(r.Context(), id, p.PageLimit())
			if v == nil {
				v = []*latchkey.Event{}
			}
			return http.StatusOK, v, err
		})},
		{Method: "GET", Pattern: "/api/v1/audit", Summary: "The audit log, newest first, each entry with a sentence (?entity=lock&id=ID&action=code.reveal&actor=NAME)", Perm: read, Response: List[AuditLine]{}, handler: handle(func(w http.ResponseWriter, r *http.Request) (int, any, error) {
			p, err := page(r)
			if err != nil {
				return 0, nil, err
			}
			f, err := auditFilter(r)
			if err != nil {
				return 0, nil, err
			}
			entries, total, err := svc.FindAuditEntries(r.Context(), f, p)
			lines := make([]AuditLine, len(entries))
			for i, e := range entries {
				lines[i] = AuditLine{AuditEntry: *e, Sentence: e.Sentence()}
			}
			return http.StatusOK, listOf(lines, total, p), err
		})},
		{Method: "GET", Pattern: "/api/v1/audit/verify", Summary: "Check the audit log's hash chain", Perm: read, Response: VerifyResponse{}, handler: handle(func(w http.ResponseWriter, r *http.Request) (int, any, error) {
			n, err := svc.VerifyAuditLog(r.Context())
			return http.StatusOK, VerifyResponse{Entries: n, OK: err == nil}, err
		})},
		{Method: "GET", Pattern: "/api/v1/export", Summary: "Every record (no secrets, no audit log)", Perm: read, Response: latchkey.Records{}, handler: handle(func(w http.ResponseWriter, r *http.Request) (int, any, error) {
			v, err := svc.Export(r.Context())
			return http.StatusOK, v, err
		})},
	}
}

func (s *Server) handleReceipt(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		writeError(w, r, err)
		return
	}
	rid, err := pathID(r, "receipt")
	if err != nil {
		writeError(w, r, err)
		return
	}
	rc, err := s.Service.FindReceipt(r.Context(), id, rid)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeReceipt(w, rc)
}
