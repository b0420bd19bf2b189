package latchkey

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// BackupFormat names Latchkey's backup files; BackupVersion is the layout's version.
// Version 1 kept bittings in the clear among the keys; version 2 keeps them sealed
// beside the PINs. Both are read.
const (
	BackupFormat  = "latchkey-backup"
	BackupVersion = 2
)

// Backup is everything Latchkey records, in one portable document: SQLite and
// PostgreSQL back up to, and restore from, the same format. Codes stay sealed inside;
// the vault key is not part of it and must be kept (and restored) separately.
type Backup struct {
	Format  string      `json:"format"`
	Version int         `json:"version"`
	Created time.Time   `json:"created"`
	Records Records     `json:"records"`
	Sealed  []SealedPIN `json:"sealed_pins"`
	// SealedBittings are the keys' bittings as the vault sealed them.
	SealedBittings []SealedBitting `json:"sealed_bittings,omitempty"`
	// SealedHubSecrets are the hubs' passwords and tokens as the vault sealed them.
	SealedHubSecrets []SealedHubSecret `json:"sealed_hub_secrets,omitempty"`
	Files            []*Receipt        `json:"receipt_files"` // receipts with their contents
	Events           []*Event          `json:"events"`        // what the locks reported, oldest first
	Audit            []AuditEntry      `json:"audit"`
	// AuditHead is where the audit log ended when the backup was made (absent from logs
	// written before heads were recorded).
	AuditHead *AuditHead `json:"audit_head,omitempty"`
}

// Records are the records as exported: everything but secrets and the audit log.
type Records struct {
	Sites  []*Site   `json:"sites"`
	Doors  []*Door   `json:"doors"`
	Locks  []*Lock   `json:"locks"`
	People []*Person `json:"people"`
	Keys   []*Key    `json:"keys"`
	Codes  []*Code   `json:"codes"`
	Grants []*Grant  `json:"grants"`
	// ForeignCodes are codes on locks in slots Latchkey does not own, listed for
	// adoption (absent from backups made before they were listed).
	ForeignCodes []*ForeignCode `json:"foreign_codes,omitempty"`

	ServiceLog []*ServiceEntry `json:"service_log"`
	Receipts   []*Receipt      `json:"receipts"` // without their contents
	// Runs are the procedures done and under way, with every step's record (absent from
	// backups made before procedures).
	Runs []*Run `json:"procedure_runs,omitempty"`
	// Hubs are the hubs locks are reached through, without their secrets (absent from
	// backups made before hubs).
	Hubs []*Hub `json:"hubs,omitempty"`
}

// SealedPIN is one code's PIN as the vault sealed it.
type SealedPIN struct {
	CodeID int64  `json:"code_id"`
	Sealed []byte `json:"sealed"`
}

// SealedHubSecret is one hub's password or token as the vault sealed it.
type SealedHubSecret struct {
	HubID  int64  `json:"hub_id"`
	Sealed []byte `json:"sealed"`
}

// SealedBitting is one key's bitting as the vault sealed it.
type SealedBitting struct {
	KeyID  int64  `json:"key_id"`
	Sealed []byte `json:"sealed"`
}

// maxBackupBytes bounds a backup file read back (a fleet of thousands of locks and a
// long audit log fit many times over).
const maxBackupBytes = 1 << 30

// ParseBackup reads a backup file and checks its format, version and audit chain.
func ParseBackup(data []byte) (*Backup, error) {
	if len(data) > maxBackupBytes {
		return nil, Errorf(EINVALID, "The backup is larger than %d bytes; it is not a Latchkey backup.", maxBackupBytes)
	}
	var b Backup
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return nil, Errorf(EINVALID, "The file is not a Latchkey backup (%v).", err)
	}
	switch {
	case b.Format != BackupFormat:
		return nil, Errorf(EINVALID, "The file is not a Latchkey backup (format %q).", b.Format)
	case b.Version < 1 || b.Version > BackupVersion:
		return nil, Errorf(EINVALID, "The backup is version %d; this Latchkey reads versions 1 to %d.", b.Version, BackupVersion)
	}
	entries := make([]*AuditEntry, len(b.Audit))
	for i := range b.Audit {
		entries[i] = &b.Audit[i]
	}
	if err := VerifyAudit(nil, entries); err != nil {
		return nil, Errorf(EINVALID, "The backup's audit log is not intact, so the backup may have been altered: %s", ErrorMessage(err))
	}
	return &b, nil
}

// Export reads every record (no secrets, no audit log), in id order.
func (s *Service) Export(ctx context.Context) (*Records, error) {
	var r Records
	err := s.view(ctx, func(tx Tx) error {
		if err := readRecords(ctx, tx, &r); err != nil {
			return err
		}
		return s.deriveAttention(ctx, tx, r.Locks)
	})
	withoutBitting(r.Keys...)
	for _, h := range r.Hubs {
		h.SealedSecret = nil
	}
	return &r, err
}

// all pages through a list method.
func all[T any](find func(Page) ([]T, int, error)) ([]T, error) {
	var out []T
	for offset := 0; ; offset += 1000 {
		page, total, err := find(Page{Offset: offset, Limit: 1000})
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if len(out) >= total || len(page) == 0 {
			return out, nil
		}
	}
}

func readRecords(ctx context.Context, tx Tx, r *Records) (err error) {
	if r.Sites, err = all(func(p Page) ([]*Site, int, error) { return tx.FindSites(ctx, p) }); err != nil {
		return err
	}
	if r.Doors, err = all(func(p Page) ([]*Door, int, error) { return tx.FindDoors(ctx, DoorFilter{}, p) }); err != nil {
		return err
	}
	if r.Locks, err = all(func(p Page) ([]*Lock, int, error) { return tx.FindLocks(ctx, LockFilter{}, p) }); err != nil {
		return err
	}
	if r.People, err = all(func(p Page) ([]*Person, int, error) { return tx.FindPeople(ctx, p) }); err != nil {
		return err
	}
	if r.Keys, err = all(func(p Page) ([]*Key, int, error) { return tx.FindKeys(ctx, KeyFilter{}, p) }); err != nil {
		return err
	}
	if r.Codes, err = all(func(p Page) ([]*Code, int, error) { return tx.FindCodes(ctx, CodeFilter{}, p) }); err != nil {
		return err
	}
	if r.Grants, err = tx.FindGrants(ctx, GrantFilter{}); err != nil {
		return err
	}
	if r.ForeignCodes, err = tx.FindForeignCodes(ctx, 0); err != nil {
		return err
	}
	if r.ServiceLog, err = tx.FindServiceEntries(ctx, 0); err != nil {
		return err
	}
	if r.Runs, err = all(func(p Page) ([]*Run, int, error) { return tx.FindRuns(ctx, RunFilter{}, p) }); err != nil {
		return err
	}
	slices.Reverse(r.Runs) // oldest first, as every other record
	if r.Hubs, err = tx.FindHubs(ctx); err != nil {
		return err
	}
	r.Receipts, err = tx.FindReceipts(ctx, 0, false)
	return err
}

// Backup reads everything, in one consistent view: the records, the sealed PINs and
// the audit log.
func (s *Service) Backup(ctx context.Context) (*Backup, error) {
	b := &Backup{Format: BackupFormat, Version: BackupVersion, Created: s.now()}
	err := s.view(ctx, func(tx Tx) error {
		if err := readRecords(ctx, tx, &b.Records); err != nil {
			return err
		}
		for _, c := range b.Records.Codes {
			b.Sealed = append(b.Sealed, SealedPIN{CodeID: c.ID, Sealed: c.SealedPIN})
		}
		for _, k := range b.Records.Keys {
			sealed := k.SealedBitting
			if len(sealed) == 0 && k.Bitting != "" { // recorded before bittings were sealed
				var err error
				if sealed, err = s.Vault.Seal([]byte(k.Bitting), keyAAD(k.ID)); err != nil {
					return err
				}
			}
			b.SealedBittings = append(b.SealedBittings, SealedBitting{KeyID: k.ID, Sealed: sealed})
			k.Bitting = ""
		}
		for _, h := range b.Records.Hubs {
			if h.HasSecret {
				b.SealedHubSecrets = append(b.SealedHubSecrets, SealedHubSecret{HubID: h.ID, Sealed: h.SealedSecret})
			}
			h.SealedSecret = nil
		}
		var err error
		if b.Files, err = tx.FindReceipts(ctx, 0, true); err != nil {
			return err
		}
		if b.Events, err = tx.FindEvents(ctx, 0, 1000); err != nil {
			return err
		}
		slices.Reverse(b.Events)
		if b.AuditHead, err = tx.FindAuditHead(ctx); err != nil {
			return err
		}
		for after := int64(0); ; {
			batch, err := tx.FindAudit(ctx, after, 1000)
			if err != nil {
				return err
			}
			if len(batch) == 0 {
				return nil
			}
			for _, e := range batch {
				b.Audit = append(b.Audit, *e)
			}
			after = batch[len(batch)-1].Seq
		}
	})
	return b, err
}

// Restore loads a backup into an empty store, keeping every id, then records the
// restore in the audit log after the backup's own entries. The vault must hold the key
// the codes were sealed with; each sealed PIN is checked to open before anything is
// written.
func (s *Service) Restore(ctx context.Context, b *Backup) error {
	sealed := map[int64][]byte{}
	for _, sp := range b.Sealed {
		sealed[sp.CodeID] = sp.Sealed
	}
	for _, c := range b.Records.Codes {
		if _, err := s.Vault.Open(sealed[c.ID], codeAAD(c.ID)); err != nil {
			return Errorf(EUNAVAILABLE, "Code %d in the backup does not open with this vault key; restore the vault key file the backup was made with (or set LATCHKEY_VAULT_KEY) and try again.", c.ID)
		}
	}
	bittings := map[int64][]byte{}
	for _, sb := range b.SealedBittings {
		bittings[sb.KeyID] = sb.Sealed
	}
	for _, k := range b.Records.Keys {
		if sealed, ok := bittings[k.ID]; ok {
			if _, err := s.Vault.Open(sealed, keyAAD(k.ID)); err != nil {
				return Errorf(EUNAVAILABLE, "The bitting of key %d in the backup does not open with this vault key; restore the vault key file the backup was made with (or set LATCHKEY_VAULT_KEY) and try again.", k.ID)
			}
			k.SealedBitting, k.Bitting = sealed, ""
			continue
		}
		if k.Bitting == "" {
			return Errorf(EINVALID, "Key %d in the backup has no bitting, sealed or in the clear; the backup is damaged.", k.ID)
		}
		var err error // a version 1 backup: seal the bitting on its way in
		if k.SealedBitting, err = s.Vault.Seal([]byte(k.Bitting), keyAAD(k.ID)); err != nil {
			return err
		}
		k.Bitting = ""
	}
	hubSecrets := map[int64][]byte{}
	for _, sh := range b.SealedHubSecrets {
		hubSecrets[sh.HubID] = sh.Sealed
	}
	for _, h := range b.Records.Hubs {
		h.SealedSecret = nil
		if !h.HasSecret {
			continue
		}
		if _, err := s.Vault.Open(hubSecrets[h.ID], hubAAD(h.ID)); err != nil {
			return Errorf(EUNAVAILABLE, "The password of hub %d in the backup does not open with this vault key; restore the vault key file the backup was made with (or set LATCHKEY_VAULT_KEY) and try again.", h.ID)
		}
		h.SealedSecret = hubSecrets[h.ID]
	}
	entries := make([]*AuditEntry, len(b.Audit))
	for i := range b.Audit {
		entries[i] = &b.Audit[i]
	}
	// A version 1 backup predates the authenticated audit log: its hash chain was checked
	// by ParseBackup, and the restore vouches for its entries (an owner's explicit act,
	// with a file they chose). Later backups must check out in full.
	legacy := b.Version < 2 && len(entries) > 0
	if !legacy {
		if err := s.verifyBackupAudit(entries, b.AuditHead); err != nil {
			return Errorf(EINVALID, "The backup's audit log does not check out with this vault key, so the backup was altered or belongs to another vault key: %s", ErrorMessage(err))
		}
	}
	return s.Store.Update(ctx, func(tx Tx) error {
		if last, err := tx.LastAudit(ctx); err != nil {
			return err
		} else if last != nil {
			return Errorf(ECONFLICT, "The store already holds records; restore into a new, empty data directory or database.")
		}
		if _, n, err := tx.FindSites(ctx, Page{Limit: 1}); err != nil || n > 0 {
			if err != nil {
				return err
			}
			return Errorf(ECONFLICT, "The store already holds records; restore into a new, empty data directory or database.")
		}
		r := b.Records
		steps := []func() error{
			func() error { return each(r.Sites, func(v *Site) error { return tx.CreateSite(ctx, v) }) },
			func() error { return each(r.Doors, func(v *Door) error { return tx.CreateDoor(ctx, v) }) },
			func() error { return each(r.People, func(v *Person) error { return tx.CreatePerson(ctx, v) }) },
			func() error { return each(r.Keys, func(v *Key) error { return tx.CreateKey(ctx, v) }) },
			func() error { return each(r.Locks, func(v *Lock) error { return tx.CreateLock(ctx, v) }) },
			func() error {
				return each(r.Codes, func(v *Code) error {
					v.SealedPIN = sealed[v.ID]
					return tx.CreateCode(ctx, v)
				})
			},
			func() error { return each(r.Grants, func(v *Grant) error { return tx.CreateGrant(ctx, v) }) },
			func() error {
				return each(r.ForeignCodes, func(v *ForeignCode) error { return tx.CreateForeignCode(ctx, v) })
			},
			func() error {
				return each(r.ServiceLog, func(v *ServiceEntry) error { return tx.CreateServiceEntry(ctx, v) })
			},
			func() error { return each(r.Runs, func(v *Run) error { return tx.CreateRun(ctx, v) }) },
			func() error { return each(r.Hubs, func(v *Hub) error { return tx.CreateHub(ctx, v) }) },
			func() error { return each(b.Files, func(v *Receipt) error { return tx.CreateReceipt(ctx, v) }) },
			func() error { return each(b.Events, func(v *Event) error { return tx.CreateEvent(ctx, v) }) },
			func() error {
				for i := range b.Audit {
					if err := tx.AppendAudit(ctx, &b.Audit[i]); err != nil {
						return err
					}
				}
				if b.AuditHead != nil { // checked with the entries above
					return tx.SetAuditHead(ctx, b.AuditHead)
				}
				return nil
			},
		}
		for _, step := range steps {
			if err := step(); err != nil {
				return fmt.Errorf("restore: %w", err)
			}
		}
		if legacy {
			if err := s.audit(ctx, tx, adoptAction, "audit", 0, adoptDetail{Unauthenticated: int64(len(entries))}); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, "store.restore", "store", 0, map[string]any{
			"backup_created": b.Created, "sites": len(r.Sites), "locks": len(r.Locks), "codes": len(r.Codes), "audit_entries": len(b.Audit), "hubs": len(r.Hubs)})
	})
}

func each[T any](items []T, f func(T) error) error {
	for _, it := range items {
		if err := f(it); err != nil {
			return err
		}
	}
	return nil
}
