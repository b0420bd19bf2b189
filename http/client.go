package http

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
)

// Client talks to a Latchkey server's API with an API token. It implements
// latchkey.RecordService, so the command line works the same against a server as on a
// local data directory.
type Client struct {
	URL   string // the server's base URL
	Token string // an API token, lk_...
	HTTP  *http.Client
}

var _ latchkey.RecordService = (*Client)(nil)

// NewClient returns a client for the server at base with a token.
func NewClient(base, token string) *Client {
	return &Client{URL: strings.TrimSuffix(base, "/"), Token: token, HTTP: &http.Client{Timeout: 60 * time.Second}}
}

// do sends a request with a JSON body (nil for none) and decodes a JSON answer into out.
func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	return c.send(ctx, method, path, "application/json", rd, func(r io.Reader) error {
		if out == nil {
			return nil
		}
		return json.NewDecoder(r).Decode(out)
	})
}

func (c *Client) send(ctx context.Context, method, path, contentType string, body io.Reader, read func(io.Reader) error) error {
	req, err := http.NewRequestWithContext(ctx, method, c.URL+path, body)
	if err != nil {
		return latchkey.Errorf(latchkey.EINVALID, "The server URL %q is not valid: %v.", c.URL, err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return latchkey.Errorf(latchkey.EUNAVAILABLE, "Cannot reach the Latchkey server at %s: %v. Is it running?", c.URL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 400 {
		var eb ErrorBody
		if json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&eb) == nil && eb.Error.Code != "" {
			return &latchkey.Error{Code: eb.Error.Code, Message: eb.Error.Message}
		}
		return latchkey.Errorf(codeByStatus(resp.StatusCode), "The server answered %s.", resp.Status)
	}
	return read(resp.Body)
}

func query(kv ...any) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		switch v := kv[i+1].(type) {
		case *int64:
			if v != nil {
				q.Set(kv[i].(string), strconv.FormatInt(*v, 10))
			}
		case int:
			if v != 0 {
				q.Set(kv[i].(string), strconv.Itoa(v))
			}
		case string:
			if v != "" {
				q.Set(kv[i].(string), v)
			}
		}
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

func pageQuery(p latchkey.Page, kv ...any) string {
	return query(append(kv, "offset", p.Offset, "limit", p.Limit)...)
}

func id(n int64) string { return strconv.FormatInt(n, 10) }

// list fetches a page of a list.
func list[T any](ctx context.Context, c *Client, path string) ([]T, int, error) {
	var l List[T]
	err := c.do(ctx, "GET", path, nil, &l)
	return l.Items, l.Total, err
}

// CreateSite adds a site.
func (c *Client) CreateSite(ctx context.Context, s *latchkey.Site) error {
	return c.do(ctx, "POST", "/api/v1/sites", SiteInput{Name: s.Name, Address: s.Address, TimeZone: s.TimeZone, CodeLeadMinutes: s.CodeLeadMinutes}, s)
}

// FindSites lists sites.
func (c *Client) FindSites(ctx context.Context, p latchkey.Page) ([]*latchkey.Site, int, error) {
	return list[*latchkey.Site](ctx, c, "/api/v1/sites"+pageQuery(p))
}

// FindSiteByID returns a site.
func (c *Client) FindSiteByID(ctx context.Context, n int64) (*latchkey.Site, error) {
	var s latchkey.Site
	return &s, c.do(ctx, "GET", "/api/v1/sites/"+id(n), nil, &s)
}

// DeleteSite removes a site.
func (c *Client) DeleteSite(ctx context.Context, n int64) error {
	return c.do(ctx, "DELETE", "/api/v1/sites/"+id(n), nil, nil)
}

// UpdateSite changes a site.
func (c *Client) UpdateSite(ctx context.Context, n int64, u latchkey.SiteUpdate) (*latchkey.Site, error) {
	var s latchkey.Site
	return &s, c.do(ctx, "PATCH", "/api/v1/sites/"+id(n), SitePatch{Name: u.Name, Address: u.Address, TimeZone: u.TimeZone, CodeLeadMinutes: u.CodeLeadMinutes}, &s)
}

// UpdateDoor renames a door.
func (c *Client) UpdateDoor(ctx context.Context, n int64, name string) (*latchkey.Door, error) {
	var d latchkey.Door
	return &d, c.do(ctx, "PATCH", "/api/v1/doors/"+id(n), DoorPatch{Name: name}, &d)
}

// UpdatePerson changes a person's record.
func (c *Client) UpdatePerson(ctx context.Context, n int64, u latchkey.PersonUpdate) (*latchkey.Person, error) {
	var p latchkey.Person
	return &p, c.do(ctx, "PATCH", "/api/v1/people/"+id(n), PersonPatch{Name: u.Name, Role: u.Role, Phone: u.Phone, Email: u.Email}, &p)
}

// RevokePerson revokes every code of a person.
func (c *Client) RevokePerson(ctx context.Context, n int64) (*latchkey.PersonRevocation, error) {
	var r latchkey.PersonRevocation
	return &r, c.do(ctx, "POST", "/api/v1/people/"+id(n)+"/revoke", nil, &r)
}

// CreateDoor adds a door.
func (c *Client) CreateDoor(ctx context.Context, d *latchkey.Door) error {
	return c.do(ctx, "POST", "/api/v1/doors", DoorInput{SiteID: d.SiteID, Name: d.Name}, d)
}

// FindDoors lists doors.
func (c *Client) FindDoors(ctx context.Context, f latchkey.DoorFilter, p latchkey.Page) ([]*latchkey.Door, int, error) {
	return list[*latchkey.Door](ctx, c, "/api/v1/doors"+pageQuery(p, "site", f.SiteID))
}

// FindDoorByID returns a door.
func (c *Client) FindDoorByID(ctx context.Context, n int64) (*latchkey.Door, error) {
	var d latchkey.Door
	return &d, c.do(ctx, "GET", "/api/v1/doors/"+id(n), nil, &d)
}

// DeleteDoor removes a door.
func (c *Client) DeleteDoor(ctx context.Context, n int64) error {
	return c.do(ctx, "DELETE", "/api/v1/doors/"+id(n), nil, nil)
}

// CreateLock adds a lock.
func (c *Client) CreateLock(ctx context.Context, l *latchkey.Lock) error {
	return c.do(ctx, "POST", "/api/v1/locks", lockInput(l), l)
}

// FindLocks lists locks.
func (c *Client) FindLocks(ctx context.Context, f latchkey.LockFilter, p latchkey.Page) ([]*latchkey.Lock, int, error) {
	if f.KeyID != nil || f.Driver != nil || f.Address != nil || f.IDs != nil {
		// Dropping a filter the API does not take would list more than was asked for.
		return nil, 0, latchkey.Errorf(latchkey.EINVALID, "The API lists locks by door, site and status only.")
	}
	status := ""
	if f.Status != nil {
		status = string(*f.Status)
	}
	return list[*latchkey.Lock](ctx, c, "/api/v1/locks"+pageQuery(p, "door", f.DoorID, "site", f.SiteID, "status", status))
}

// FindLockByID returns a lock.
func (c *Client) FindLockByID(ctx context.Context, n int64) (*latchkey.Lock, error) {
	var l latchkey.Lock
	return &l, c.do(ctx, "GET", "/api/v1/locks/"+id(n), nil, &l)
}

// UpdateLock changes a lock's record.
func (c *Client) UpdateLock(ctx context.Context, n int64, u latchkey.LockUpdate) (*latchkey.Lock, error) {
	var l latchkey.Lock
	patch := LockPatch{Name: u.Name, ModelID: u.ModelID, SerialNumber: u.SerialNumber, Notes: u.Notes, HasSmartKey: u.HasSmartKey,
		Connection: u.Connection, PurchasedAt: u.PurchasedAt, InstalledAt: u.InstalledAt}
	return &l, c.do(ctx, "PATCH", "/api/v1/locks/"+id(n), patch, &l)
}

// DeleteLock removes a lock's record; force removes one that has codes or a connection.
func (c *Client) DeleteLock(ctx context.Context, n int64, force bool) error {
	path := "/api/v1/locks/" + id(n)
	if force {
		path += "?force=true"
	}
	return c.do(ctx, "DELETE", path, nil, nil)
}

// SetLockKey records the key a lock is keyed to.
func (c *Client) SetLockKey(ctx context.Context, lockID, keyID int64) (*latchkey.Lock, error) {
	var l latchkey.Lock
	return &l, c.do(ctx, "PUT", "/api/v1/locks/"+id(lockID)+"/key", KeyIDRequest{KeyID: keyID}, &l)
}

// RecordRekey records that a lock now takes another key.
func (c *Client) RecordRekey(ctx context.Context, r latchkey.Rekey) (*latchkey.Lock, error) {
	var l latchkey.Lock
	in := RekeyInput{KeyID: r.KeyID, How: r.How, Tests: r.Tests, BothSides: r.BothSides, DoorOpen: r.DoorOpen, Note: r.Note}
	return &l, c.do(ctx, "POST", "/api/v1/locks/"+id(r.LockID)+"/rekey", in, &l)
}

// Reprovision puts a quarantined lock's codes back; it returns how many go back on.
func (c *Client) Reprovision(ctx context.Context, lockID int64) (int, error) {
	var out ReprovisionResponse
	err := c.do(ctx, "POST", "/api/v1/locks/"+id(lockID)+"/reprovision", nil, &out)
	return out.CodesToPutBack, err
}

// FindLockRecord returns everything recorded about a lock.
func (c *Client) FindLockRecord(ctx context.Context, n int64) (*latchkey.LockRecord, error) {
	var r latchkey.LockRecord
	return &r, c.do(ctx, "GET", "/api/v1/locks/"+id(n)+"/record", nil, &r)
}

// AddServiceEntry adds to a lock's service log.
func (c *Client) AddServiceEntry(ctx context.Context, e *latchkey.ServiceEntry) error {
	return c.do(ctx, "POST", "/api/v1/locks/"+id(e.LockID)+"/service", ServiceEntryInput{Kind: e.Kind, Note: e.Note, WarrantyRelevant: e.WarrantyRelevant}, e)
}

// AddReceipt keeps a file with a lock's records.
func (c *Client) AddReceipt(ctx context.Context, lockID int64, name string, data []byte) (*latchkey.Receipt, error) {
	var r latchkey.Receipt
	err := c.send(ctx, "POST", "/api/v1/locks/"+id(lockID)+"/receipts"+query("name", name), "application/octet-stream", bytes.NewReader(data),
		func(rd io.Reader) error { return json.NewDecoder(rd).Decode(&r) })
	return &r, err
}

// FindReceipts lists a lock's files, downloading their contents when asked.
func (c *Client) FindReceipts(ctx context.Context, lockID int64, withData bool) ([]*latchkey.Receipt, error) {
	var rs []*latchkey.Receipt
	if err := c.do(ctx, "GET", "/api/v1/locks/"+id(lockID)+"/receipts", nil, &rs); err != nil || !withData {
		return rs, err
	}
	for _, r := range rs {
		err := c.send(ctx, "GET", fmt.Sprintf("/api/v1/locks/%d/receipts/%d", lockID, r.ID), "", nil, func(rd io.Reader) (err error) {
			r.Data, err = io.ReadAll(io.LimitReader(rd, latchkey.MaxReceiptBytes+1))
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return rs, nil
}

// CreatePerson adds a person.
func (c *Client) CreatePerson(ctx context.Context, p *latchkey.Person) error {
	return c.do(ctx, "POST", "/api/v1/people", PersonInput{Name: p.Name, Role: p.Role, Phone: p.Phone, Email: p.Email}, p)
}

// FindPeople lists people.
func (c *Client) FindPeople(ctx context.Context, p latchkey.Page) ([]*latchkey.Person, int, error) {
	return list[*latchkey.Person](ctx, c, "/api/v1/people"+pageQuery(p))
}

// FindPersonByID returns a person.
func (c *Client) FindPersonByID(ctx context.Context, n int64) (*latchkey.Person, error) {
	var p latchkey.Person
	return &p, c.do(ctx, "GET", "/api/v1/people/"+id(n), nil, &p)
}

// DeletePerson removes a person.
func (c *Client) DeletePerson(ctx context.Context, n int64) error {
	return c.do(ctx, "DELETE", "/api/v1/people/"+id(n), nil, nil)
}

// CreateKey records a key.
func (c *Client) CreateKey(ctx context.Context, k *latchkey.Key) error {
	return c.do(ctx, "POST", "/api/v1/keys", keyInput(k), k)
}

// FindKeys lists keys.
func (c *Client) FindKeys(ctx context.Context, f latchkey.KeyFilter, p latchkey.Page) ([]*latchkey.Key, int, error) {
	return list[*latchkey.Key](ctx, c, "/api/v1/keys"+pageQuery(p, "site", f.SiteID))
}

// FindKeyByID returns a key.
func (c *Client) FindKeyByID(ctx context.Context, n int64) (*latchkey.Key, error) {
	var k latchkey.Key
	return &k, c.do(ctx, "GET", "/api/v1/keys/"+id(n), nil, &k)
}

// AddKeyCopy records another copy.
func (c *Client) AddKeyCopy(ctx context.Context, keyID int64, cp latchkey.KeyCopy) (*latchkey.Key, error) {
	var k latchkey.Key
	return &k, c.do(ctx, "POST", "/api/v1/keys/"+id(keyID)+"/copies", KeyCopyInput{HolderID: cp.HolderID, Location: cp.Location}, &k)
}

// SetKeyCopyState records where a copy is now.
func (c *Client) SetKeyCopyState(ctx context.Context, keyID, copyID int64, state latchkey.CopyState) (*latchkey.Key, error) {
	var k latchkey.Key
	return &k, c.do(ctx, "PUT", fmt.Sprintf("/api/v1/keys/%d/copies/%d/state", keyID, copyID), StateRequest{State: string(state)}, &k)
}

// SetKeyState marks a key lost or retired.
func (c *Client) SetKeyState(ctx context.Context, keyID int64, state latchkey.KeyState) (*latchkey.Key, error) {
	var k latchkey.Key
	return &k, c.do(ctx, "PUT", "/api/v1/keys/"+id(keyID)+"/state", StateRequest{State: string(state)}, &k)
}

// CreateCode adds a code; the PIN comes back once.
func (c *Client) CreateCode(ctx context.Context, req latchkey.NewCode) (*latchkey.Code, string, error) {
	var resp NewCodeResponse
	err := c.do(ctx, "POST", "/api/v1/codes", NewCodeRequest{PersonID: req.Code.PersonID, Label: req.Code.Label, PIN: req.PIN,
		LockIDs: req.LockIDs, Confirmed: req.Confirmed, Schedule: req.Code.Schedule, UseLimit: req.Code.UseLimit, OneTime: req.Code.OneTime}, &resp)
	return resp.Code, resp.PIN, err
}

// FindCodes lists codes.
func (c *Client) FindCodes(ctx context.Context, f latchkey.CodeFilter, p latchkey.Page) ([]*latchkey.Code, int, error) {
	return list[*latchkey.Code](ctx, c, "/api/v1/codes"+pageQuery(p, "lock", f.LockID, "person", f.PersonID))
}

// FindCodeByID returns a code, never its digits.
func (c *Client) FindCodeByID(ctx context.Context, n int64) (*latchkey.Code, error) {
	var v latchkey.Code
	return &v, c.do(ctx, "GET", "/api/v1/codes/"+id(n), nil, &v)
}

// CheckCode checks a candidate PIN on a lock; the PIN travels in the request's body.
func (c *Client) CheckCode(ctx context.Context, lockID int64, pin string) (*latchkey.CodeVerdict, error) {
	var v latchkey.CodeVerdict
	if err := c.do(ctx, "POST", "/api/v1/locks/"+id(lockID)+"/check-code", CheckCodeRequest{PIN: pin}, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// FindGrants lists where codes stand.
func (c *Client) FindGrants(ctx context.Context, f latchkey.GrantFilter) ([]*latchkey.Grant, error) {
	if f.LockIDs != nil {
		return nil, latchkey.Errorf(latchkey.EINVALID, "The API lists grants by one lock or one code, not by a list of locks.")
	}
	var gs []*latchkey.Grant
	return gs, c.do(ctx, "GET", "/api/v1/grants"+query("lock", f.LockID, "code", f.CodeID), nil, &gs)
}

// ConfirmCode records a lock's confirmation.
func (c *Client) ConfirmCode(ctx context.Context, codeID, lockID int64) (*latchkey.Grant, error) {
	var g latchkey.Grant
	return &g, c.do(ctx, "POST", "/api/v1/codes/"+id(codeID)+"/confirm", LockIDRequest{LockID: lockID}, &g)
}

// RetrySync has the sync engine try a failed code on a lock again.
func (c *Client) RetrySync(ctx context.Context, codeID, lockID int64) (*latchkey.Grant, error) {
	var g latchkey.Grant
	return &g, c.do(ctx, "POST", "/api/v1/codes/"+id(codeID)+"/retry", LockIDRequest{LockID: lockID}, &g)
}

// FindForeignCodes lists the codes on a lock in slots Latchkey does not own.
func (c *Client) FindForeignCodes(ctx context.Context, lockID int64) ([]*latchkey.ForeignCode, error) {
	var fs []*latchkey.ForeignCode
	return fs, c.do(ctx, "GET", "/api/v1/locks/"+id(lockID)+"/slots", nil, &fs)
}

// AdoptForeignCode makes the code in a slot Latchkey does not own a person's code.
func (c *Client) AdoptForeignCode(ctx context.Context, a latchkey.Adoption) (*latchkey.Code, error) {
	var code latchkey.Code
	return &code, c.do(ctx, "POST", "/api/v1/locks/"+id(a.LockID)+"/slots/"+strconv.Itoa(a.Slot)+"/adopt",
		AdoptRequest{PersonID: a.PersonID, Label: a.Label, PIN: a.PIN}, &code)
}

// ClearForeignSlot has the sync engine empty a slot holding a code Latchkey does not own.
func (c *Client) ClearForeignSlot(ctx context.Context, lockID int64, slot int) (*latchkey.ForeignCode, error) {
	var f latchkey.ForeignCode
	return &f, c.do(ctx, "POST", "/api/v1/locks/"+id(lockID)+"/slots/"+strconv.Itoa(slot)+"/clear", nil, &f)
}

// RevokeCode revokes a code.
func (c *Client) RevokeCode(ctx context.Context, codeID int64) (*latchkey.Code, error) {
	var code latchkey.Code
	return &code, c.do(ctx, "DELETE", "/api/v1/codes/"+id(codeID), nil, &code)
}

// RevealCode reveals a code's digits (recorded on the server).
func (c *Client) RevealCode(ctx context.Context, codeID int64) (string, error) {
	var r RevealResponse
	return r.PIN, c.do(ctx, "POST", "/api/v1/codes/"+id(codeID)+"/reveal", nil, &r)
}

// RevealBitting returns a key's bitting (recorded in the audit log).
func (c *Client) RevealBitting(ctx context.Context, keyID int64) (string, error) {
	var r BittingResponse
	err := c.do(ctx, "POST", "/api/v1/keys/"+id(keyID)+"/reveal", nil, &r)
	return r.Bitting, err
}

// GenerateBittings asks the server for new bittings clear of a site's keys.
func (c *Client) GenerateBittings(ctx context.Context, req latchkey.BittingRequest) (*latchkey.GeneratedBittings, error) {
	var v latchkey.GeneratedBittings
	in := BittingsRequest{ModelID: req.ModelID, Count: req.Count, Apart: req.Apart, Avoid: req.Avoid}
	if err := c.do(ctx, "POST", "/api/v1/sites/"+id(req.SiteID)+"/bittings", in, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// FindAuditEntries lists the audit log, newest first.
func (c *Client) FindAuditEntries(ctx context.Context, f latchkey.AuditFilter, p latchkey.Page) ([]*latchkey.AuditEntry, int, error) {
	var id *int64
	if f.EntityID != 0 {
		id = &f.EntityID
	}
	lines, total, err := list[AuditLine](ctx, c, "/api/v1/audit"+pageQuery(p, "entity", f.Entity, "id", id, "action", f.Action, "actor", f.Actor))
	entries := make([]*latchkey.AuditEntry, len(lines))
	for i := range lines {
		entries[i] = &lines[i].AuditEntry
	}
	return entries, total, err
}

// VerifyAuditLog checks the server's audit chain.
func (c *Client) VerifyAuditLog(ctx context.Context) (int, error) {
	var v VerifyResponse
	return v.Entries, c.do(ctx, "GET", "/api/v1/audit/verify", nil, &v)
}

// Export reads every record.
func (c *Client) Export(ctx context.Context) (*latchkey.Records, error) {
	var r latchkey.Records
	return &r, c.do(ctx, "GET", "/api/v1/export", nil, &r)
}

var _ latchkey.ProcedureService = (*Client)(nil)

// StartProcedure starts a procedure run.
func (c *Client) StartProcedure(ctx context.Context, req latchkey.ProcedureRequest) (*latchkey.Run, error) {
	var r latchkey.Run
	return &r, c.do(ctx, "POST", "/api/v1/procedures", req, &r)
}

// AdvanceProcedure reports on a run's current step.
func (c *Client) AdvanceProcedure(ctx context.Context, runID int64, a latchkey.Advance) (*latchkey.Run, error) {
	var r latchkey.Run
	return &r, c.do(ctx, "POST", "/api/v1/procedures/"+id(runID)+"/steps", a, &r)
}

// AbortProcedure stops a run where it stands.
func (c *Client) AbortProcedure(ctx context.Context, runID int64, why string) (*latchkey.Run, error) {
	var r latchkey.Run
	return &r, c.do(ctx, "POST", "/api/v1/procedures/"+id(runID)+"/abort", AbortInput{Why: why}, &r)
}

// EscalateProcedure stops a run for a locksmith or support.
func (c *Client) EscalateProcedure(ctx context.Context, runID int64, to, why string) (*latchkey.Run, error) {
	var r latchkey.Run
	return &r, c.do(ctx, "POST", "/api/v1/procedures/"+id(runID)+"/escalate", EscalateInput{To: to, Why: why}, &r)
}

// FindRuns lists runs, newest first.
func (c *Client) FindRuns(ctx context.Context, f latchkey.RunFilter, p latchkey.Page) ([]*latchkey.Run, int, error) {
	var status, kind string
	if f.Status != nil {
		status = string(*f.Status)
	}
	if f.Kind != nil {
		kind = string(*f.Kind)
	}
	return list[*latchkey.Run](ctx, c, "/api/v1/procedures"+pageQuery(p, "lock", f.LockID, "status", status, "kind", kind))
}

// FindRunByID returns a run.
func (c *Client) FindRunByID(ctx context.Context, n int64) (*latchkey.Run, error) {
	var r latchkey.Run
	return &r, c.do(ctx, "GET", "/api/v1/procedures/"+id(n), nil, &r)
}
