package latchkey

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"path/filepath"
	"strings"
	"time"
)

// ServiceKind says what kind of work a service-log entry records.
type ServiceKind string

// Service kinds.
const (
	ServiceBattery    ServiceKind = "battery"
	ServiceRekey      ServiceKind = "rekey"
	ServiceCodes      ServiceKind = "codes"
	ServiceReset      ServiceKind = "reset"
	ServiceRepair     ServiceKind = "repair"
	ServiceInspection ServiceKind = "inspection"
	ServiceNote       ServiceKind = "note"
)

// ServiceEntry is one line of a lock's service log. Work that deviated from the maker's
// instructions is flagged as warranty-relevant (invariant 9).
type ServiceEntry struct {
	ID               int64       `json:"id"`
	LockID           int64       `json:"lock_id"`
	At               time.Time   `json:"at"`
	Actor            string      `json:"actor"`
	Kind             ServiceKind `json:"kind"`
	Note             string      `json:"note"`
	WarrantyRelevant bool        `json:"warranty_relevant,omitempty"`
}

// Validate checks an entry.
func (e *ServiceEntry) Validate() error {
	switch e.Kind {
	case ServiceBattery, ServiceRekey, ServiceCodes, ServiceReset, ServiceRepair, ServiceInspection, ServiceNote:
	default:
		return Errorf(EINVALID, "Unknown kind %q; use battery, rekey, codes, reset, repair, inspection or note.", e.Kind)
	}
	if err := validateText("Service note", e.Note, maxNoteLen, true); err != nil {
		return err
	}
	return validateName("Service note", firstLine(e.Note))
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// AddServiceEntry appends to a lock's service log. A repair entry on a lock that needs a
// locksmith or support records that it no longer does.
func (s *Service) AddServiceEntry(ctx context.Context, e *ServiceEntry) error {
	e.ID, e.Note = 0, plainLines(e.Note)
	if e.Kind == "" {
		e.Kind = ServiceNote
	}
	if err := e.Validate(); err != nil {
		return err
	}
	e.At, e.Actor = s.now(), ActorFromContext(ctx)
	return s.change(ctx, "lock.service", "lock", func(tx Tx) (int64, any, error) {
		l, err := tx.FindLockByID(ctx, e.LockID)
		if err != nil {
			return 0, nil, err
		}
		if e.Kind == ServiceRepair && (l.Status == LockNeedsLocksmith || l.Status == LockNeedsSupport) {
			// The repair is the act that resolves a call for a locksmith or support
			// (invariant 8); its note says what was done.
			l.Status = ""
			l.Status = l.derivedStatus()
			if err := tx.UpdateLock(ctx, l); err != nil {
				return 0, nil, err
			}
		}
		return e.LockID, e, tx.CreateServiceEntry(ctx, e)
	})
}

// FindServiceEntries returns a lock's service log, oldest first.
func (s *Service) FindServiceEntries(ctx context.Context, lockID int64) (entries []*ServiceEntry, err error) {
	err = s.view(ctx, func(tx Tx) error {
		entries, err = tx.FindServiceEntries(ctx, lockID)
		return err
	})
	return entries, err
}

// MaxReceiptBytes is the largest receipt file Latchkey keeps, and MaxReceiptsPerLock how
// many it keeps for one lock: 200 MiB at most, however a lock's files are added.
const (
	MaxReceiptBytes    = 10 << 20
	MaxReceiptsPerLock = 20
)

// Receipt is a file kept with a lock's records: a receipt, an invoice, a photo of the
// label. Warranty claims need a dated receipt (facts §5).
type Receipt struct {
	ID          int64     `json:"id"`
	LockID      int64     `json:"lock_id"`
	Name        string    `json:"name"`
	ContentType string    `json:"content_type"`
	Size        int       `json:"size"`
	SHA256      string    `json:"sha256"`
	AddedAt     time.Time `json:"added_at"`
	Data        []byte    `json:"data,omitempty"` // only when asked for
}

// AddReceipt keeps a file with a lock's records, under the last element of name (a
// path's directories are dropped); a name that is no file's ("", ".", "..") is refused.
func (s *Service) AddReceipt(ctx context.Context, lockID int64, name string, data []byte) (*Receipt, error) {
	given := strings.TrimSpace(name)
	name = filepath.Base(given)
	switch {
	case given == "":
		return nil, Errorf(EINVALID, "Name the file: no name was given; give one such as receipt.pdf.")
	case name == "." || name == ".." || name == string(filepath.Separator):
		return nil, Errorf(EINVALID, "Name the file: %q is not a file name; give one such as receipt.pdf.", given)
	case len(data) == 0:
		return nil, Errorf(EINVALID, "The receipt file is empty.")
	case len(data) > MaxReceiptBytes:
		return nil, Errorf(EINVALID, "The receipt file is larger than 10 MiB, the most Latchkey keeps; scan it at a lower resolution or as a PDF.")
	}
	if err := validateName("Receipt file name", name); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	r := &Receipt{LockID: lockID, Name: name, ContentType: http.DetectContentType(data), Size: len(data),
		SHA256: hex.EncodeToString(sum[:]), AddedAt: s.now(), Data: data}
	err := s.change(ctx, "lock.receipt", "lock", func(tx Tx) (int64, any, error) {
		if _, err := tx.FindLockByID(ctx, lockID); err != nil {
			return 0, nil, err
		}
		if kept, err := tx.FindReceipts(ctx, lockID, false); err != nil {
			return 0, nil, err
		} else if len(kept) >= MaxReceiptsPerLock {
			return 0, nil, Errorf(ECONFLICT, "Lock %d keeps %d files already, the most Latchkey keeps for one lock; keep the others elsewhere.", lockID, len(kept))
		}
		return lockID, map[string]any{"name": r.Name, "size": r.Size, "sha256": r.SHA256}, tx.CreateReceipt(ctx, r)
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// FindReceipt returns one of a lock's kept files with its contents.
func (s *Service) FindReceipt(ctx context.Context, lockID, id int64) (r *Receipt, err error) {
	err = s.view(ctx, func(tx Tx) error {
		r, err = tx.FindReceipt(ctx, lockID, id)
		return err
	})
	return r, err
}

// FindReceipts lists a lock's receipts, without their contents unless withData.
func (s *Service) FindReceipts(ctx context.Context, lockID int64, withData bool) (rs []*Receipt, err error) {
	err = s.view(ctx, func(tx Tx) error {
		rs, err = tx.FindReceipts(ctx, lockID, withData)
		return err
	})
	return rs, err
}

// LockRecord is everything recorded about one lock, read in one transaction: for the
// lock page, the record sheet and the API.
type LockRecord struct {
	Lock   *Lock    `json:"lock"`
	Door   *Door    `json:"door"`
	Site   *Site    `json:"site"`
	Key    *Key     `json:"key,omitempty"`
	Grants []*Grant `json:"grants"`
	// Foreign are codes on the lock in slots Latchkey does not own, listed for adoption.
	Foreign  []*ForeignCode    `json:"foreign_codes"`
	Codes    map[int64]*Code   `json:"codes"`  // by id, for the grants
	People   map[int64]*Person `json:"people"` // code owners and key holders
	Service  []*ServiceEntry   `json:"service_log"`
	Receipts []*Receipt        `json:"receipts"`
}

// FindLockRecord reads everything recorded about a lock.
func (s *Service) FindLockRecord(ctx context.Context, id int64) (*LockRecord, error) {
	r := &LockRecord{Codes: map[int64]*Code{}, People: map[int64]*Person{}}
	err := s.view(ctx, func(tx Tx) (err error) {
		if r.Lock, err = tx.FindLockByID(ctx, id); err != nil {
			return err
		}
		if r.Door, err = tx.FindDoorByID(ctx, r.Lock.DoorID); err != nil {
			return err
		}
		if r.Site, err = tx.FindSiteByID(ctx, r.Door.SiteID); err != nil {
			return err
		}
		person := func(pid int64) error {
			if pid == 0 || r.People[pid] != nil {
				return nil
			}
			p, err := tx.FindPersonByID(ctx, pid)
			r.People[pid] = p
			return err
		}
		if r.Lock.KeyID != 0 {
			if r.Key, err = tx.FindKeyByID(ctx, r.Lock.KeyID); err != nil {
				return err
			}
			withoutBitting(r.Key)
			for _, c := range r.Key.Copies {
				if err := person(c.HolderID); err != nil {
					return err
				}
			}
		}
		if r.Grants, err = tx.FindGrants(ctx, GrantFilter{LockID: &id}); err != nil {
			return err
		}
		if err := s.withWarnings(ctx, tx, r.Grants); err != nil {
			return err
		}
		if r.Foreign, err = tx.FindForeignCodes(ctx, id); err != nil {
			return err
		}
		if r.Foreign == nil {
			r.Foreign = []*ForeignCode{}
		}
		for _, g := range r.Grants {
			c, err := tx.FindCodeByID(ctx, g.CodeID)
			if err != nil {
				return err
			}
			c.SealedPIN = nil
			r.Codes[c.ID] = c
			if err := person(c.PersonID); err != nil {
				return err
			}
		}
		if err := s.deriveAttention(ctx, tx, []*Lock{r.Lock}); err != nil {
			return err
		}
		if r.Service, err = tx.FindServiceEntries(ctx, id); err != nil {
			return err
		}
		r.Receipts, err = tx.FindReceipts(ctx, id, false)
		return err
	})
	return r, err
}
