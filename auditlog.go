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
	EntityID int64  // with Entity: one record's entries
	Action   string // an action ("code.reveal") or a family ("code")
	Actor    string
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
		entries, total, err = tx.FindAuditEntries(ctx, f, p)
		return err
	})
	return entries, total, err
}

// auditVerbs says each action in words, with %s for the record it names.
var auditVerbs = map[string]string{
	"site.create": "added %s", "site.update": "changed %s", "site.delete": "removed %s",
	"door.create": "added %s", "door.update": "renamed %s", "door.delete": "removed %s",
	"lock.create": "added %s", "lock.update": "changed the record of %s", "lock.delete": "removed %s",
	"lock.key": "recorded the key of %s", "lock.rekey": "recorded the rekey of %s",
	"lock.service": "logged work on %s", "lock.receipt": "kept a file with %s",
	"person.create": "added %s", "person.update": "changed the record of %s", "person.delete": "removed %s",
	"key.create": "recorded %s", "key.lost": "recorded %s as lost", "key.retired": "retired %s",
	"key.copy.add": "recorded a copy of %s", "key.copy.state": "recorded where a copy of %s is",
	"key.reveal": "revealed the cuts of %s", "key.seal": "sealed the bittings of the keys", "key.generate": "generated new bittings clear of the keys of %s",
	"code.create": "added %s", "code.confirm": "recorded a lock's confirmation of %s",
	"code.revoke": "revoked %s", "code.reveal": "revealed %s", "code.refused": "was refused a chosen code on %s (it collided with another)", "code.check": "checked a code that collides with another on %s",
	"user.create": "added the account %s", "user.update": "changed the account %s", "user.delete": "removed the account %s",
	"user.password": "changed the password of %s", "user.revoke": "ended every session and token of %s",
	"token.create": "made an API token for %s", "token.revoke": "revoked an API token of %s",
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
		Name  string `json:"name"`
		Label string `json:"label"`
		Token string `json:"token"`
	}
	_ = json.Unmarshal([]byte(e.Detail), &d)
	if name := firstNonEmpty(d.Name, d.Label); name != "" {
		record += " (" + name + ")"
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
