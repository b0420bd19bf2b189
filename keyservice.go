package latchkey

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// CreateKey records a mechanical key and its copies. Its bitting is checked against its
// keyway. The audit entry names the key, never its bitting.
func (s *Service) CreateKey(ctx context.Context, k *Key) error {
	k.ID, k.Label = 0, strings.TrimSpace(k.Label)
	if k.Keyway == "" {
		k.Keyway = "KW1"
	}
	if k.State == "" {
		k.State = KeyActive
	}
	for i := range k.Copies {
		k.Copies[i].ID = 0
		if k.Copies[i].State == "" {
			k.Copies[i].State = CopyHeld
		}
	}
	if err := k.Validate(); err != nil {
		return err
	}
	bitting, err := s.Models.CheckBitting(k.Keyway, k.Bitting)
	if err != nil {
		return err
	}
	if s.Vault == nil {
		return Errorf(EUNAVAILABLE, "No vault is open to seal the key's bitting.")
	}
	k.Bitting, k.SealedBitting, k.CreatedAt = "", nil, s.now()
	return s.change(ctx, "key.create", "key", func(tx Tx) (int64, any, error) {
		if _, err := tx.FindSiteByID(ctx, k.SiteID); err != nil {
			return 0, nil, err
		}
		if err := checkHolders(ctx, tx, k.Copies); err != nil {
			return 0, nil, err
		}
		if err := tx.CreateKey(ctx, k); err != nil {
			return 0, nil, err
		}
		var err error
		if k.SealedBitting, err = s.Vault.Seal([]byte(bitting), keyAAD(k.ID)); err != nil {
			return 0, nil, fmt.Errorf("seal bitting: %w", err)
		}
		return k.ID, keyEvidence(k), tx.UpdateKey(ctx, k)
	})
}

// keyAAD binds a sealed bitting to its key's record.
func keyAAD(id int64) []byte { return []byte("latchkey:key:" + strconv.FormatInt(id, 10)) }

// openBitting opens a key's sealed bitting; a key recorded before bittings were sealed
// still has it in the clear until SealBittings runs.
func (s *Service) openBitting(k *Key) (string, error) {
	if len(k.SealedBitting) == 0 {
		if k.Bitting != "" {
			return k.Bitting, nil
		}
		return "", Errorf(EINTERNAL, "Key %d (%s) has no bitting recorded.", k.ID, k.Label)
	}
	b, err := s.Vault.Open(k.SealedBitting, keyAAD(k.ID))
	switch {
	case err == nil:
		return string(b), nil
	case ErrorCode(err) == EUNAVAILABLE:
		return "", err
	}
	return "", Errorf(EINTERNAL, "The sealed bitting of key %d (%s) does not open: it was altered, or copied from another key's record. Record the key again.", k.ID, k.Label)
}

// RevealBitting returns a key's bitting. Revealing is a recorded act, like revealing a
// code, and needs the same permission: with a bitting anyone can cut the key.
func (s *Service) RevealBitting(ctx context.Context, keyID int64) (string, error) {
	if err := require(ctx, PermReveal); err != nil {
		return "", err
	}
	var bitting string
	err := s.change(ctx, "key.reveal", "key", func(tx Tx) (int64, any, error) {
		k, err := tx.FindKeyByID(ctx, keyID)
		if err != nil {
			return 0, nil, err
		}
		if bitting, err = s.openBitting(k); err != nil {
			return 0, nil, err
		}
		return keyID, map[string]any{"label": k.Label}, nil
	})
	if err != nil {
		return "", err
	}
	return bitting, nil
}

// BittingRequest asks for new key bittings for the cylinders of a site.
type BittingRequest struct {
	SiteID  int64    `json:"site_id"`
	ModelID string   `json:"model_id,omitempty"` // the cylinders' catalog model; "" for SmartKey
	Count   int      `json:"count,omitempty"`    // how many; 0 means one
	Apart   bool     `json:"apart,omitempty"`    // keep them apart from each other too (keys of different doors)
	Avoid   []string `json:"avoid,omitempty"`    // more bittings to keep clear of, besides the site's keys
}

// GeneratedBittings are new bittings clear of a site's keys.
type GeneratedBittings struct {
	SiteID   int64    `json:"site_id"`
	Bittings []string `json:"bittings"`
	Avoided  int      `json:"avoided"` // how many of the site's recorded keys they keep clear of
}

// Bounds of GenerateBittings: at most MaxGeneratedBittings at once; for a caller who
// may not reveal bittings, at most bittingsWithoutReveal at once and
// generationsWithoutReveal requests an hour.
const (
	MaxGeneratedBittings     = 10000
	bittingsWithoutReveal    = 3
	generationsWithoutReveal = 10
)

// GenerateBittings generates new random bittings none of which is within one cut of a
// bitting recorded on the site's keys (active, lost or retired: a key once cut may
// still be out there) or of those the request names. The site's bittings are opened
// here only and never leave: the answer is new bittings and how many keys they avoid.
//
// What is never generated says something of what is recorded. Generation is therefore
// a recorded act (key.generate, with the count, never a bitting) that needs the
// permission to change records, and a caller who may not reveal bittings gets at most
// three at a time, ten requests an hour, and may not add bittings to avoid: with a list
// of nearly every bitting, what is left to generate would answer "is this one near a
// recorded key?". The bittings are generated outside the write transaction, so that a
// long request holds up no one's changes.
func (s *Service) GenerateBittings(ctx context.Context, req BittingRequest) (*GeneratedBittings, error) {
	if req.Count == 0 {
		req.Count = 1
	}
	if req.Count < 1 || req.Count > MaxGeneratedBittings {
		return nil, Errorf(EINVALID, "Ask for 1 to %d bittings at once (%d asked).", MaxGeneratedBittings, req.Count)
	}
	if err := require(ctx, PermWrite); err != nil {
		return nil, err
	}
	actor, reveal := ActorFromContext(ctx), require(ctx, PermReveal) == nil
	if !reveal {
		switch {
		case req.Count > bittingsWithoutReveal:
			return nil, Errorf(EFORBIDDEN, "Bittings clear of a site's keys come at most %d at a time to someone who may not reveal key cuts (%d asked); ask for fewer, or ask an owner or a manager.", bittingsWithoutReveal, req.Count)
		case len(req.Avoid) > 0:
			return nil, Errorf(EFORBIDDEN, "Only someone who may reveal key cuts may add bittings to avoid to a site's keys: what is left to generate would tell which bittings are recorded. Ask without them, or ask an owner or a manager.")
		case s.generations.count(actor, s.now()) >= generationsWithoutReveal:
			return nil, Errorf(EFORBIDDEN, "%d requests for bittings clear of a site's keys in the last hour is the most for someone who may not reveal key cuts; try later, or ask an owner or a manager.", generationsWithoutReveal)
		}
		s.generations.add(actor, s.now())
	}
	if len(req.Avoid) > MaxGeneratedBittings {
		return nil, Errorf(EINVALID, "Give at most %d bittings to avoid.", MaxGeneratedBittings)
	}
	var site *Site
	avoid := map[string]bool{}
	for _, b := range req.Avoid {
		avoid[b] = true
	}
	var keys int
	err := s.view(ctx, func(tx Tx) (err error) {
		if site, err = tx.FindSiteByID(ctx, req.SiteID); err != nil {
			return err
		}
		recorded, err := all(func(p Page) ([]*Key, int, error) { return tx.FindKeys(ctx, KeyFilter{SiteID: &site.ID}, p) })
		if err != nil {
			return err
		}
		for _, k := range recorded {
			b, err := s.openBitting(k)
			if err != nil {
				return err
			}
			avoid[b] = true
		}
		keys = len(recorded)
		return nil
	})
	if err != nil {
		return nil, err
	}
	list := make([]string, 0, len(avoid))
	for b := range avoid {
		list = append(list, b)
	}
	out := &GeneratedBittings{SiteID: site.ID, Avoided: keys}
	out.Bittings, err = s.Models.GenerateBittings(req.ModelID, req.Count, req.Apart, list)
	// A refusal is recorded as well as a success: each is an answer about the site's keys.
	detail := map[string]any{"name": site.Name, "count": req.Count, "keys_avoided": keys}
	if err != nil {
		detail["refused"] = true
	}
	if aerr := s.change(ctx, "key.generate", "site", func(Tx) (int64, any, error) { return site.ID, detail, nil }); aerr != nil {
		return nil, aerr
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SealBittings seals every bitting still kept in the clear (keys recorded before
// bittings were sealed) and returns how many it sealed; it changes nothing, and writes
// no audit entry, when there are none.
func (s *Service) SealBittings(ctx context.Context) (n int, err error) {
	var unsealed []*Key
	err = s.view(ctx, func(tx Tx) (err error) {
		unsealed, err = all(func(p Page) ([]*Key, int, error) { return tx.FindKeys(ctx, KeyFilter{Unsealed: true}, p) })
		return err
	})
	if err != nil || len(unsealed) == 0 {
		return 0, err
	}
	// The change reads the keys again: like every change, it may run more than once.
	err = s.change(ctx, "key.seal", "key", func(tx Tx) (int64, any, error) {
		keys, err := all(func(p Page) ([]*Key, int, error) { return tx.FindKeys(ctx, KeyFilter{Unsealed: true}, p) })
		if err != nil {
			return 0, nil, err
		}
		n = len(keys)
		for _, k := range keys {
			sealed, err := s.Vault.Seal([]byte(k.Bitting), keyAAD(k.ID))
			if err != nil {
				return 0, nil, err
			}
			k.Bitting, k.SealedBitting = "", sealed
			if err := tx.UpdateKey(ctx, k); err != nil {
				return 0, nil, err
			}
		}
		return 0, map[string]int{"sealed": n}, nil
	})
	return n, err
}

// withoutBitting clears what a reader of a key must not see: the bitting travels only
// through RevealBitting.
func withoutBitting(keys ...*Key) {
	for _, k := range keys {
		if k != nil {
			k.Bitting = ""
		}
	}
}

// keyEvidence is what the audit log records of a key: not its bitting, from which a
// key can be cut.
func keyEvidence(k *Key) map[string]any {
	return map[string]any{"label": k.Label, "keyway": k.Keyway, "state": k.State, "copies": len(k.Copies)}
}

func checkHolders(ctx context.Context, tx Tx, copies []KeyCopy) error {
	for _, c := range copies {
		if c.HolderID != 0 {
			if _, err := tx.FindPersonByID(ctx, c.HolderID); err != nil {
				return err
			}
		}
	}
	return nil
}

// FindKeys lists keys.
func (s *Service) FindKeys(ctx context.Context, f KeyFilter, p Page) (keys []*Key, total int, err error) {
	err = s.view(ctx, func(tx Tx) error {
		keys, total, err = tx.FindKeys(ctx, f, p)
		return err
	})
	withoutBitting(keys...)
	return keys, total, err
}

// FindKeyByID returns a key with its copies.
func (s *Service) FindKeyByID(ctx context.Context, id int64) (k *Key, err error) {
	err = s.view(ctx, func(tx Tx) error {
		k, err = tx.FindKeyByID(ctx, id)
		return err
	})
	withoutBitting(k)
	return k, err
}

// AddKeyCopy records another copy of a key.
func (s *Service) AddKeyCopy(ctx context.Context, keyID int64, c KeyCopy) (k *Key, err error) {
	c.ID = 0
	if c.State == "" {
		c.State = CopyHeld
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	err = s.change(ctx, "key.copy.add", "key", func(tx Tx) (int64, any, error) {
		if k, err = tx.FindKeyByID(ctx, keyID); err != nil {
			return 0, nil, err
		}
		if err := checkHolders(ctx, tx, []KeyCopy{c}); err != nil {
			return 0, nil, err
		}
		k.Copies = append(k.Copies, c)
		if err := k.Validate(); err != nil {
			return 0, nil, err
		}
		detail := map[string]any{"holder_id": c.HolderID, "location": c.Location}
		if err := tx.UpdateKey(ctx, k); err != nil {
			return 0, nil, err
		}
		if c.State == CopyLost {
			detail["state"] = c.State
			return keyID, detail, exposeLocks(ctx, tx, keyID) // a copy recorded lost is lost all the same
		}
		return keyID, detail, nil
	})
	withoutBitting(k)
	return k, err
}

// SetKeyCopyState records where a copy now is. A copy returned or lost may take away a
// lock's last way in; that is refused unless the copy was lost (a loss is a fact to
// record, not a choice: the locks are then exposed, invariant 2). A lost copy stays
// lost: one that came back is recorded as a new copy.
func (s *Service) SetKeyCopyState(ctx context.Context, keyID, copyID int64, state CopyState) (k *Key, err error) {
	err = s.change(ctx, "key.copy.state", "key", func(tx Tx) (int64, any, error) {
		if k, err = tx.FindKeyByID(ctx, keyID); err != nil {
			return 0, nil, err
		}
		i := -1
		for j, c := range k.Copies {
			if c.ID == copyID {
				i = j
			}
		}
		if i < 0 {
			return 0, nil, Errorf(ENOTFOUND, "Key %d has no copy %d; 'latchkey key show %d' lists its copies.", keyID, copyID, keyID)
		}
		if err := k.Copies[i].checkMove(k, state); err != nil {
			return 0, nil, err
		}
		k.Copies[i].State = state
		if err := k.Copies[i].Validate(); err != nil {
			return 0, nil, err
		}
		detail := map[string]any{"copy_id": copyID, "state": state}
		if state == CopyLost {
			if err := tx.UpdateKey(ctx, k); err != nil {
				return 0, nil, err
			}
			return keyID, detail, exposeLocks(ctx, tx, keyID)
		}
		locks, err := locksKeyedTo(ctx, tx, keyID)
		if err != nil {
			return 0, nil, err
		}
		what := fmt.Sprintf("marking copy %d of key %q %s", copyID, k.Label, state)
		return keyID, detail, keepWayIn(ctx, tx, locks, what, func() error { return tx.UpdateKey(ctx, k) })
	})
	withoutBitting(k)
	return k, err
}

// SetKeyState marks a key lost or retired. A lost key leaves every lock it opens
// exposed until rekeyed (invariant 2), and is always recorded; retiring a key that is a
// lock's last way in is refused (invariant 1).
func (s *Service) SetKeyState(ctx context.Context, keyID int64, state KeyState) (k *Key, err error) {
	err = s.change(ctx, "key."+string(state), "key", func(tx Tx) (int64, any, error) {
		if k, err = tx.FindKeyByID(ctx, keyID); err != nil {
			return 0, nil, err
		}
		k.State = state
		if err := k.Validate(); err != nil {
			return 0, nil, err
		}
		switch state {
		case KeyLost:
			if err := tx.UpdateKey(ctx, k); err != nil {
				return 0, nil, err
			}
			return keyID, keyEvidence(k), exposeLocks(ctx, tx, keyID)
		case KeyRetired:
			locks, err := locksKeyedTo(ctx, tx, keyID)
			if err != nil {
				return 0, nil, err
			}
			return keyID, keyEvidence(k), keepWayIn(ctx, tx, locks, fmt.Sprintf("retiring key %q", k.Label),
				func() error { return tx.UpdateKey(ctx, k) })
		}
		return 0, nil, Errorf(EINVALID, "A key can be marked lost or retired; it becomes active again only by rekeying.")
	})
	withoutBitting(k)
	return k, err
}

// exposeLocks marks every lock a key opens as exposed: a lost key still opens them
// until they are rekeyed (invariant 2). A quarantined lock stays quarantined, the more
// urgent news while its codes are off it; it is exposed when it leaves quarantine.
func exposeLocks(ctx context.Context, tx Tx, keyID int64) error {
	ids, err := locksKeyedTo(ctx, tx, keyID)
	if err != nil {
		return err
	}
	for _, id := range ids {
		l, err := tx.FindLockByID(ctx, id)
		if err != nil {
			return err
		}
		if l.Status == LockQuarantined {
			continue
		}
		l.Status = LockExposed
		if err := tx.UpdateLock(ctx, l); err != nil {
			return err
		}
	}
	return nil
}

// keyExposes reports whether a lock keyed to keyID is exposed: the key, or a copy of
// it, is lost.
func keyExposes(ctx context.Context, tx Tx, keyID int64) (bool, error) {
	if keyID == 0 {
		return false, nil
	}
	k, err := tx.FindKeyByID(ctx, keyID)
	if err != nil {
		return false, err
	}
	return k.State == KeyLost || k.hasLostCopy(), nil
}

// SetLockKey records which key a lock's cylinder is keyed to (0: none known), to
// correct the record. Taking away the key that was a lock's last way in is refused
// (invariant 1), and so is any change to an exposed lock's key: the record of which key
// it takes is what says the lost key still opens it, and only a recorded rekey clears
// that (invariant 2). A key with a lost copy leaves the lock exposed.
func (s *Service) SetLockKey(ctx context.Context, lockID, keyID int64) (l *Lock, err error) {
	err = s.change(ctx, "lock.key", "lock", func(tx Tx) (int64, any, error) {
		if l, err = tx.FindLockByID(ctx, lockID); err != nil {
			return 0, nil, err
		}
		if l.Status == LockExposed {
			return 0, nil, Errorf(EUNSAFE, "Lock %d (%s) is exposed: a lost key still opens it, and changing which key its record names would hide that, not close it. Rekey it to a new key, then record the rekey on the lock's page (Record a rekey or a new cylinder) or with latchkey lock rekey %d --key KEY --tests 3 --both-sides --door-open.",
				l.ID, l.Name, l.ID)
		}
		if keyID != 0 {
			k, err := tx.FindKeyByID(ctx, keyID)
			if err != nil {
				return 0, nil, err
			}
			if k.State != KeyActive {
				return 0, nil, Errorf(EINVALID, "Key %d is %s; a lock can be keyed only to an active key.", keyID, k.State)
			}
			l.HasSmartKey = true
			if k.hasLostCopy() {
				l.Status = LockExposed // whoever has the lost copy can open it
			}
		}
		l.KeyID = keyID
		return lockID, map[string]int64{"key_id": keyID}, keepWayIn(ctx, tx, []int64{lockID},
			fmt.Sprintf("changing the key of lock %d", lockID), func() error { return tx.UpdateLock(ctx, l) })
	})
	return l, err
}

// RekeyHow says what was done to a lock's cylinder.
type RekeyHow string

// Ways a lock comes to take another key.
const (
	Rekeyed          RekeyHow = "rekeyed"  // its SmartKey cylinder learned the new key
	CylinderReplaced RekeyHow = "replaced" // a new cylinder (or lock) went in
)

// RekeyTests is how many times a new key is tried from each side, with the door open,
// before the old one is retired (SPEC §3, invariant 3).
const RekeyTests = 3

// maxRekeyNoteLen leaves room in the service log entry for what the rekey itself says.
const maxRekeyNoteLen = maxNoteLen - 400

// Rekey records that a lock now takes another key, with the evidence that the new key
// works: tried RekeyTests times from outside and inside with the door open.
type Rekey struct {
	LockID    int64    `json:"lock_id"`
	KeyID     int64    `json:"key_id"` // the key it takes now: active, of the lock's site
	How       RekeyHow `json:"how"`
	Tests     int      `json:"tests"`      // successful tries of the new key
	BothSides bool     `json:"both_sides"` // tried from outside and from inside
	DoorOpen  bool     `json:"door_open"`  // with the door open, so a failure locks no one out
	Note      string   `json:"note,omitempty"`
}

// RecordRekey records that a lock's cylinder was rekeyed or replaced and now takes
// another key. It is the one act that clears a lock's exposure (invariant 2): the lost
// key no longer opens it. Make before break (invariant 3): the record is refused as
// unsafe unless the new key was tried enough times from both sides with the door open.
// The key must be a new one: a rekey to the key the lock already takes changes nothing,
// and for an exposed lock it is refused as unsafe (the lost key still opens it).
// The old key, when no other lock takes it, is retired (a lost one stays lost) and its
// held copies are marked to be returned. The rekey goes into the lock's service log.
func (s *Service) RecordRekey(ctx context.Context, r Rekey) (l *Lock, err error) {
	if r.How == "" {
		r.How = Rekeyed
	}
	switch {
	case r.How != Rekeyed && r.How != CylinderReplaced:
		return nil, Errorf(EINVALID, "Say how the lock came to take the new key: rekeyed or replaced.")
	case r.KeyID == 0:
		return nil, Errorf(EINVALID, "Name the key the lock takes now (latchkey key add records a new one).")
	case r.Tests < RekeyTests || !r.BothSides || !r.DoorOpen:
		return nil, Errorf(EUNSAFE, "Before the rekey is recorded, the new key must work %d times from outside and from inside, with the door open (recorded: %d, both sides %s, door open %s). Make before break: keep the old key until the new one works every time.",
			RekeyTests, r.Tests, yesNo(r.BothSides), yesNo(r.DoorOpen))
	}
	r.Note = plainLines(r.Note)
	if err := validateText("Rekey note", r.Note, maxRekeyNoteLen, true); err != nil {
		return nil, err
	}
	err = s.change(ctx, "lock.rekey", "lock", func(tx Tx) (int64, any, error) {
		var evidence map[string]any
		l, evidence, err = s.rekey(ctx, tx, r)
		if err != nil {
			return 0, nil, err
		}
		return l.ID, evidence, nil
	})
	return l, err
}

// rekey records in tx that a lock takes a new key (RecordRekey's rules), with the
// evidence for the audit log.
func (s *Service) rekey(ctx context.Context, tx Tx, r Rekey) (*Lock, map[string]any, error) {
	l, err := tx.FindLockByID(ctx, r.LockID)
	if err != nil {
		return nil, nil, err
	}
	door, err := tx.FindDoorByID(ctx, l.DoorID)
	if err != nil {
		return nil, nil, err
	}
	k, err := tx.FindKeyByID(ctx, r.KeyID)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case k.State != KeyActive:
		return nil, nil, Errorf(EINVALID, "Key %d is %s; a lock is rekeyed to an active key.", k.ID, k.State)
	case k.hasLostCopy():
		return nil, nil, Errorf(EUNSAFE, "A copy of key %d (%s) is lost, so whoever has it can open any lock the key opens; rekey the lock to a new key (latchkey key add records one).", k.ID, k.Label)
	case k.SiteID != door.SiteID:
		return nil, nil, Errorf(EINVALID, "Key %d belongs to another site than lock %d; record the key on the lock's site.", k.ID, l.ID)
	case k.ID == l.KeyID && l.Status == LockExposed:
		return nil, nil, Errorf(EUNSAFE, "Lock %d (%s) already takes key %d (%s): rekeying to the key it already takes changes nothing: the lost key still opens it; rekey it to a new key (latchkey key add records one).",
			l.ID, l.Name, k.ID, k.Label)
	case k.ID == l.KeyID:
		return nil, nil, Errorf(ECONFLICT, "Lock %d already takes key %d; name the new key.", l.ID, k.ID)
	}
	oldKeyID := l.KeyID
	l.KeyID, l.HasSmartKey = k.ID, l.HasSmartKey || r.How == Rekeyed
	if l.Status == LockExposed {
		l.Status = "" // the lost key no longer opens it
	}
	l.Status = l.derivedStatus()
	evidence := map[string]any{"key_id": k.ID, "old_key_id": oldKeyID, "how": r.How, "tests": r.Tests, "both_sides": r.BothSides, "door_open": r.DoorOpen}
	err = keepWayIn(ctx, tx, []int64{l.ID}, fmt.Sprintf("rekeying lock %d", l.ID), func() error {
		if err := tx.UpdateLock(ctx, l); err != nil {
			return err
		}
		returned, err := retireOldKey(ctx, tx, oldKeyID)
		evidence["copies_to_return"] = returned
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	note := fmt.Sprintf("Cylinder %s to key %q; the new key worked %d times from both sides with the door open.", r.How, k.Label, r.Tests)
	if r.Note != "" {
		note += "\n" + r.Note
	}
	entry := &ServiceEntry{LockID: l.ID, At: s.now(), Actor: ActorFromContext(ctx), Kind: ServiceRekey, Note: note}
	if err := entry.Validate(); err != nil {
		return nil, nil, err
	}
	return l, evidence, tx.CreateServiceEntry(ctx, entry)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// retireOldKey retires a key no lock takes any more (a lost key stays lost: it is still
// out there) and marks its held copies to be returned (invariant 3). It returns how many
// copies are to come back. A key still taken by another lock is left as it is.
func retireOldKey(ctx context.Context, tx Tx, keyID int64) (int, error) {
	if keyID == 0 {
		return 0, nil
	}
	if others, err := locksKeyedTo(ctx, tx, keyID); err != nil || len(others) > 0 {
		return 0, err
	}
	k, err := tx.FindKeyByID(ctx, keyID)
	if err != nil {
		return 0, err
	}
	if k.State == KeyActive {
		k.State = KeyRetired
	}
	n := 0
	for i := range k.Copies {
		if k.Copies[i].State == CopyHeld {
			k.Copies[i].State = CopyToReturn
			n++
		}
	}
	return n, tx.UpdateKey(ctx, k)
}
