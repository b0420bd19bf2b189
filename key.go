package latchkey

import "time"

// KeyState is the life of a mechanical key (SPEC §2).
type KeyState string

// Key states.
const (
	KeyActive  KeyState = "active"
	KeyLost    KeyState = "lost"    // every lock it opens is exposed until rekeyed (invariant 2)
	KeyRetired KeyState = "retired" // no lock is keyed to it any more
)

// Key is a mechanical key: a keyway and a bitting (its cut depths, read from the bow to
// the tip). Copies of it are held by people.
//
// A bitting is a secret like a PIN: whoever has it can cut a key that opens the door. It
// is sealed by the vault at rest, never in the audit log or an export, and shown only by
// RevealBitting, an audited act that needs the reveal permission. Bitting is set only on
// its way in (a new key) and out (a reveal).
type Key struct {
	ID        int64     `json:"id"`
	SiteID    int64     `json:"site_id"`
	Label     string    `json:"label"`
	Keyway    string    `json:"keyway"`            // "KW1"
	Bitting   string    `json:"bitting,omitempty"` // "35242"; validated by package keying
	State     KeyState  `json:"state"`
	Copies    []KeyCopy `json:"copies,omitempty"`
	CreatedAt time.Time `json:"created_at"`

	// SealedBitting is the bitting as the vault sealed it: all a store keeps of it.
	SealedBitting []byte `json:"-"`
}

// CopyState is where one copy of a key is.
type CopyState string

// Copy states. Make before break (invariant 3): when a lock is rekeyed the old key's
// copies become ToReturn until someone confirms they are back.
const (
	CopyHeld     CopyState = "held"
	CopyToReturn CopyState = "to_return"
	CopyReturned CopyState = "returned"
	CopyLost     CopyState = "lost"
)

// KeyCopy is one cut copy of a key and who holds it. A copy with no holder is a spare
// kept somewhere (Location says where).
type KeyCopy struct {
	ID       int64     `json:"id"`
	HolderID int64     `json:"holder_id,omitempty"`
	Location string    `json:"location,omitempty"`
	State    CopyState `json:"state"`
}

// Validate checks the key's own fields; its bitting is checked against its keyway by
// the service, through the key rules.
func (k *Key) Validate() error {
	if k.SiteID == 0 {
		return Errorf(EINVALID, "A key belongs to a site.")
	}
	if err := validateName("Key label", k.Label); err != nil {
		return err
	}
	switch k.State {
	case KeyActive, KeyLost, KeyRetired:
	default:
		return Errorf(EINVALID, "Unknown key state %q; use active, lost or retired.", k.State)
	}
	if len(k.Copies) > MaxKeyCopies {
		return Errorf(EINVALID, "A key has at most %d copies recorded; %d were given.", MaxKeyCopies, len(k.Copies))
	}
	for _, c := range k.Copies {
		if err := c.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// Validate checks a copy: it is held by someone or kept somewhere.
func (c *KeyCopy) Validate() error {
	switch c.State {
	case CopyHeld, CopyToReturn, CopyReturned, CopyLost:
	default:
		return Errorf(EINVALID, "Unknown copy state %q; use held, to_return, returned or lost.", c.State)
	}
	if c.HolderID == 0 && c.Location == "" {
		return Errorf(EINVALID, "Say who holds the copy (a person) or where it is kept (a location).")
	}
	return validateText("Location", c.Location, maxLineLen, false)
}

// checkMove reports whether a copy of key may go from its state to another. A lost copy
// stays lost (invariant 2): whoever found it may have copied it, so a copy that came back
// proves nothing, and marking it held again would hide the lock's exposure.
func (c *KeyCopy) checkMove(k *Key, to CopyState) error {
	if c.State == CopyLost && to != CopyLost {
		return Errorf(EUNSAFE, "Copy %d of key %d (%s) is lost. A lost copy stays lost: whoever found it may have copied it. If it came back, record it as a new copy (latchkey key copy add %d --holder PERSON); the locks the key opens stay exposed until they are rekeyed to a new key.",
			c.ID, k.ID, k.Label, k.ID)
	}
	return nil
}

// hasLostCopy reports whether a copy of the key is lost.
func (k *Key) hasLostCopy() bool {
	for _, c := range k.Copies {
		if c.State == CopyLost {
			return true
		}
	}
	return false
}

// MaxKeyCopies bounds the copies recorded of one key: more than a household or a
// building hands out, and few enough for every page that lists keys.
const MaxKeyCopies = 100

// HeldByPerson reports whether a person holds a copy of the key.
func (k *Key) HeldByPerson() bool {
	for _, c := range k.Copies {
		if c.State == CopyHeld && c.HolderID != 0 {
			return true
		}
	}
	return false
}
