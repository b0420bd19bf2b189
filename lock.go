package latchkey

import (
	"strings"
	"time"
)

// LockStatus summarises what a lock needs. Anything but LockOK puts the lock on the
// dashboard's list of what needs attention.
type LockStatus string

// Lock statuses (SPEC §3).
const (
	LockOK             LockStatus = "ok"
	LockExposed        LockStatus = "exposed"         // a lost key still opens it: rekey (invariant 2)
	LockNeedsLocksmith LockStatus = "needs_locksmith" // scrambled, forced or jammed (invariant 8)
	LockNeedsSupport   LockStatus = "needs_support"   // electronics misbehave (invariant 8)
	LockQuarantined    LockStatus = "quarantined"     // reset behind our back; re-provision (invariant 6)
	LockUnidentified   LockStatus = "unidentified"    // model unknown: identify it first (invariant 4)
)

// Validate reports whether st is one of the lock statuses.
func (st LockStatus) Validate() error {
	switch st {
	case LockOK, LockExposed, LockNeedsLocksmith, LockNeedsSupport, LockQuarantined, LockUnidentified:
		return nil
	}
	return Errorf(EINVALID, "Unknown lock status %q; use ok, exposed, needs_locksmith, needs_support, quarantined or unidentified.", st)
}

// derivedStatus is the lock's status from its record. A problem found about the lock
// (a lost key that still opens it, a reset behind Latchkey's back, a lock that needs a
// locksmith or support) stays until the act that resolves it (a rekey, re-provisioning,
// the repair) clears it: editing the record never does. Otherwise the status says
// whether the model is known.
func (l *Lock) derivedStatus() LockStatus {
	switch l.Status {
	case LockExposed, LockQuarantined, LockNeedsLocksmith, LockNeedsSupport:
		return l.Status
	}
	if l.ModelID == "" {
		return LockUnidentified
	}
	return LockOK
}

// Lock is one physical lock on a door.
type Lock struct {
	ID           int64      `json:"id"`
	DoorID       int64      `json:"door_id"`
	Name         string     `json:"name"`
	ModelID      string     `json:"model_id"` // a catalog model id; "" while unidentified
	HasSmartKey  bool       `json:"has_smartkey"`
	KeyID        int64      `json:"key_id,omitempty"` // the key its cylinder is keyed to, if any
	SerialNumber string     `json:"serial_number,omitempty"`
	InstalledAt  *time.Time `json:"installed_at,omitempty"`
	PurchasedAt  *time.Time `json:"purchased_at,omitempty"`
	Notes        string     `json:"notes,omitempty"`
	Status       LockStatus `json:"status"`
	Connection   Connection `json:"connection"`
	State        LockState  `json:"state"` // as its devices last reported
	// Survey is the reading of its slots after it was adopted from its hub; none for a
	// lock recorded otherwise. Kept by the service, never taken from a client.
	Survey SlotSurvey `json:"survey,omitzero"`
	// Attention is what the lock needs, derived when it is read (never stored or taken
	// from a client).
	Attention Attention `json:"attention"`
}

// Validate reports whether the lock's fields are acceptable.
func (l *Lock) Validate() error {
	if l.DoorID == 0 {
		return Errorf(EINVALID, "Lock must be on a door.")
	}
	if err := validateName("Lock name", l.Name); err != nil {
		return err
	}
	if err := validateText("Serial number", l.SerialNumber, maxSerialLen, false); err != nil {
		return err
	}
	if err := validateText("Notes", l.Notes, maxNoteLen, true); err != nil {
		return err
	}
	if l.InstalledAt != nil && l.PurchasedAt != nil && l.InstalledAt.Before(*l.PurchasedAt) {
		return Errorf(EINVALID, "Install date is before the purchase date; check both dates.")
	}
	return l.Connection.Validate()
}

// Driver names how a connected lock is reached.
type Driver string

// Drivers (SPEC §4.6). DriverNone marks a lock with no radio or not connected.
const (
	DriverNone        Driver = ""
	DriverSim         Driver = "sim"
	DriverZWaveJS     Driver = "zwavejs"
	DriverZigbee2MQTT Driver = "zigbee2mqtt"
)

// Connection says how Latchkey reaches a connected lock: which driver, and the lock's
// address on it (a Z-Wave node id, a Zigbee2MQTT friendly name, a twin's name).
type Connection struct {
	Driver  Driver `json:"driver,omitempty"`
	Address string `json:"address,omitempty"`
}

// normalized writes a connection's address as its driver reports the lock: a Zigbee IEEE
// address in lower case (0x000d6f...), as Zigbee2MQTT lists it and names the lock in its
// events. Typed in capitals, the address reached the lock, but no event of it was ever
// matched to the record, so a revoked code used at its keypad raised no alert.
func (c Connection) normalized() Connection {
	if c.Driver == DriverZigbee2MQTT && isIEEEAddress(c.Address) {
		c.Address = strings.ToLower(c.Address)
	}
	return c
}

// isIEEEAddress reports whether s is a Zigbee IEEE address: 0x and 16 hex digits.
func isIEEEAddress(s string) bool {
	if len(s) != 18 || s[0] != '0' || s[1] != 'x' && s[1] != 'X' {
		return false
	}
	for _, r := range s[2:] {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'f' || 'A' <= r && r <= 'F') {
			return false
		}
	}
	return true
}

// Validate reports whether the connection is complete.
func (c Connection) Validate() error {
	switch c.Driver {
	case DriverNone:
		if c.Address != "" {
			return Errorf(EINVALID, "Connection address %q given without a driver; name the driver (sim, zwavejs, zigbee2mqtt).", c.Address)
		}
		return nil
	case DriverSim, DriverZWaveJS, DriverZigbee2MQTT:
		if c.Address == "" {
			return Errorf(EINVALID, "Connection through %s needs the lock's address on it.", c.Driver)
		}
		return validateText("Connection address", c.Address, maxAddressLen, false)
	default:
		return Errorf(EINVALID, "Unknown driver %q; use sim, zwavejs or zigbee2mqtt.", c.Driver)
	}
}
