package latchkey

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
	"time"
)

// AuditEntry is one record of the append-only audit log: who did what to which record,
// when, with the evidence. Entries are chained: each carries the hash of the one before,
// so that changing or removing any entry breaks every hash after it (SPEC §3.9).
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

// computeHash hashes every field but the hash itself, in a fixed encoding.
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

// VerifyAudit checks a run of entries in order. prev is the entry just before the run,
// already verified, or nil when the run starts the log. It returns nil, or an invalid
// error naming the first entry that does not fit: changed (its hash does not match its
// content), or out of the chain (removed, reordered, replaced).
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
