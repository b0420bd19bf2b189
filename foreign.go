package latchkey

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// ForeignCode is a code on a lock in a slot Latchkey does not own: one added at the
// keypad, or left from before the lock was recorded. The engine never writes over it; a
// person adopts it (AdoptForeignCode: it becomes a code of a person, in that slot) or
// clears it (ClearForeignSlot: the engine empties the slot). Its digits are never kept
// here: adoption reads them from the lock, into the vault.
type ForeignCode struct {
	ID     int64 `json:"id"`
	LockID int64 `json:"lock_id"`
	Slot   int   `json:"slot"`
	// Source is how Latchkey learnt of it: the lock's keypad report, or a read-back.
	Source EventSource `json:"source,omitempty"`
	SeenAt time.Time   `json:"seen_at"`
	// Clearing says a person asked for the slot to be emptied; Reason says why it is
	// not empty yet.
	Clearing bool   `json:"clearing,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

// foreignAt returns the foreign code in a slot of a lock, or nil.
func foreignAt(ctx context.Context, tx Tx, lockID int64, slot int) (*ForeignCode, error) {
	all, err := tx.FindForeignCodes(ctx, lockID)
	if err != nil {
		return nil, err
	}
	for _, f := range all {
		if f.Slot == slot {
			return f, nil
		}
	}
	return nil, nil
}

// FindForeignCodes lists the codes on a lock (every lock's for 0) in slots Latchkey does
// not own, by lock and slot.
func (s *Service) FindForeignCodes(ctx context.Context, lockID int64) (out []*ForeignCode, err error) {
	err = s.view(ctx, func(tx Tx) error {
		if lockID != 0 {
			if _, err := tx.FindLockByID(ctx, lockID); err != nil {
				return err
			}
		}
		out, err = tx.FindForeignCodes(ctx, lockID)
		return err
	})
	return out, err
}

// foreignOn finds a lock's foreign code in a slot, or says what to do (ENOTFOUND).
func foreignOn(ctx context.Context, tx Tx, lockID int64, slot int) (*Lock, *ForeignCode, error) {
	l, err := tx.FindLockByID(ctx, lockID)
	if err != nil {
		return nil, nil, err
	}
	f, err := foreignAt(ctx, tx, lockID, slot)
	if err != nil {
		return nil, nil, err
	}
	if f == nil {
		return nil, nil, Errorf(ENOTFOUND, "Slot %d of lock %d (%s) holds no code Latchkey does not own; 'latchkey lock slots %d' lists those it does.", slot, l.ID, l.Name, l.ID)
	}
	return l, f, nil
}

// Adoption makes a foreign code a person's code.
type Adoption struct {
	LockID   int64  `json:"lock_id"`
	Slot     int    `json:"slot"`
	PersonID int64  `json:"person_id"`
	Label    string `json:"label"`
	// PIN is the code as it was set at the lock, for a lock whose hub does not tell it;
	// leave it empty to have it read from the lock.
	PIN string `json:"pin,omitempty"`
}

// adoptReadTimeout bounds the read of a slot for an adoption.
const adoptReadTimeout = 20 * time.Second

// AdoptForeignCode makes the code in a slot Latchkey does not own a code of a person, in
// that slot, with no schedule: its PIN is read from the lock when the lock's driver
// tells it (the code is then set), or taken as given for a lock that does not (the code
// is then unconfirmed, until someone checks it at the door). The PIN is sealed in the
// vault and never shown or recorded in the clear.
func (s *Service) AdoptForeignCode(ctx context.Context, a Adoption) (c *Code, err error) {
	if err := require(ctx, PermWrite); err != nil {
		return nil, err
	}
	if s.Vault == nil {
		return nil, Errorf(EUNAVAILABLE, "No vault is open to seal the code.")
	}
	c = &Code{PersonID: a.PersonID, Label: strings.TrimSpace(a.Label), Schedule: Schedule{Kind: ScheduleAlways}}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	var l *Lock
	if err := s.Store.View(ctx, func(tx Tx) (err error) { l, _, err = foreignOn(ctx, tx, a.LockID, a.Slot); return err }); err != nil {
		return nil, err
	}
	pin, status := a.PIN, GrantUnconfirmed
	if pin == "" {
		if pin, err = s.readSlot(ctx, l, a.Slot); err != nil {
			return nil, err
		}
		status = GrantSet
	} else if err := checkGivenPIN(s.Models, l, pin); err != nil {
		return nil, Errorf(EINVALID, "That PIN cannot be the code in slot %d: %s", a.Slot, ErrorMessage(err))
	}
	err = s.change(ctx, "code.adopt", "code", func(tx Tx) (int64, any, error) {
		_, f, err := foreignOn(ctx, tx, a.LockID, a.Slot)
		if err != nil {
			return 0, nil, err
		}
		if _, err := tx.FindPersonByID(ctx, c.PersonID); err != nil {
			return 0, nil, err
		}
		c.ID, c.CreatedAt, c.SealedPIN = 0, s.now(), nil
		if err := tx.CreateCode(ctx, c); err != nil {
			return 0, nil, err
		}
		if c.SealedPIN, err = s.Vault.Seal([]byte(pin), codeAAD(c.ID)); err != nil {
			return 0, nil, fmt.Errorf("seal code: %w", err)
		}
		if err := tx.UpdateCode(ctx, c); err != nil {
			return 0, nil, err
		}
		g := &Grant{CodeID: c.ID, LockID: a.LockID, Slot: a.Slot, Status: status, UpdatedAt: s.now()}
		if status == GrantUnconfirmed {
			g.Reason = "Adopted with the PIN a person gave: check at the door that it opens the lock, then confirm."
		}
		if err := tx.CreateGrant(ctx, g); err != nil {
			return 0, nil, err
		}
		if err := tx.DeleteForeignCode(ctx, f.ID); err != nil {
			return 0, nil, err
		}
		return c.ID, map[string]any{"label": c.Label, "person_id": c.PersonID, "lock_id": a.LockID, "slot": a.Slot, "read_from_lock": status == GrantSet}, nil
	})
	if err != nil {
		return nil, err
	}
	c.SealedPIN = nil
	return c, nil
}

// readSlot reads the PIN in a slot of a connected lock through its driver.
func (s *Service) readSlot(ctx context.Context, l *Lock, slot int) (string, error) {
	reader := s.Readers[l.Connection.Driver]
	if l.Connection.Driver == "" || reader == nil {
		return "", Errorf(EINVALID, "Lock %d (%s) cannot tell the code in slot %d: give the PIN as it was set at the lock (--pin), or clear the slot.", l.ID, l.Name, slot)
	}
	ctx, cancel := context.WithTimeout(ctx, adoptReadTimeout)
	defer cancel()
	pin, present, err := reader.ReadCode(ctx, l.Connection.Address, slot)
	switch {
	case err != nil:
		return "", Errorf(EUNAVAILABLE, "Could not read slot %d of lock %d (%s): %s Try again when it answers.", slot, l.ID, l.Name, ErrorMessage(err))
	case !present:
		return "", Errorf(ECONFLICT, "Slot %d of lock %d (%s) reads empty now: there is nothing to adopt; clear it from the list (latchkey lock clear-slot %d --slot %d).", slot, l.ID, l.Name, l.ID, slot)
	case pin == "":
		return "", Errorf(EINVALID, "Lock %d (%s) does not tell the code in slot %d: give the PIN as it was set at the lock (--pin), or clear the slot.", l.ID, l.Name, slot)
	}
	return pin, nil
}

// ClearForeignSlot asks the engine to empty a slot holding a code Latchkey does not own.
// The code stays listed, as being cleared, until the lock is seen without it.
func (s *Service) ClearForeignSlot(ctx context.Context, lockID int64, slot int) (f *ForeignCode, err error) {
	err = s.change(ctx, "lock.clear_slot", "lock", func(tx Tx) (int64, any, error) {
		var l *Lock
		if l, f, err = foreignOn(ctx, tx, lockID, slot); err != nil {
			return 0, nil, err
		}
		if l.Connection.Driver == "" {
			return 0, nil, Errorf(EINVALID, "Lock %d (%s) is not connected to a hub: delete the code at its keypad.", l.ID, l.Name)
		}
		if f.Clearing {
			return 0, nil, Errorf(ECONFLICT, "Slot %d of lock %d is already being cleared.", slot, lockID)
		}
		f.Clearing, f.Reason = true, ""
		return l.ID, map[string]any{"name": l.Name, "slot": slot}, tx.UpdateForeignCode(ctx, f)
	})
	return f, err
}

// recordForeignClear records the engine's outcome of emptying a foreign code's slot.
func (s *Service) recordForeignClear(ctx context.Context, o SyncOutcome) error {
	err := s.change(ctx, "lock.slot_cleared", "lock", func(tx Tx) (int64, any, error) {
		f, err := foreignAt(ctx, tx, o.Task.LockID, o.Task.Slot)
		if err != nil {
			return 0, nil, err
		}
		switch {
		case f == nil || !f.Clearing:
			return 0, nil, errUnchanged
		case o.Done:
			return o.Task.LockID, map[string]any{"slot": f.Slot}, tx.DeleteForeignCode(ctx, f.ID)
		case f.Reason == o.Reason:
			return 0, nil, errUnchanged
		}
		f.Reason = o.Reason
		return o.Task.LockID, map[string]any{"slot": f.Slot, "reason": o.Reason}, tx.UpdateForeignCode(ctx, f)
	})
	if err == errUnchanged {
		err = nil
	}
	return err
}

// noteForeign lists a code found in a slot Latchkey does not own (once per slot).
func noteForeign(ctx context.Context, tx Tx, lockID int64, slot int, source EventSource, at time.Time) error {
	f, err := foreignAt(ctx, tx, lockID, slot)
	if err != nil || f != nil {
		return err
	}
	return tx.CreateForeignCode(ctx, &ForeignCode{LockID: lockID, Slot: slot, Source: source, SeenAt: at})
}

// checkGivenPIN checks a PIN a person gave for a code already on a lock: the model's own
// rules when the model is known, else 4 to 10 digits (the widest any keypad takes).
func checkGivenPIN(models Models, l *Lock, pin string) error {
	if l.ModelID != "" {
		return models.CheckCode(l.ModelID, pin, nil)
	}
	if len(pin) < 4 || len(pin) > 10 || strings.Trim(pin, "0123456789") != "" {
		return Errorf(EINVALID, "A PIN is 4 to 10 digits.")
	}
	return nil
}
