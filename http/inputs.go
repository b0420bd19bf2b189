package http

import (
	"time"

	"github.com/latchkey/latchkey"
)

// The API reads what a client may choose, and nothing else: ids, statuses, device state
// and times are the server's to assign or derive (SPEC §3, invariant 2), so they are not
// fields of these types, and a body that sends them is refused as an unknown field.
// Responses are the domain's own types.

// SiteInput adds a site.
type SiteInput struct {
	Name     string `json:"name"`
	Address  string `json:"address,omitempty"`
	TimeZone string `json:"time_zone,omitempty"` // IANA name; UTC when empty
	// CodeLeadMinutes: how long before a code's time starts it goes on the site's locks
	// (the default, 60, when absent or 0).
	CodeLeadMinutes int `json:"code_lead_minutes,omitempty"`
}

func (in SiteInput) site() *latchkey.Site {
	return &latchkey.Site{Name: in.Name, Address: in.Address, TimeZone: in.TimeZone, CodeLeadMinutes: in.CodeLeadMinutes}
}

// DoorInput adds a door.
type DoorInput struct {
	SiteID int64  `json:"site_id"`
	Name   string `json:"name"`
}

func (in DoorInput) door() *latchkey.Door { return &latchkey.Door{SiteID: in.SiteID, Name: in.Name} }

// LockInput adds a lock. Its key is recorded afterwards (PUT /api/v1/locks/{id}/key).
type LockInput struct {
	DoorID       int64               `json:"door_id"`
	Name         string              `json:"name"`
	ModelID      string              `json:"model_id,omitempty"`
	HasSmartKey  bool                `json:"has_smartkey,omitempty"`
	SerialNumber string              `json:"serial_number,omitempty"`
	Notes        string              `json:"notes,omitempty"`
	Connection   latchkey.Connection `json:"connection,omitzero"`
	PurchasedAt  *time.Time          `json:"purchased_at,omitempty"`
	InstalledAt  *time.Time          `json:"installed_at,omitempty"`
}

func (in LockInput) lock() *latchkey.Lock {
	return &latchkey.Lock{DoorID: in.DoorID, Name: in.Name, ModelID: in.ModelID, HasSmartKey: in.HasSmartKey,
		SerialNumber: in.SerialNumber, Notes: in.Notes, Connection: in.Connection, PurchasedAt: in.PurchasedAt, InstalledAt: in.InstalledAt}
}

func lockInput(l *latchkey.Lock) LockInput {
	return LockInput{DoorID: l.DoorID, Name: l.Name, ModelID: l.ModelID, HasSmartKey: l.HasSmartKey, SerialNumber: l.SerialNumber,
		Notes: l.Notes, Connection: l.Connection, PurchasedAt: l.PurchasedAt, InstalledAt: l.InstalledAt}
}

// PersonInput adds a person.
type PersonInput struct {
	Name  string              `json:"name"`
	Role  latchkey.PersonRole `json:"role"`
	Phone string              `json:"phone,omitempty"`
	Email string              `json:"email,omitempty"`
}

func (in PersonInput) person() *latchkey.Person {
	return &latchkey.Person{Name: in.Name, Role: in.Role, Phone: in.Phone, Email: in.Email}
}

// KeyCopyInput records a copy of a key: who holds it, or where it is kept.
type KeyCopyInput struct {
	HolderID int64  `json:"holder_id,omitempty"`
	Location string `json:"location,omitempty"`
}

func (in KeyCopyInput) keyCopy() latchkey.KeyCopy {
	return latchkey.KeyCopy{HolderID: in.HolderID, Location: in.Location}
}

// KeyInput records a mechanical key and its copies.
type KeyInput struct {
	SiteID  int64          `json:"site_id"`
	Label   string         `json:"label"`
	Keyway  string         `json:"keyway,omitempty"` // KW1 when empty
	Bitting string         `json:"bitting"`
	Copies  []KeyCopyInput `json:"copies,omitempty"`
}

func (in KeyInput) key() *latchkey.Key {
	k := &latchkey.Key{SiteID: in.SiteID, Label: in.Label, Keyway: in.Keyway, Bitting: in.Bitting}
	for _, c := range in.Copies {
		k.Copies = append(k.Copies, c.keyCopy())
	}
	return k
}

func keyInput(k *latchkey.Key) KeyInput {
	in := KeyInput{SiteID: k.SiteID, Label: k.Label, Keyway: k.Keyway, Bitting: k.Bitting}
	for _, c := range k.Copies {
		in.Copies = append(in.Copies, KeyCopyInput{HolderID: c.HolderID, Location: c.Location})
	}
	return in
}

// RekeyInput records that a lock's cylinder now takes another key, with the evidence
// that the new key works.
type RekeyInput struct {
	KeyID     int64             `json:"key_id"`
	How       latchkey.RekeyHow `json:"how,omitempty"` // rekeyed (the default) or replaced
	Tests     int               `json:"tests"`
	BothSides bool              `json:"both_sides"`
	DoorOpen  bool              `json:"door_open"`
	Note      string            `json:"note,omitempty"`
}

// SitePatch changes a site; absent fields stay.
type SitePatch struct {
	Name     *string `json:"name,omitempty"`
	Address  *string `json:"address,omitempty"`
	TimeZone *string `json:"time_zone,omitempty"`
	// CodeLeadMinutes: 1 to 10080, or 0 for the default (60).
	CodeLeadMinutes *int `json:"code_lead_minutes,omitempty"`
}

// DoorPatch renames a door.
type DoorPatch struct {
	Name string `json:"name"`
}

// PersonPatch changes a person's record; absent fields stay.
type PersonPatch struct {
	Name  *string              `json:"name,omitempty"`
	Role  *latchkey.PersonRole `json:"role,omitempty"`
	Phone *string              `json:"phone,omitempty"`
	Email *string              `json:"email,omitempty"`
}

// ServiceEntryInput adds to a lock's service log; who and when are the server's.
type ServiceEntryInput struct {
	Kind             latchkey.ServiceKind `json:"kind,omitempty"` // note when empty
	Note             string               `json:"note"`
	WarrantyRelevant bool                 `json:"warranty_relevant,omitempty"`
}
