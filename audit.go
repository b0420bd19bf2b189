package latchkey

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
	"time"
)

// AuditEntry is one record of the append-only audit log: who did what to which record,
// when, with the evidence. Entries are chained: each carries the hash of the one before,
// so that changing or removing any entry breaks every hash after it (SPEC §3.9). Each is
// also authenticated (MAC) with a key kept with the vault's keys, never in the store, so
// that nobody who can write the database can rewrite an entry and recompute the hashes
// after it; and where the log ends is recorded apart from it (AuditHead), so that
// cutting entries off its end is seen too.
type AuditEntry struct {
	Seq      int64     `json:"seq"` // 1, 2, 3, ... assigned by the store in order
	At       time.Time `json:"at"`
	Actor    string    `json:"actor"`
	Action   string    `json:"action"` // "site.create", "code.reveal", ...
	Entity   string    `json:"entity"` // "site", "lock", ...
	EntityID int64     `json:"entity_id,omitempty"`
	Detail   string    `json:"detail,omitempty"` // JSON evidence; never a secret
	PrevHash string    `json:"prev_hash"`
	Hash     string    `json:"hash"`
	MAC      string    `json:"mac,omitempty"` // "" only on entries written before entries were authenticated
}

// AuditHead records where the audit log ends: its last entry's sequence number and hash,
// authenticated like the entries but under its own label, so that no entry's MAC can
// stand in for a head.
type AuditHead struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
	MAC  string `json:"mac"`
}

// Seal sets the entry's sequence number and previous hash from prev (nil for the first
// entry) and computes its hash.
func (e *AuditEntry) Seal(prev *AuditEntry) {
	e.Seq, e.PrevHash = 1, ""
	if prev != nil {
		e.Seq, e.PrevHash = prev.Seq+1, prev.Hash
	}
	e.Hash = e.computeHash()
}

// computeHash hashes every field but the hash and the MAC, in a fixed encoding.
func (e *AuditEntry) computeHash() string {
	h := sha256.New()
	for _, part := range []string{
		strconv.FormatInt(e.Seq, 10), e.At.UTC().Format(time.RFC3339Nano), e.Actor, e.Action, e.Entity,
		strconv.FormatInt(e.EntityID, 10), e.Detail, e.PrevHash,
	} {
		// Length-prefix each part so that no two different entries hash alike.
		h.Write([]byte(strconv.Itoa(len(part)) + ":" + part + ";"))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Labels keep the two kinds of MAC apart: an entry's can never pass for a head's.
const (
	auditEntryLabel = "latchkey audit entry\x00"
	auditHeadLabel  = "latchkey audit head\x00"
)

func entryMAC(v Vault, e *AuditEntry) string {
	return hex.EncodeToString(v.MAC([]byte(auditEntryLabel + e.Hash)))
}

func headMAC(v Vault, seq int64, hash string) string {
	return hex.EncodeToString(v.MAC([]byte(auditHeadLabel + strconv.FormatInt(seq, 10) + "\x00" + hash)))
}

func macEqual(a, b string) bool { return hmac.Equal([]byte(a), []byte(b)) }

// VerifyAudit checks the hash chain of a run of entries in order. prev is the entry just
// before the run, already verified, or nil when the run starts the log. It returns nil,
// or an invalid error naming the first entry that does not fit: changed (its hash does
// not match its content), or out of the chain (removed, reordered, replaced). It needs
// no key, so that a backup can be checked anywhere; Service.VerifyAuditLog checks the
// MACs and the head too.
func VerifyAudit(prev *AuditEntry, entries []*AuditEntry) error {
	for _, e := range entries {
		wantSeq, wantPrev := int64(1), ""
		if prev != nil {
			wantSeq, wantPrev = prev.Seq+1, prev.Hash
		}
		switch {
		case e.Seq != wantSeq:
			return Errorf(EINVALID, "Audit log broken at entry %d: expected entry %d there; an entry was removed or reordered.", e.Seq, wantSeq)
		case e.PrevHash != wantPrev:
			return Errorf(EINVALID, "Audit log broken at entry %d: it does not follow entry %d; an entry was changed or replaced.", e.Seq, wantSeq-1)
		case e.computeHash() != e.Hash:
			return Errorf(EINVALID, "Audit log broken at entry %d (%s %s, %s): its content was changed after it was written.",
				e.Seq, e.Action, e.Entity, e.At.UTC().Format(time.RFC3339))
		}
		prev = e
	}
	return nil
}

// auditVerifier checks the MACs of entries as they come, in order, and then the head.
// Every entry is authenticated, except, in a log begun before Latchkey authenticated
// its audit log, the entries an "audit.adopt" entry vouches for (see AdoptAuditLog).
type auditVerifier struct {
	vault         Vault
	last          *AuditEntry
	authenticated bool  // an authenticated entry was seen: every later one must be too
	unvouched     int64 // entries without a MAC not yet vouched for by an adopt entry
}

// adoptAction is the audit action that vouches for the entries before it.
const adoptAction = "audit.adopt"

// adoptDetail is what an adopt entry records.
type adoptDetail struct {
	Unauthenticated int64 `json:"unauthenticated_entries"`
}

// run checks the next run of entries: their chain, then their MACs.
func (v *auditVerifier) run(batch []*AuditEntry) error {
	if err := VerifyAudit(v.last, batch); err != nil {
		return err
	}
	for _, e := range batch {
		if err := v.next(e); err != nil {
			return err
		}
	}
	return nil
}

func (v *auditVerifier) next(e *AuditEntry) error {
	v.last = e
	switch {
	case e.MAC == "" && v.authenticated:
		return Errorf(EINVALID, "Audit log broken at entry %d: it carries no authentication, though the entries before it do; the log was rewritten from there.", e.Seq)
	case e.MAC == "":
		v.unvouched++
		return nil // acceptable only if an adopt entry vouches for it later
	case !macEqual(e.MAC, entryMAC(v.vault, e)):
		return Errorf(EINVALID, "Audit log broken at entry %d (%s %s): it was not written by this Latchkey (its authentication does not match), so it was rewritten, or the vault key is not the one the log was written with.",
			e.Seq, e.Action, e.Entity)
	}
	if v.unvouched > 0 {
		var d adoptDetail
		if e.Action != adoptAction || json.Unmarshal([]byte(e.Detail), &d) != nil || d.Unauthenticated != v.unvouched {
			return Errorf(EINVALID, "Audit log broken: entries 1 to %d carry no authentication and nothing vouches for them; they were rewritten (or stripped of their authentication).", e.Seq-1)
		}
		v.unvouched = 0
	}
	v.authenticated = true
	return nil
}

func (v *auditVerifier) end(head *AuditHead) error {
	switch {
	case v.unvouched > 0:
		return Errorf(EINVALID, "The audit log is not authenticated: its %d entries carry no authentication, so they were written before Latchkey authenticated its audit log, or someone stripped it. If this database predates that, run 'latchkey audit adopt' once to vouch for them; otherwise restore a backup.", v.unvouched)
	case head == nil && v.last != nil:
		return Errorf(EINVALID, "Audit log broken: the record of where it ends is missing; entries may have been cut off its end.")
	case head == nil:
		return nil // an empty log
	case !macEqual(head.MAC, headMAC(v.vault, head.Seq, head.Hash)):
		return Errorf(EINVALID, "Audit log broken: the record of where it ends was altered.")
	case v.last == nil:
		return Errorf(EINVALID, "Audit log broken: it is empty, but it was written up to entry %d; every entry was removed.", head.Seq)
	case head.Seq > v.last.Seq:
		return Errorf(EINVALID, "Audit log broken after entry %d: it was written up to entry %d, so entries %d to %d were removed.",
			v.last.Seq, head.Seq, v.last.Seq+1, head.Seq)
	case head.Seq < v.last.Seq:
		return Errorf(EINVALID, "Audit log broken after entry %d: it ends there, but entries %d to %d follow; they were added behind Latchkey's back.",
			head.Seq, head.Seq+1, v.last.Seq)
	case head.Hash != v.last.Hash:
		return Errorf(EINVALID, "Audit log broken at entry %d: it is not the entry written last; the end of the log was replaced.", v.last.Seq)
	}
	return nil
}

// auditDetail encodes evidence for an audit entry.
func auditDetail(v any) string {
	if v == nil {
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return `{"error":"unencodable detail"}`
	}
	return string(b)
}

// audit appends an entry to the audit log in tx and moves the log's head to it.
func (s *Service) audit(ctx context.Context, tx Tx, action, entity string, id int64, detail any) error {
	e, err := s.appendAudit(ctx, tx, nil, action, entity, id, detail)
	if err != nil {
		return err
	}
	return tx.SetAuditHead(ctx, &AuditHead{Seq: e.Seq, Hash: e.Hash, MAC: headMAC(s.Vault, e.Seq, e.Hash)})
}

// appendAudit appends an entry chained onto prev (nil: the log's recorded end) and
// returns it; the caller records the new end (SetAuditHead), once for several entries
// written together.
func (s *Service) appendAudit(ctx context.Context, tx Tx, prev *AuditEntry, action, entity string, id int64, detail any) (*AuditEntry, error) {
	if prev == nil {
		var err error
		if prev, err = s.lastAudit(ctx, tx); err != nil {
			return nil, err
		}
	}
	e := &AuditEntry{At: s.now(), Actor: ActorFromContext(ctx), Action: action, Entity: entity,
		EntityID: id, Detail: auditDetail(detail)}
	e.Seal(prev)
	e.MAC = entryMAC(s.Vault, e)
	return e, tx.AppendAudit(ctx, e)
}

// lastAudit is what the next entry chains onto: the recorded head (one row, read by its
// key) or, in a log written before heads were recorded, the last entry. An authenticated
// log without its head was cut (the head went with the entries cut off its end): writing
// on would record a new head over the cut and hide it, so every change is refused until
// someone looks.
func (s *Service) lastAudit(ctx context.Context, tx Tx) (*AuditEntry, error) {
	head, err := tx.FindAuditHead(ctx)
	switch {
	case err != nil:
		return nil, err
	case head != nil:
		return &AuditEntry{Seq: head.Seq, Hash: head.Hash}, nil
	}
	last, err := tx.LastAudit(ctx)
	if err == nil && last != nil && last.MAC != "" {
		return nil, Errorf(EUNAVAILABLE, "The audit log's record of where it ends is missing, so entries may have been cut off its end; Latchkey records no change until that is looked into. Run 'latchkey audit verify', and restore a backup if the log was tampered with.")
	}
	return last, err
}

// VerifyAuditLog reads the whole audit log in order and checks its hash chain, each
// entry's authentication and the record of where the log ends. It returns the number of
// entries checked, and an invalid error naming the first break: a changed, removed,
// reordered or rewritten entry, or entries cut off the end.
func (s *Service) VerifyAuditLog(ctx context.Context) (n int, err error) {
	err = s.view(ctx, func(tx Tx) error {
		v := &auditVerifier{vault: s.Vault}
		for {
			after := int64(0)
			if v.last != nil {
				after = v.last.Seq
			}
			batch, err := tx.FindAudit(ctx, after, 1000)
			if err != nil {
				return err
			}
			if len(batch) == 0 {
				break
			}
			if err := v.run(batch); err != nil {
				return err
			}
			n += len(batch)
		}
		head, err := tx.FindAuditHead(ctx)
		if err != nil {
			return err
		}
		return v.end(head)
	})
	return n, err
}

// verifyBackupAudit checks a backup's audit log as VerifyAuditLog checks a stored one.
func (s *Service) verifyBackupAudit(entries []*AuditEntry, head *AuditHead) error {
	v := &auditVerifier{vault: s.Vault}
	if err := v.run(entries); err != nil {
		return err
	}
	return v.end(head)
}

// AdoptAuditLog vouches for an audit log written before Latchkey authenticated its
// entries: it checks the log's hash chain, then appends an authenticated entry that
// records how many entries came before it, and the head. It is an owner's deliberate act
// ('latchkey audit adopt'), never automatic: a log stripped of its authentication looks
// the same, and only the owner knows whether the database predates authentication.
func (s *Service) AdoptAuditLog(ctx context.Context) (n int64, err error) {
	if err := require(ctx, PermAdmin); err != nil {
		return 0, err
	}
	err = s.Store.Update(ctx, func(tx Tx) error {
		var last *AuditEntry
		for {
			after := int64(0)
			if last != nil {
				after = last.Seq
			}
			batch, err := tx.FindAudit(ctx, after, 1000)
			if err != nil {
				return err
			}
			if len(batch) == 0 {
				break
			}
			if err := VerifyAudit(last, batch); err != nil {
				return err
			}
			for _, e := range batch {
				if e.MAC != "" {
					return Errorf(ECONFLICT, "The audit log is authenticated already (entry %d is); there is nothing to adopt.", e.Seq)
				}
			}
			last = batch[len(batch)-1]
		}
		if last == nil {
			return Errorf(ECONFLICT, "The audit log is empty; there is nothing to adopt.")
		}
		n = last.Seq
		return s.audit(ctx, tx, adoptAction, "audit", 0, adoptDetail{Unauthenticated: n})
	})
	return n, err
}

// RecentAudit returns up to limit audit entries, newest first.
func (s *Service) RecentAudit(ctx context.Context, limit int) (entries []*AuditEntry, err error) {
	err = s.view(ctx, func(tx Tx) error {
		last, err := tx.LastAudit(ctx)
		if err != nil || last == nil {
			return err
		}
		entries, err = tx.FindAudit(ctx, max(0, last.Seq-int64(limit)), limit)
		slices.Reverse(entries)
		return err
	})
	return entries, err
}
