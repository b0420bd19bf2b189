package latchkey

import (
	"context"
	"time"
)

// Store persists Latchkey's records. Business rules live in Service; a store only
// stores, finds, and translates its database's errors into *Error codes (a unique
// violation is a conflict, a missing row not_found). Two implementations exist, package
// sqlite and package postgres; package storetest holds the contract suite both pass.
type Store interface {
	// Update runs fn in a read-write transaction and commits it if fn returns nil. The
	// commit is durable when Update returns: a change is never acknowledged before. fn
	// may run more than once (a store that shares transactions runs it again when
	// another change sharing its transaction failed late), so it reads what it needs in
	// tx and leaves nothing outside half-changed.
	Update(ctx context.Context, fn func(Tx) error) error
	// View runs fn in a read-only transaction.
	View(ctx context.Context, fn func(Tx) error) error
	// Close releases the store.
	Close() error
}

// ErrReadOnly is what a store returns when a write is tried inside View: a bug in the
// caller, never a user's mistake.
var ErrReadOnly = &Error{Code: EINTERNAL, Message: "A write was attempted in a read-only transaction."}

// Page limits a list. Zero Limit means the store's default (100); Limit is capped at 1000.
type Page struct {
	Offset int
	Limit  int
}

// Tx is one transaction on a Store. Find methods return a not_found error, never a nil
// record without an error. List methods return the page asked for and the total count.
type Tx interface {
	CreateSite(ctx context.Context, s *Site) error
	FindSiteByID(ctx context.Context, id int64) (*Site, error)
	FindSites(ctx context.Context, p Page) ([]*Site, int, error)
	UpdateSite(ctx context.Context, s *Site) error
	DeleteSite(ctx context.Context, id int64) error // conflict while it has doors

	CreateDoor(ctx context.Context, d *Door) error
	FindDoorByID(ctx context.Context, id int64) (*Door, error)
	FindDoors(ctx context.Context, f DoorFilter, p Page) ([]*Door, int, error)
	UpdateDoor(ctx context.Context, d *Door) error
	DeleteDoor(ctx context.Context, id int64) error // conflict while it has locks

	CreateLock(ctx context.Context, l *Lock) error
	FindLockByID(ctx context.Context, id int64) (*Lock, error)
	FindLocks(ctx context.Context, f LockFilter, p Page) ([]*Lock, int, error)
	UpdateLock(ctx context.Context, l *Lock) error
	DeleteLock(ctx context.Context, id int64) error

	CreatePerson(ctx context.Context, p *Person) error
	FindPersonByID(ctx context.Context, id int64) (*Person, error)
	FindPeople(ctx context.Context, p Page) ([]*Person, int, error)
	UpdatePerson(ctx context.Context, p *Person) error
	DeletePerson(ctx context.Context, id int64) error

	CreateKey(ctx context.Context, k *Key) error // also creates its copies
	FindKeyByID(ctx context.Context, id int64) (*Key, error)
	FindKeys(ctx context.Context, f KeyFilter, p Page) ([]*Key, int, error)
	UpdateKey(ctx context.Context, k *Key) error // also writes its copies, adding new ones

	CreateCode(ctx context.Context, c *Code) error
	FindCodeByID(ctx context.Context, id int64) (*Code, error)
	FindCodes(ctx context.Context, f CodeFilter, p Page) ([]*Code, int, error)
	UpdateCode(ctx context.Context, c *Code) error

	CreateGrant(ctx context.Context, g *Grant) error
	FindGrants(ctx context.Context, f GrantFilter) ([]*Grant, error)
	UpdateGrant(ctx context.Context, g *Grant) error

	// Codes on locks in slots Latchkey does not own; one per lock and slot (conflict).
	CreateForeignCode(ctx context.Context, f *ForeignCode) error
	FindForeignCodes(ctx context.Context, lockID int64) ([]*ForeignCode, error)      // by lock and slot; 0: every lock's
	FindForeignCodesOn(ctx context.Context, lockIDs []int64) ([]*ForeignCode, error) // on any of these locks (at most MaxListIDs), by lock and slot
	UpdateForeignCode(ctx context.Context, f *ForeignCode) error                     // whether it is being cleared, and why not yet
	DeleteForeignCode(ctx context.Context, id int64) error

	CreateServiceEntry(ctx context.Context, e *ServiceEntry) error
	FindServiceEntries(ctx context.Context, lockID int64) ([]*ServiceEntry, error) // 0: every lock's

	CreateReceipt(ctx context.Context, r *Receipt) error
	FindReceipts(ctx context.Context, lockID int64, withData bool) ([]*Receipt, error) // 0: every lock's
	FindReceipt(ctx context.Context, lockID, id int64) (*Receipt, error)               // with its contents

	CreateUser(ctx context.Context, u *User) error
	FindUserByID(ctx context.Context, id int64) (*User, error)
	FindUserByName(ctx context.Context, name string) (*User, error)
	FindUsers(ctx context.Context, p Page) ([]*User, int, error)
	UpdateUser(ctx context.Context, u *User) error // name, role and password hash
	DeleteUser(ctx context.Context, id int64) error

	CreateSession(ctx context.Context, s *Session) error
	FindSession(ctx context.Context, id string) (*Session, error) // unauthorized when unknown
	DeleteSession(ctx context.Context, id string) error
	DeleteSessions(ctx context.Context, f SessionFilter) error

	CreateToken(ctx context.Context, t *Token) error
	FindTokenByID(ctx context.Context, id int64) (*Token, error)
	FindTokenByHash(ctx context.Context, hash string) (*Token, error)
	FindTokens(ctx context.Context, f TokenFilter) ([]*Token, error) // by id
	UpdateToken(ctx context.Context, t *Token) error                 // its last use
	DeleteToken(ctx context.Context, id int64) error
	DeleteTokens(ctx context.Context, userID int64) error // every token of a user

	CreateEvent(ctx context.Context, e *Event) error
	FindEvents(ctx context.Context, lockID int64, limit int) ([]*Event, error) // newest first; 0: every lock's

	// Procedure runs. UpdateRun writes a run read at its Version and moves the version
	// on; a run changed meanwhile is a conflict.
	CreateRun(ctx context.Context, r *Run) error
	FindRunByID(ctx context.Context, id int64) (*Run, error)
	FindRuns(ctx context.Context, f RunFilter, p Page) ([]*Run, int, error) // newest first
	UpdateRun(ctx context.Context, r *Run) error

	CreateWebhook(ctx context.Context, w *Webhook) error
	FindWebhookByID(ctx context.Context, id int64) (*Webhook, error)
	FindWebhooks(ctx context.Context) ([]*Webhook, error) // every one, by id
	UpdateWebhook(ctx context.Context, w *Webhook) error  // enabled and sealed secret
	DeleteWebhook(ctx context.Context, id int64) error    // and its deliveries
	CreateWebhookDelivery(ctx context.Context, d *WebhookDelivery) error
	FindWebhookDeliveryByID(ctx context.Context, id int64) (*WebhookDelivery, error)
	// FindWebhookDeliveries lists the deliveries a filter selects, newest first, with the total.
	FindWebhookDeliveries(ctx context.Context, f WebhookDeliveryFilter, p Page) ([]*WebhookDelivery, int, error)
	UpdateWebhookDelivery(ctx context.Context, d *WebhookDelivery) error // status, attempts, next attempt
	// FindDueWebhookDeliveries lists up to limit pending deliveries due at now, by next attempt.
	FindDueWebhookDeliveries(ctx context.Context, now time.Time, limit int) ([]int64, error)

	// Hubs: one per driver (a second of the same driver is a conflict).
	CreateHub(ctx context.Context, h *Hub) error
	FindHubByID(ctx context.Context, id int64) (*Hub, error)
	FindHubs(ctx context.Context) ([]*Hub, error) // every one, by id
	UpdateHub(ctx context.Context, h *Hub) error  // its sealed secret
	DeleteHub(ctx context.Context, id int64) error

	// AppendAudit stores a sealed entry; its Seq must follow the last one's.
	AppendAudit(ctx context.Context, e *AuditEntry) error
	// LastAudit returns the newest entry, or nil and no error when the log is empty.
	LastAudit(ctx context.Context) (*AuditEntry, error)
	// FindAudit returns entries in order from Seq after+1.
	FindAudit(ctx context.Context, after int64, limit int) ([]*AuditEntry, error)
	// FindAuditEntries lists the entries a filter selects, newest first, with the total.
	FindAuditEntries(ctx context.Context, f AuditFilter, p Page) ([]*AuditEntry, int, error)
	// SetAuditHead records where the audit log ends, outside the log's own table.
	SetAuditHead(ctx context.Context, h *AuditHead) error
	// FindAuditHead returns the recorded head, or nil and no error when none was recorded.
	FindAuditHead(ctx context.Context) (*AuditHead, error)
}

// TokenFilter narrows FindTokens. Nil fields do not filter.
type TokenFilter struct {
	UserID *int64
}

// DoorFilter narrows FindDoors. Nil fields do not filter.
type DoorFilter struct {
	SiteID *int64
}

// LockFilter narrows FindLocks. Nil fields do not filter.
type LockFilter struct {
	Driver  *Driver // alone: the locks on that driver; with Address: the lock on that connection
	Address *string
	KeyID   *int64
	DoorID  *int64
	SiteID  *int64
	Status  *LockStatus
	// IDs narrows to these locks (at most MaxListIDs); nil does not filter.
	IDs []int64
}

// KeyFilter narrows FindKeys. Nil fields do not filter.
type KeyFilter struct {
	SiteID   *int64
	State    *KeyState
	Unsealed bool // only keys whose bitting is still in the clear (recorded before sealing)
}

// CodeFilter narrows FindCodes. Nil fields do not filter.
type CodeFilter struct {
	PersonID *int64
	LockID   *int64 // codes with a grant on this lock
}

// GrantFilter narrows FindGrants. Nil fields do not filter.
type GrantFilter struct {
	CodeID *int64
	LockID *int64
	// LockIDs narrows to grants on any of these locks (at most MaxListIDs): the sync
	// engine reads a batch's grants in one statement rather than one a lock. Nil does
	// not filter; an empty list finds nothing.
	LockIDs []int64
}

// MaxListIDs bounds the ids one filter lists, so that a statement stays within what
// both stores bind.
const MaxListIDs = 1000

// PageLimit returns the effective limit of a page.
func (p Page) PageLimit() int {
	switch {
	case p.Limit <= 0:
		return 100
	case p.Limit > 1000:
		return 1000
	}
	return p.Limit
}

// Vault seals and opens secrets (PIN codes, bittings) with authenticated encryption. The
// additional data binds a ciphertext to its record, so that a sealed secret copied onto
// another record does not open. It also authenticates the audit log, with a key that,
// like its own, is never in the store.
type Vault interface {
	Seal(plaintext, additional []byte) ([]byte, error)
	Open(ciphertext, additional []byte) ([]byte, error)
	// MAC returns a message authentication code of message (HMAC-SHA256) under a key
	// that stays the same across key rotations.
	MAC(message []byte) []byte
}
