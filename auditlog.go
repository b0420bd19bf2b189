package latchkey

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// AuditFilter narrows FindAuditEntries. Zero fields do not filter.
type AuditFilter struct {
	Entity   string // "lock", "code", "user", ...
	EntityID int64  // with Entity: one record's entries (a lock's or a person's with their codes' and keys')
	Action   string // an action ("code.reveal") or a family ("code")
	Actor    string
	// Related are more records whose entries a one-record filter takes in: FindAuditEntries
	// fills it (a lock's codes and key; a person's codes and the keys they hold a copy of).
	Related []AuditRef
}

// AuditRef names one record of the audit log.
type AuditRef struct {
	Entity string
	ID     int64
}

// Validate checks a filter's text, which comes from people and URLs.
func (f AuditFilter) Validate() error {
	for what, s := range map[string]string{"Entity": f.Entity, "Action": f.Action, "Actor": f.Actor} {
		if err := validateText(what, s, maxNameLen, false); err != nil {
			return err
		}
	}
	if f.EntityID < 0 {
		return Errorf(EINVALID, "An id is a whole number from 1.")
	}
	return nil
}

// FindAuditEntries lists audit entries, newest first, with the total that match.
func (s *Service) FindAuditEntries(ctx context.Context, f AuditFilter, p Page) (entries []*AuditEntry, total int, err error) {
	if err := f.Validate(); err != nil {
		return nil, 0, err
	}
	err = s.view(ctx, func(tx Tx) error {
		if f.Related, err = relatedRecords(ctx, tx, f); err != nil {
			return err
		}
		entries, total, err = tx.FindAuditEntries(ctx, f, p)
		return err
	})
	return entries, total, err
}

// relatedRecords are the records whose entries belong with one lock's or one person's:
// what happened to a lock's codes and key happened at that lock; a person's codes and
// key copies are theirs.
func relatedRecords(ctx context.Context, tx Tx, f AuditFilter) ([]AuditRef, error) {
	if f.EntityID == 0 {
		return nil, nil
	}
	var refs []AuditRef
	switch f.Entity {
	case "lock":
		grants, err := tx.FindGrants(ctx, GrantFilter{LockID: &f.EntityID})
		if err != nil {
			return nil, err
		}
		for _, g := range grants {
			refs = append(refs, AuditRef{"code", g.CodeID})
		}
		if l, err := tx.FindLockByID(ctx, f.EntityID); err == nil && l.KeyID != 0 {
			refs = append(refs, AuditRef{"key", l.KeyID})
		}
	case "person":
		codes, err := all(func(p Page) ([]*Code, int, error) { return tx.FindCodes(ctx, CodeFilter{PersonID: &f.EntityID}, p) })
		if err != nil {
			return nil, err
		}
		for _, c := range codes {
			refs = append(refs, AuditRef{"code", c.ID})
		}
		keys, err := all(func(p Page) ([]*Key, int, error) { return tx.FindKeys(ctx, KeyFilter{}, p) })
		if err != nil {
			return nil, err
		}
		for _, k := range keys {
			for _, c := range k.Copies {
				if c.HolderID == f.EntityID {
					refs = append(refs, AuditRef{"key", k.ID})
					break
				}
			}
		}
	}
	if len(refs) > maxRelatedRecords {
		refs = refs[len(refs)-maxRelatedRecords:] // the newest records' entries; a query has its bounds
	}
	return refs, nil
}

// maxRelatedRecords bounds the records a one-record audit filter takes in with it.
const maxRelatedRecords = 5000

// auditVerbs says each action in words, with %s for the record it names.
var auditVerbs = map[string]string{
	"site.create": "added %s", "site.update": "changed %s", "site.delete": "removed %s",
	"door.create": "added %s", "door.update": "renamed %s", "door.delete": "removed %s",
	"lock.create": "added %s", "lock.update": "changed the record of %s", "lock.delete": "removed %s",
	"lock.key": "recorded the key of %s", "lock.rekey": "recorded the rekey of %s", "lock.reprovision": "had the codes of %s put back after its reset",
	"lock.clear_slot": "asked the sync engine to empty a slot of %s holding a code Latchkey does not own", "lock.slot_cleared": "found a slot of %s emptied of a code Latchkey did not own",
	"lock.service": "logged work on %s", "lock.receipt": "kept a file with %s",
	"person.create": "added %s", "person.update": "changed the record of %s", "person.delete": "removed %s",
	"key.create": "recorded %s", "key.lost": "recorded %s as lost", "key.retired": "retired %s",
	"key.copy.add": "recorded a copy of %s", "key.copy.state": "recorded where a copy of %s is",
	"key.reveal": "revealed the cuts of %s", "key.seal": "sealed the bittings of the keys", "key.generate": "generated new bittings clear of the keys of %s",
	"code.create": "added %s", "code.confirm": "recorded a lock's confirmation of %s",
	"code.revoke": "revoked %s", "code.retry": "asked the sync engine to try %s again", "code.adopt": "adopted %s, set at the lock, as a person's code", "code.used_up": "recorded %s as used up and revoked it", "code.reveal": "revealed %s", "code.refused": "was refused a chosen code on %s (it collided with another)", "code.check": "checked a code that collides with another on %s",
	"user.create": "added the account %s", "user.update": "changed the account %s", "user.delete": "removed the account %s",
	"user.password": "changed the password of %s", "user.revoke": "ended every session and token of %s",
	"token.create": "made an API token for %s", "token.revoke": "revoked an API token of %s",
	"webhook.create": "added %s", "webhook.delete": "removed %s", "webhook.enable": "enabled %s", "webhook.disable": "disabled %s",
	"webhook.replay": "had a delivery of %s sent again",
	"hub.create":     "added %s", "hub.delete": "removed %s",
	"vault.rotate": "rotated the vault key", "store.restore": "restored the records from a backup",
	"audit.adopt": "vouched for the audit entries written before they were authenticated",
}

// Sentence says what an entry records, as a person would read it: "ana revealed code 2
// (Sam's code)". The detail's name or label, when it has one, names the record.
func (e *AuditEntry) Sentence() string {
	record := e.Entity
	if e.EntityID != 0 {
		record = fmt.Sprintf("%s %d", e.Entity, e.EntityID)
	}
	var d struct {
		Name   string `json:"name"`
		Label  string `json:"label"`
		Token  string `json:"token"`
		LockID int64  `json:"lock_id"`
		CopyID int64  `json:"copy_id"`
		Status string `json:"status"`
		State  string `json:"state"`
		Reason string `json:"reason"`
		Action string `json:"action"`
	}
	_ = json.Unmarshal([]byte(e.Detail), &d)
	if name := firstNonEmpty(d.Name, d.Label); name != "" {
		record += " (" + name + ")"
	}
	// Some acts name a second record, or what became of the first.
	switch {
	case e.Action == "code.confirm" && d.LockID != 0:
		what := map[string]string{string(GrantSet): "is on it", string(GrantRemoved): "is gone from it"}[d.Status]
		return fmt.Sprintf("%s recorded that lock %d confirmed %s %s", e.Actor, d.LockID, record, firstNonEmpty(what, "changed"))
	case e.Action == "code.push" && d.LockID != 0:
		return fmt.Sprintf("%s opened %s to write it into lock %d", e.Actor, record, d.LockID)
	case e.Action == "code.sync" && d.LockID != 0:
		// What the engine tried (put or clear) and what it saw decide the sentence.
		what := map[string]string{"put " + string(GrantSet): "found %s on lock %d", "clear " + string(GrantRemoved): "found %s gone from lock %d",
			"clear " + string(GrantPending): "took %s off lock %d until its hours", "put " + string(GrantFailed): "could not put %s on lock %d",
			"put " + string(GrantUnconfirmed): "wrote %s into lock %d, which could not be read back"}[d.Action+" "+d.Status]
		if what == "" {
			what = "could not yet take %s off lock %d"
		}
		sentence := e.Actor + " " + fmt.Sprintf(what, record, d.LockID)
		if d.Reason != "" {
			sentence += ": " + d.Reason
		}
		return sentence
	case e.Action == "key.copy.state" && d.CopyID != 0 && d.State != "":
		return fmt.Sprintf("%s recorded copy %d of %s as %s", e.Actor, d.CopyID, record, strings.ReplaceAll(d.State, "_", " "))
	}
	verb, ok := auditVerbs[e.Action]
	if !ok {
		verb = strings.ReplaceAll(e.Action, ".", " ") + " %s"
	}
	if !strings.Contains(verb, "%s") {
		return e.Actor + " " + verb
	}
	sentence := e.Actor + " " + fmt.Sprintf(verb, record)
	if d.Token != "" {
		sentence += ": “" + d.Token + "”"
	}
	return sentence
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
