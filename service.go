package latchkey

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Models is what the service needs of the model catalog and the key rules.
type Models interface {
	// CheckModel returns nil when id names a catalog model, and a not_found error that
	// says how to find the right one otherwise.
	CheckModel(id string) error
	// CheckCode checks a PIN under a model's rules beside the lock's other codes; its
	// error never contains any code, and names an existing code by its place in
	// existing, from 1: "existing code no. 2".
	CheckCode(modelID, pin string, existing []string) error
	// GenerateCode returns a new PIN the model accepts beside the existing codes.
	GenerateCode(modelID string, existing []string) (string, error)
	// CodeCapacity is how many user codes the model holds, conservatively where the
	// facts leave it open.
	CodeCapacity(modelID string) int
	// CheckBitting validates a key's bitting for its keyway and returns it normalised.
	CheckBitting(keyway, bitting string) (string, error)
	// GenerateBittings returns n new random bittings for the key cylinder of a catalog
	// model ("" for a SmartKey cylinder), none within one cut of a bitting in avoid and,
	// with apart, none within one cut of another. Its error never contains a bitting.
	GenerateBittings(modelID string, n int, apart bool, avoid []string) ([]string, error)
}

// Service is the one place where Latchkey's rules meet its records: every change is
// validated here, checked against the safety invariants, written, and recorded in the
// audit log in the same transaction. The CLI and the HTTP API both go through it.
type Service struct {
	Store  Store
	Vault  Vault
	Models Models
	Clock  Clock
	// Readers read slots of connected locks, by driver, for adopting a code set at the
	// lock (AdoptForeignCode). A lock whose driver has none is adopted with a PIN given.
	Readers map[Driver]CodeReader
	// Listers list the devices of the hubs a server runs, by driver, for adopting locks
	// already paired with them (DiscoveredLocks).
	Listers map[Driver]DeviceLister

	live        broker                       // live subscribers to recorded events
	collisions  actorCounts                  // chosen PINs refused beside other codes, per actor
	generations actorCounts                  // bittings generated clear of a site's keys, per actor who may not reveal them
	syncSignal  syncSignal                   // wakes the sync engine when records change
	syncRecords batched[SyncOutcome, *Grant] // RecordSync calls waiting to share a change
	syncPINs    batched[[2]int64, string]    // PINForSync calls likewise
	hookSignal  syncSignal                   // wakes the webhook sender when deliveries may have been written
	runSignal   syncSignal                   // wakes the procedure engine when a run changed
	hubSignal   syncSignal                   // tells the server's hub drivers that a hub was added or removed
	surveying   sync.Map                     // lock ids whose slots are being read now: one survey per lock
}

// now is the service's clock at the precision every store keeps (PostgreSQL keeps
// microseconds), so that a time and the audit hash over it read back unchanged.
func (s *Service) now() time.Time { return s.Clock.Now().Truncate(time.Microsecond) }

// view runs fn in a read-only transaction, for a principal allowed to read.
func (s *Service) view(ctx context.Context, fn func(Tx) error) error {
	if err := require(ctx, PermRead); err != nil {
		return err
	}
	return s.Store.View(ctx, fn)
}

// change runs fn in a read-write transaction and appends its audit entry there too, so
// that a change and its record are durable together or not at all. The acting principal
// must be allowed to change records.
func (s *Service) change(ctx context.Context, action, entity string, fn func(Tx) (id int64, detail any, err error)) error {
	if err := require(ctx, PermWrite); err != nil {
		return err
	}
	err := s.Store.Update(ctx, func(tx Tx) error {
		id, detail, err := fn(tx)
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, action, entity, id, detail)
	})
	if err == nil && action != "code.push" && action != "code.sync" && action != "code.delayed" {
		s.kickSync() // the engine's own records need no second look
	}
	if err == nil {
		s.kickWebhooks()
	}
	return err
}

// CreateSite adds a site.
func (s *Service) CreateSite(ctx context.Context, site *Site) error {
	site.Name = strings.TrimSpace(site.Name)
	if site.TimeZone == "" {
		site.TimeZone = "UTC"
	}
	if site.CodeLeadMinutes == 0 {
		site.CodeLeadMinutes = DefaultCodeLeadMinutes
	}
	if err := site.Validate(); err != nil {
		return err
	}
	site.ID, site.CreatedAt = 0, s.now() // ids and times are the store's and the service's, never a caller's
	return s.change(ctx, "site.create", "site", func(tx Tx) (int64, any, error) {
		err := tx.CreateSite(ctx, site)
		return site.ID, site, err
	})
}

// FindSites lists sites.
func (s *Service) FindSites(ctx context.Context, p Page) (sites []*Site, total int, err error) {
	err = s.view(ctx, func(tx Tx) error {
		sites, total, err = tx.FindSites(ctx, p)
		return err
	})
	return sites, total, err
}

// FindSiteByID returns one site.
func (s *Service) FindSiteByID(ctx context.Context, id int64) (site *Site, err error) {
	err = s.view(ctx, func(tx Tx) error {
		site, err = tx.FindSiteByID(ctx, id)
		return err
	})
	return site, err
}

// DeleteSite removes a site that has no doors left.
func (s *Service) DeleteSite(ctx context.Context, id int64) error {
	return s.change(ctx, "site.delete", "site", func(tx Tx) (int64, any, error) {
		site, err := tx.FindSiteByID(ctx, id)
		if err != nil {
			return 0, nil, err
		}
		if _, n, err := tx.FindDoors(ctx, DoorFilter{SiteID: &id}, Page{Limit: 1}); err != nil {
			return 0, nil, err
		} else if n > 0 {
			return 0, nil, Errorf(ECONFLICT, "Site %d still has %d door(s); remove them first (latchkey door ls --site %d).", id, n, id)
		}
		return id, site, tx.DeleteSite(ctx, id)
	})
}

// CreateDoor adds a door to a site.
func (s *Service) CreateDoor(ctx context.Context, d *Door) error {
	d.ID, d.Name = 0, strings.TrimSpace(d.Name)
	if err := d.Validate(); err != nil {
		return err
	}
	return s.change(ctx, "door.create", "door", func(tx Tx) (int64, any, error) {
		if _, err := tx.FindSiteByID(ctx, d.SiteID); err != nil {
			return 0, nil, err
		}
		err := tx.CreateDoor(ctx, d)
		return d.ID, d, err
	})
}

// FindDoors lists doors.
func (s *Service) FindDoors(ctx context.Context, f DoorFilter, p Page) (doors []*Door, total int, err error) {
	err = s.view(ctx, func(tx Tx) error {
		doors, total, err = tx.FindDoors(ctx, f, p)
		return err
	})
	return doors, total, err
}

// FindDoorByID returns one door.
func (s *Service) FindDoorByID(ctx context.Context, id int64) (d *Door, err error) {
	err = s.view(ctx, func(tx Tx) error {
		d, err = tx.FindDoorByID(ctx, id)
		return err
	})
	return d, err
}

// FindPersonByID returns one person.
func (s *Service) FindPersonByID(ctx context.Context, id int64) (p *Person, err error) {
	err = s.view(ctx, func(tx Tx) error {
		p, err = tx.FindPersonByID(ctx, id)
		return err
	})
	return p, err
}

// DeleteDoor removes a door that has no locks left.
func (s *Service) DeleteDoor(ctx context.Context, id int64) error {
	return s.change(ctx, "door.delete", "door", func(tx Tx) (int64, any, error) {
		d, err := tx.FindDoorByID(ctx, id)
		if err != nil {
			return 0, nil, err
		}
		if _, n, err := tx.FindLocks(ctx, LockFilter{DoorID: &id}, Page{Limit: 1}); err != nil {
			return 0, nil, err
		} else if n > 0 {
			return 0, nil, Errorf(ECONFLICT, "Door %d still has %d lock(s); remove them first (latchkey lock ls --door %d).", id, n, id)
		}
		return id, d, tx.DeleteDoor(ctx, id)
	})
}

// CreateLock adds a lock to a door. A lock whose model is not given yet is recorded as
// unidentified: no procedure runs on it until it is identified (invariant 4). Its status
// and device state are the domain's to derive, and its key is recorded with SetLockKey
// (which checks the key): a caller's values for them are refused.
func (s *Service) CreateLock(ctx context.Context, l *Lock) error {
	l.ID, l.Name, l.Notes = 0, strings.TrimSpace(l.Name), plainLines(l.Notes)
	l.Survey = SlotSurvey{} // only a lock adopted from its hub is surveyed
	switch {
	case l.Status != "":
		return Errorf(EINVALID, "A lock's status is derived from its records (its model, its keys, what it reports); it cannot be set.")
	case l.State != LockState{}:
		return Errorf(EINVALID, "A lock's state (bolt, battery, last seen) is what the lock reports; it cannot be set.")
	case l.KeyID != 0:
		return Errorf(EINVALID, "Record the lock first, then the key its cylinder takes (latchkey lock set ID --key KEY).")
	}
	if err := s.checkLock(l); err != nil {
		return err
	}
	return s.change(ctx, "lock.create", "lock", func(tx Tx) (int64, any, error) {
		if _, err := tx.FindDoorByID(ctx, l.DoorID); err != nil {
			return 0, nil, err
		}
		if err := connectionFree(ctx, tx, l); err != nil {
			return 0, nil, err
		}
		err := tx.CreateLock(ctx, l)
		return l.ID, l, err
	})
}

// checkLock validates a lock's record, checks its model against the catalog, and derives
// its status from it.
func (s *Service) checkLock(l *Lock) error {
	l.Connection = l.Connection.normalized()
	if err := l.Validate(); err != nil {
		return err
	}
	if l.ModelID != "" && s.Models != nil {
		if err := s.Models.CheckModel(l.ModelID); err != nil {
			return err
		}
	}
	l.Status = l.derivedStatus()
	return nil
}

// LockUpdate changes a lock's record. Nil fields stay as they are.
type LockUpdate struct {
	Name         *string
	ModelID      *string
	SerialNumber *string
	Notes        *string
	HasSmartKey  *bool
	Connection   *Connection
	PurchasedAt  *time.Time
	InstalledAt  *time.Time
}

// UpdateLock changes a lock's record. A model with no keypad is refused while codes are
// on the lock (they would count as ways in that are not there), and a connection
// another lock already uses is refused (its events would go to one of the two).
func (s *Service) UpdateLock(ctx context.Context, id int64, u LockUpdate) (l *Lock, err error) {
	err = s.change(ctx, "lock.update", "lock", func(tx Tx) (int64, any, error) {
		l, err = tx.FindLockByID(ctx, id)
		if err != nil {
			return 0, nil, err
		}
		oldModel, oldConnection := l.ModelID, l.Connection
		for _, set := range []struct {
			src *string
			dst *string
		}{{u.Name, &l.Name}, {u.ModelID, &l.ModelID}, {u.SerialNumber, &l.SerialNumber}, {u.Notes, &l.Notes}} {
			if set.src != nil {
				*set.dst = plainLines(*set.src)
			}
		}
		if u.HasSmartKey != nil {
			l.HasSmartKey = *u.HasSmartKey
		}
		if u.Connection != nil {
			l.Connection = *u.Connection
		}
		if u.PurchasedAt != nil {
			l.PurchasedAt = u.PurchasedAt
		}
		if u.InstalledAt != nil {
			l.InstalledAt = u.InstalledAt
		}
		if err := s.checkLock(l); err != nil {
			return 0, nil, err
		}
		if l.ModelID != oldModel && !s.takesCodes(l) {
			if err := codesKeptOff(ctx, tx, l); err != nil {
				return 0, nil, err
			}
		}
		if l.Connection != oldConnection {
			if err := connectionFree(ctx, tx, l); err != nil {
				return 0, nil, err
			}
		}
		return id, u, tx.UpdateLock(ctx, l)
	})
	return l, err
}

// codesKeptOff refuses a model with no keypad for a lock that still has codes on it (any
// not confirmed removed): they would count as ways in on a lock that takes no codes.
func codesKeptOff(ctx context.Context, tx Tx, l *Lock) error {
	grants, err := tx.FindGrants(ctx, GrantFilter{LockID: &l.ID})
	if err != nil {
		return err
	}
	if n := codesOn(grants); n > 0 {
		return Errorf(EUNSAFE, "Lock %d (%s) has %s on it (not confirmed removed), and the %s has no keypad: they would count as ways in on a lock that takes no codes. First revoke them and confirm each removed (latchkey code ls --lock %d, latchkey code rm CODE, latchkey code confirm CODE --lock %d), then change its model.",
			l.ID, l.Name, countOf(n, "code"), l.ModelID, l.ID, l.ID)
	}
	return nil
}

// codesOn counts the grants of a lock that are not confirmed removed: the codes on it, or
// on their way on or off.
func codesOn(grants []*Grant) int {
	n := 0
	for _, g := range grants {
		if g.Status != GrantRemoved {
			n++
		}
	}
	return n
}

// connectionFree refuses a connection another lock already uses: a device's events go to
// the lock found on its connection, so two locks on one would get each other's.
func connectionFree(ctx context.Context, tx Tx, l *Lock) error {
	if l.Connection.Driver == DriverNone {
		return nil
	}
	others, _, err := tx.FindLocks(ctx, LockFilter{Driver: &l.Connection.Driver, Address: &l.Connection.Address}, Page{Limit: 2})
	if err != nil {
		return err
	}
	for _, o := range others {
		if o.ID != l.ID {
			return Errorf(ECONFLICT, "Lock %d (%s) is already connected through %s at address %s, and one connection reaches one lock. Check the address, or disconnect the other lock first (latchkey lock set %d --disconnect).",
				o.ID, o.Name, o.Connection.Driver, o.Connection.Address, o.ID)
		}
	}
	return nil
}

// FindLocks lists locks. A status to filter by must be one of the lock statuses.
func (s *Service) FindLocks(ctx context.Context, f LockFilter, p Page) (locks []*Lock, total int, err error) {
	if f.Status != nil {
		if err := f.Status.Validate(); err != nil {
			return nil, 0, err
		}
	}
	err = s.view(ctx, func(tx Tx) error {
		if locks, total, err = tx.FindLocks(ctx, f, p); err != nil {
			return err
		}
		return s.deriveAttention(ctx, tx, locks)
	})
	return locks, total, err
}

// FindLockByID returns one lock.
func (s *Service) FindLockByID(ctx context.Context, id int64) (l *Lock, err error) {
	err = s.view(ctx, func(tx Tx) error {
		if l, err = tx.FindLockByID(ctx, id); err != nil {
			return err
		}
		return s.deriveAttention(ctx, tx, []*Lock{l})
	})
	return l, err
}

// DeleteLock removes a lock's record. An exposed lock keeps its record until its rekey or
// replacement is recorded: removing it would hide the gap, not close it. A lock that
// still has codes on it (any not confirmed removed) or a connection to a device is
// refused as unsafe unless force is set: its record is what says which codes still open
// the door, and what the device it reports through is. Forced, the audit entry says so
// and what the lock had.
func (s *Service) DeleteLock(ctx context.Context, id int64, force bool) error {
	return s.change(ctx, "lock.delete", "lock", func(tx Tx) (int64, any, error) {
		l, err := tx.FindLockByID(ctx, id)
		if err != nil {
			return 0, nil, err
		}
		if l.Status == LockExposed {
			return 0, nil, Errorf(EUNSAFE, "Lock %d (%s) is exposed: a lost key still opens it. Record its rekey or its replacement first (latchkey lock rekey %d ... [--replaced]); then its record can go.", l.ID, l.Name, l.ID)
		}
		grants, err := tx.FindGrants(ctx, GrantFilter{LockID: &l.ID})
		if err != nil {
			return 0, nil, err
		}
		codes := codesOn(grants)
		var has, todo []string
		if codes > 0 {
			has = append(has, "still has "+countOf(codes, "code")+" on it (not confirmed removed)")
			todo = append(todo, "revoke its codes and confirm each removed at the lock (latchkey code ls --lock "+fmt.Sprint(l.ID)+", latchkey code rm ID)")
		}
		if l.Connection.Driver != DriverNone {
			has = append(has, fmt.Sprintf("is connected to %s (address %s)", l.Connection.Driver, l.Connection.Address))
			todo = append(todo, fmt.Sprintf("take it off its hub and disconnect its record (latchkey lock set %d --disconnect)", l.ID))
		}
		if len(has) > 0 && !force {
			return 0, nil, Errorf(EUNSAFE, "Lock %d (%s) %s: its record is what says which codes still open the door and how it is reached. First %s; or remove the record anyway with --force (latchkey lock rm %d --force).",
				l.ID, l.Name, strings.Join(has, " and "), strings.Join(todo, ", and "), l.ID)
		}
		var detail any = l
		if len(has) > 0 {
			// Its grants go with it: the audit entry keeps which codes were on it.
			list, err := grantEvidenceOf(ctx, tx, grants)
			if err != nil {
				return 0, nil, err
			}
			detail = struct {
				*Lock
				Forced  bool            `json:"forced"`
				CodesOn int             `json:"codes_on"`
				Codes   []grantEvidence `json:"codes"`
			}{l, true, codes, list}
		}
		return id, detail, tx.DeleteLock(ctx, id)
	})
}

// grantEvidence is what the audit log keeps of a code on a lock whose record is removed:
// never its PIN.
type grantEvidence struct {
	CodeID int64       `json:"code_id"`
	Label  string      `json:"label"`
	Slot   int         `json:"slot"`
	Status GrantStatus `json:"status"`
}

// grantEvidenceOf lists grants with their codes' labels, for the audit log.
func grantEvidenceOf(ctx context.Context, tx Tx, grants []*Grant) ([]grantEvidence, error) {
	list := make([]grantEvidence, 0, len(grants))
	for _, g := range grants {
		c, err := tx.FindCodeByID(ctx, g.CodeID)
		if err != nil {
			return nil, err
		}
		list = append(list, grantEvidence{CodeID: c.ID, Label: c.Label, Slot: g.Slot, Status: g.Status})
	}
	return list, nil
}

// CreatePerson adds a person.
func (s *Service) CreatePerson(ctx context.Context, p *Person) error {
	p.ID, p.Name = 0, strings.TrimSpace(p.Name)
	if err := p.Validate(); err != nil {
		return err
	}
	return s.change(ctx, "person.create", "person", func(tx Tx) (int64, any, error) {
		err := tx.CreatePerson(ctx, p)
		return p.ID, p, err
	})
}

// FindPeople lists people.
func (s *Service) FindPeople(ctx context.Context, pg Page) (people []*Person, total int, err error) {
	err = s.view(ctx, func(tx Tx) error {
		people, total, err = tx.FindPeople(ctx, pg)
		return err
	})
	return people, total, err
}

// DeletePerson removes a person who never held a code or a key copy. Codes and copies
// are kept as history, revoked or returned ones too, and each names its person: someone
// who ever held one stays on record, and the refusal says what to revoke instead.
func (s *Service) DeletePerson(ctx context.Context, id int64) error {
	return s.change(ctx, "person.delete", "person", func(tx Tx) (int64, any, error) {
		p, err := tx.FindPersonByID(ctx, id)
		if err != nil {
			return 0, nil, err
		}
		_, codes, err := tx.FindCodes(ctx, CodeFilter{PersonID: &id}, Page{Limit: 1})
		if err != nil {
			return 0, nil, err
		}
		keys, err := all(func(pg Page) ([]*Key, int, error) { return tx.FindKeys(ctx, KeyFilter{}, pg) })
		if err != nil {
			return 0, nil, err
		}
		copies := 0
		for _, k := range keys {
			for _, c := range k.Copies {
				if c.HolderID == id {
					copies++
				}
			}
		}
		if codes > 0 || copies > 0 {
			return 0, nil, personKept(p, codes, copies)
		}
		return id, p, tx.DeletePerson(ctx, id)
	})
}

// personKept says why a person with codes or key copies in the records stays, and what
// to do instead of removing them.
func personKept(p *Person, codes, copies int) error {
	var has, held, todo []string
	if codes > 0 {
		has = append(has, countOf(codes, "code")+" in the records (kept as history, revoked ones too)")
		held = append(held, "a code")
		todo = append(todo, fmt.Sprintf("revoke their codes (latchkey person revoke %d)", p.ID))
	}
	if copies > 0 {
		what := "1 key copy"
		if copies > 1 {
			what = fmt.Sprintf("%d key copies", copies)
		}
		has = append(has, what)
		held = append(held, "a key")
		todo = append(todo, "mark the key copies they hold returned or lost (latchkey key copy set KEY COPY returned)")
	}
	return Errorf(ECONFLICT, "%s has %s: a person who ever held %s stays on record. Instead, %s; their record then shows nothing active.",
		p.Name, strings.Join(has, " and "), strings.Join(held, " or "), strings.Join(todo, " and "))
}

// RecordService is what the command line and the HTTP API use of the records; Service
// implements it over a store, and an HTTP client can implement it over a server.
type RecordService interface {
	CreateSite(ctx context.Context, site *Site) error
	FindSites(ctx context.Context, p Page) ([]*Site, int, error)
	FindSiteByID(ctx context.Context, id int64) (*Site, error)
	DeleteSite(ctx context.Context, id int64) error
	UpdateSite(ctx context.Context, id int64, u SiteUpdate) (*Site, error)

	CreateDoor(ctx context.Context, d *Door) error
	FindDoors(ctx context.Context, f DoorFilter, p Page) ([]*Door, int, error)
	FindDoorByID(ctx context.Context, id int64) (*Door, error)
	DeleteDoor(ctx context.Context, id int64) error
	UpdateDoor(ctx context.Context, id int64, name string) (*Door, error)

	CreateLock(ctx context.Context, l *Lock) error
	FindLocks(ctx context.Context, f LockFilter, p Page) ([]*Lock, int, error)
	FindLockByID(ctx context.Context, id int64) (*Lock, error)
	UpdateLock(ctx context.Context, id int64, u LockUpdate) (*Lock, error)
	DeleteLock(ctx context.Context, id int64, force bool) error

	CreatePerson(ctx context.Context, p *Person) error
	FindPeople(ctx context.Context, p Page) ([]*Person, int, error)
	FindPersonByID(ctx context.Context, id int64) (*Person, error)
	DeletePerson(ctx context.Context, id int64) error
	UpdatePerson(ctx context.Context, id int64, u PersonUpdate) (*Person, error)
	RevokePerson(ctx context.Context, personID int64) (*PersonRevocation, error)

	CreateKey(ctx context.Context, k *Key) error
	FindKeys(ctx context.Context, f KeyFilter, p Page) ([]*Key, int, error)
	FindKeyByID(ctx context.Context, id int64) (*Key, error)
	AddKeyCopy(ctx context.Context, keyID int64, c KeyCopy) (*Key, error)
	SetKeyCopyState(ctx context.Context, keyID, copyID int64, state CopyState) (*Key, error)
	SetKeyState(ctx context.Context, keyID int64, state KeyState) (*Key, error)
	SetLockKey(ctx context.Context, lockID, keyID int64) (*Lock, error)
	RecordRekey(ctx context.Context, r Rekey) (*Lock, error)
	Reprovision(ctx context.Context, lockID int64) (int, error)
	RetrySync(ctx context.Context, codeID, lockID int64) (*Grant, error)
	FindForeignCodes(ctx context.Context, lockID int64) ([]*ForeignCode, error)
	AdoptForeignCode(ctx context.Context, a Adoption) (*Code, error)
	ClearForeignSlot(ctx context.Context, lockID int64, slot int) (*ForeignCode, error)

	CreateCode(ctx context.Context, req NewCode) (*Code, string, error)
	FindCodes(ctx context.Context, f CodeFilter, p Page) ([]*Code, int, error)
	FindCodeByID(ctx context.Context, id int64) (*Code, error)
	FindGrants(ctx context.Context, f GrantFilter) ([]*Grant, error)
	CheckCode(ctx context.Context, lockID int64, pin string) (*CodeVerdict, error)
	ConfirmCode(ctx context.Context, codeID, lockID int64) (*Grant, error)
	RevokeCode(ctx context.Context, codeID int64) (*Code, error)
	RevealCode(ctx context.Context, codeID int64) (string, error)
	RevealBitting(ctx context.Context, keyID int64) (string, error)
	GenerateBittings(ctx context.Context, req BittingRequest) (*GeneratedBittings, error)

	VerifyAuditLog(ctx context.Context) (int, error)
	FindAuditEntries(ctx context.Context, f AuditFilter, p Page) ([]*AuditEntry, int, error)
	Export(ctx context.Context) (*Records, error)

	FindLockRecord(ctx context.Context, id int64) (*LockRecord, error)
	AddServiceEntry(ctx context.Context, e *ServiceEntry) error
	AddReceipt(ctx context.Context, lockID int64, name string, data []byte) (*Receipt, error)
	FindReceipts(ctx context.Context, lockID int64, withData bool) ([]*Receipt, error)
}

var _ RecordService = (*Service)(nil)
