package latchkey

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// codeAAD binds a sealed PIN to its code record: copied onto another record, it does
// not open.
func codeAAD(id int64) []byte { return []byte("latchkey:code:" + strconv.FormatInt(id, 10)) }

// openPIN opens a code's sealed PIN. A PIN that does not open under its own record's
// additional data was altered or copied from another code; the error says so without
// any digits.
func (s *Service) openPIN(c *Code) (string, error) {
	pin, err := s.Vault.Open(c.SealedPIN, codeAAD(c.ID))
	switch {
	case err == nil:
		return string(pin), nil
	case ErrorCode(err) == EUNAVAILABLE:
		return "", err // the key it was sealed with is missing: the message says what to restore
	}
	return "", Errorf(EINTERNAL, "The sealed PIN of code %d (%s) does not open: it was altered, or copied from another code's record. Revoke the code and add a new one.", c.ID, c.Label)
}

// NewCode is a request to add a code: the PIN is chosen by the person, or generated
// when empty; the code is granted on each lock. Confirmed says the person programmed
// and tested it at each lock already; otherwise the grants wait for confirmation.
type NewCode struct {
	Code      Code
	PIN       string
	LockIDs   []int64
	Confirmed bool
}

// CreateCode adds a code under each lock's model rules, in a free slot of each lock,
// sealed by the vault. A window that has already ended, by the service's clock, is
// refused. It returns the PIN, which the caller shows once (a generated one
// is otherwise unknown to the person).
func (s *Service) CreateCode(ctx context.Context, req NewCode) (*Code, string, error) {
	c := req.Code
	c.ID, c.Revoked, c.SealedPIN, c.PIN = 0, false, nil, ""
	c.Label = strings.TrimSpace(c.Label)
	if err := c.Validate(); err != nil {
		return nil, "", err
	}
	if err := checkLockIDs(req.LockIDs); err != nil {
		return nil, "", err
	}
	if s.Vault == nil {
		return nil, "", Errorf(EUNAVAILABLE, "No vault is open to seal the code.")
	}
	pin, chosen := req.PIN, req.PIN != ""
	if chosen {
		if !mayReveal(ctx) && s.collisions.count(ActorFromContext(ctx), s.now()) >= collisionAllowance {
			return nil, "", Errorf(EFORBIDDEN, "%d chosen codes were refused in the last hour for colliding with other codes; leave the PIN empty to have one generated, or ask someone who may reveal codes.", collisionAllowance)
		}
	}
	err := s.change(ctx, "code.create", "code", func(tx Tx) (int64, any, error) {
		if _, err := tx.FindPersonByID(ctx, c.PersonID); err != nil {
			return 0, nil, err
		}
		if end := c.Schedule.End; c.Schedule.Kind == ScheduleWindow && !end.After(s.now()) {
			// A code whose window is over would only wait to be programmed, for nothing.
			when, err := atSite(ctx, tx, req.LockIDs[0], *end)
			if err != nil {
				return 0, nil, err
			}
			return 0, nil, Errorf(EINVALID, "The window ended on %s; give dates in the future.", when)
		}
		type target struct {
			lock  *Lock
			codes []string
			slot  int
		}
		var targets []target
		var all []string
		for _, id := range req.LockIDs {
			l, err := tx.FindLockByID(ctx, id)
			if err != nil {
				return 0, nil, err
			}
			if err := s.checkProgrammable(l); err != nil {
				return 0, nil, err
			}
			codes, _, err := s.activeCodes(ctx, tx, l.ID)
			if err != nil {
				return 0, nil, err
			}
			slots, err := takenSlots(ctx, tx, l.ID)
			if err != nil {
				return 0, nil, err
			}
			slot := freeSlot(slots, s.Models.CodeCapacity(l.ModelID))
			if slot == 0 {
				return 0, nil, Errorf(ECONFLICT, "Lock %d (%s) holds no more codes (%d of %d slots used); revoke one first.",
					l.ID, l.Name, len(slots), s.Models.CodeCapacity(l.ModelID))
			}
			targets = append(targets, target{l, codes, slot})
			all = append(all, codes...)
		}
		if pin == "" {
			var err error
			if pin, err = s.Models.GenerateCode(targets[0].lock.ModelID, all); err != nil {
				return 0, nil, err
			}
		}
		for _, t := range targets {
			if err := s.checkChosenCode(ctx, t.lock, pin, t.codes, chosen); err != nil {
				return 0, nil, err
			}
		}
		c.CreatedAt = s.now()
		if err := tx.CreateCode(ctx, &c); err != nil {
			return 0, nil, err
		}
		sealed, err := s.Vault.Seal([]byte(pin), codeAAD(c.ID))
		if err != nil {
			return 0, nil, fmt.Errorf("seal code: %w", err)
		}
		c.SealedPIN = sealed
		if err := tx.UpdateCode(ctx, &c); err != nil {
			return 0, nil, err
		}
		status := GrantPending
		if req.Confirmed {
			status = GrantSet
		}
		evidence := map[string]any{"label": c.Label, "person_id": c.PersonID, "confirmed": req.Confirmed}
		var placed []string
		for _, t := range targets {
			g := &Grant{CodeID: c.ID, LockID: t.lock.ID, Slot: t.slot, Status: status, UpdatedAt: s.now()}
			if err := tx.CreateGrant(ctx, g); err != nil {
				return 0, nil, err
			}
			if err := s.notifyGrant(ctx, tx, g, GrantPending); err != nil { // confirmed on the lock as it is recorded
				return 0, nil, err
			}
			placed = append(placed, fmt.Sprintf("lock %d slot %d", t.lock.ID, t.slot))
		}
		evidence["placed"] = placed
		return c.ID, evidence, nil
	})
	var collision *codeCollision
	if errors.As(err, &collision) {
		// Record the refused attempt apart from the change that failed: someone trying
		// PINs beside other people's codes leaves a trace, and runs out of tries.
		s.collisions.add(ActorFromContext(ctx), s.now())
		_ = s.change(ctx, "code.refused", "lock", func(Tx) (int64, any, error) {
			return collision.lockID, map[string]any{"label": c.Label, "person_id": c.PersonID, "reason": "collides with a code already on the lock"}, nil
		})
		return nil, "", collision.err
	}
	if err != nil {
		return nil, "", err
	}
	c.PIN = PIN(pin)
	return &c, pin, nil
}

// checkProgrammable refuses to put a code on a lock that cannot or must not take one now:
// one whose model is unknown (code rules differ by model, invariant 4), one with no
// keypad, one whose battery is low (power first, invariant 5: programming on a weak
// battery can leave a half-written code), one reset behind Latchkey's back (it is
// re-provisioned from the records first, invariant 6).
func (s *Service) checkProgrammable(l *Lock) error {
	switch {
	case l.ModelID == "":
		return Errorf(EINVALID, "Lock %d (%s) is unidentified; identify its model first (latchkey models identify), since code rules differ by model.", l.ID, l.Name)
	case s.Models.CodeCapacity(l.ModelID) == 0:
		return Errorf(EINVALID, "Lock %d (%s) has no keypad: it takes no codes. Record its key instead.", l.ID, l.Name)
	case l.State.LowBattery():
		return Errorf(EUNSAFE, "Lock %d (%s) reported a low battery (%.1f V): replace its batteries (4×AA alkaline) before any programming, then try again. Power first: a weak battery can leave a code half-written.",
			l.ID, l.Name, float64(l.State.BatteryMV)/1000)
	case l.Status == LockQuarantined:
		return Errorf(EUNSAFE, "Lock %d (%s) was reset behind Latchkey's back and is quarantined: its codes are re-provisioned from the records first. Add the code once it is.", l.ID, l.Name)
	case l.Survey.Pending():
		return Errorf(EUNSAFE, "The slots of lock %d (%s) have not all been read since it was adopted from its hub (%d read): a new code could land on one set at its keypad. Finish the survey first (latchkey hub survey %d).", l.ID, l.Name, l.Survey.Read, l.ID)
	}
	return nil
}

// atSite says a time in the time zone of a lock's site, where windows are given and
// shown: "2026-12-06 11:00 (America/Chicago)".
func atSite(ctx context.Context, tx Tx, lockID int64, t time.Time) (string, error) {
	l, err := tx.FindLockByID(ctx, lockID)
	if err != nil {
		return "", err
	}
	loc, err := lockZone(ctx, tx, l)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s (%s)", t.In(loc).Format("2006-01-02 15:04"), loc), nil
}

// takesCodes reports whether a lock's model takes codes: not one with no keypad. An
// unidentified lock's model is not known yet, and is not counted as one without.
func (s *Service) takesCodes(l *Lock) bool {
	return l.ModelID == "" || s.Models == nil || s.Models.CodeCapacity(l.ModelID) > 0
}

// codeCollision is a chosen PIN refused because of the codes already on a lock.
type codeCollision struct {
	lockID int64
	err    error
}

func (c *codeCollision) Error() string { return c.err.Error() }
func (c *codeCollision) Unwrap() error { return c.err }

// checkChosenCode checks a PIN under a lock's model rules beside the lock's other codes.
// Whether a chosen PIN collides with another code tells something of that code, so a
// refusal for that reason is an oracle of other people's digits. For someone who may not
// reveal codes it says only that the PIN collides, comes after the PIN passed the rules
// of its own (so that a PIN refused anyway, too long say, tells nothing), is recorded,
// and counts against a small allowance (collisionAllowance).
func (s *Service) checkChosenCode(ctx context.Context, l *Lock, pin string, existing []string, chosen bool) error {
	on := func(err error) error {
		return Errorf(ErrorCode(err), "Lock %d (%s): %s", l.ID, l.Name, ErrorMessage(err))
	}
	if err := s.Models.CheckCode(l.ModelID, pin, nil); err != nil {
		return on(err)
	}
	err := s.Models.CheckCode(l.ModelID, pin, existing)
	switch {
	case err == nil:
		return nil
	case !chosen || mayReveal(ctx):
		return on(err)
	}
	return &codeCollision{lockID: l.ID, err: Errorf(EINVALID,
		"Lock %d (%s): the code collides with one already on the lock (the same digits, the same buttons, or the same first digits). Choose another, or leave the PIN empty to have one generated. Refusals like this are recorded.", l.ID, l.Name)}
}

// mayReveal reports whether the acting principal may reveal codes.
func mayReveal(ctx context.Context) bool { return require(ctx, PermReveal) == nil }

// collisionAllowance is how many chosen PINs someone who may not reveal codes may have
// refused for colliding with other codes, in an hour, before choosing is refused.
const collisionAllowance = 5

// actorCounts counts, per actor, acts of one kind in the last hour: acts that tell
// something of secrets, which someone who may not reveal them may do only a few times.
// Its zero value is ready to use.
type actorCounts struct {
	mu   sync.Mutex
	seen map[string][]time.Time
}

func (c *actorCounts) add(actor string, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil || len(c.seen) > 10000 {
		c.seen = map[string][]time.Time{} // bounded; the audit log keeps every act anyway
	}
	c.seen[actor] = append(c.recent(actor, now), now)
}

// count is how many times the actor acted in the last hour.
func (c *actorCounts) count(actor string, now time.Time) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.recent(actor, now))
}

func (c *actorCounts) recent(actor string, now time.Time) []time.Time {
	var kept []time.Time
	for _, t := range c.seen[actor] {
		if now.Sub(t) < time.Hour {
			kept = append(kept, t)
		}
	}
	return kept
}

// activeCodes opens the PINs of the codes on a lock that are on it or on their way
// (pending, set, or revocation pending: a revoked code still opens the lock until the
// lock confirms), and returns the slots they take.
func (s *Service) activeCodes(ctx context.Context, tx Tx, lockID int64) (pins []string, slots []int, err error) {
	placed, err := s.codesOnLock(ctx, tx, lockID)
	for _, p := range placed {
		pins, slots = append(pins, p.pin), append(slots, p.slot)
	}
	return pins, slots, err
}

// placedCode is a code on a lock with its PIN opened: it never leaves the domain.
type placedCode struct {
	code *Code
	pin  string
	slot int
}

// codesOnLock opens the codes on a lock that are on it or on their way, as activeCodes.
func (s *Service) codesOnLock(ctx context.Context, tx Tx, lockID int64) ([]placedCode, error) {
	grants, err := tx.FindGrants(ctx, GrantFilter{LockID: &lockID})
	if err != nil {
		return nil, err
	}
	var placed []placedCode
	for _, g := range grants {
		if g.Status == GrantRemoved || g.Status == GrantFailed {
			continue
		}
		c, err := tx.FindCodeByID(ctx, g.CodeID)
		if err != nil {
			return nil, err
		}
		pin, err := s.openPIN(c)
		if err != nil {
			return nil, err
		}
		placed = append(placed, placedCode{c, pin, g.Slot})
	}
	return placed, nil
}

// CodeVerdict is the answer to whether a candidate PIN may go on a recorded lock. It
// holds no digits, of the candidate or of any other code.
type CodeVerdict struct {
	LockID   int64  `json:"lock_id"`
	LockName string `json:"lock_name"`
	ModelID  string `json:"model_id"`
	// OK says the lock can take the PIN: it follows the model's rules, the lock has a
	// free slot, and it collides with no code on the lock.
	OK bool `json:"ok"`
	// Rules says why the model's own rules refuse the PIN (length, digits, forbidden
	// first digits); empty when they do not.
	Rules string `json:"rules,omitempty"`
	// Full says why the lock takes no more codes; empty when it has a free slot.
	Full string `json:"full,omitempty"`
	// Refused says why the lock may not be programmed now (no keypad, a low battery,
	// quarantine); empty when it may.
	Refused string `json:"refused,omitempty"`
	// CollisionsUnchecked says the codes on the lock were left out of the check: the
	// caller may not reveal codes, and a free check would let them try every PIN.
	CollisionsUnchecked bool `json:"collisions_unchecked,omitempty"`
	// Collides says the PIN collides with a code on the lock (the same digits, the same
	// buttons on a five-button keypad, the same first digits). It is checked only for a
	// PIN that follows the rules of its own.
	Collides bool `json:"collides"`
	// With names the codes it collides with, only for a caller who may reveal codes.
	With []CodeCollision `json:"with,omitempty"`
	// Message is the verdict in sentences, with what to do.
	Message string `json:"message"`
}

// CodeCollision is a code on the lock that a candidate PIN collides with, and why.
type CodeCollision struct {
	CodeID int64  `json:"code_id"`
	Label  string `json:"label"`
	Reason string `json:"reason"`
}

// CheckCode checks a candidate PIN for a recorded lock as CreateCode would check it:
// whether the lock may be programmed now, under the lock's model rules, for a free
// slot, and against the codes on the lock (pending, set, or revocation pending). Their
// PINs are opened here only, and nothing of them leaves; checking is not revealing and
// is not recorded as a reveal.
//
// Whether a PIN collides tells something of another code, and a check costs nothing and
// changes nothing, so it would let anyone try every PIN: for a caller who may not
// reveal codes the check leaves collisions out and says so (CreateCode still refuses a
// colliding PIN, within its small allowance). A caller who may reveal codes is told
// which codes it collides with, by id and label. Checking needs the permission to change
// records: it is a step to adding a code. An unidentified lock cannot be checked
// (EINVALID).
func (s *Service) CheckCode(ctx context.Context, lockID int64, pin string) (*CodeVerdict, error) {
	if err := require(ctx, PermWrite); err != nil {
		return nil, err
	}
	reveal := mayReveal(ctx)
	var v *CodeVerdict
	err := s.view(ctx, func(tx Tx) error {
		l, err := tx.FindLockByID(ctx, lockID)
		if err != nil {
			return err
		}
		if l.ModelID == "" {
			return Errorf(EINVALID, "Lock %d (%s) is unidentified; identify its model first (latchkey models identify), since code rules differ by model.", l.ID, l.Name)
		}
		placed, err := s.codesOnLock(ctx, tx, l.ID)
		if err != nil {
			return err
		}
		v = s.judgeCode(l, pin, placed, reveal)
		return nil
	})
	return v, err
}

// countOf says "1 code" or "3 codes".
func countOf(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// judgeCode gives the verdict on a PIN for a lock beside the codes placed on it.
func (s *Service) judgeCode(l *Lock, pin string, placed []placedCode, reveal bool) *CodeVerdict {
	v := &CodeVerdict{LockID: l.ID, LockName: l.Name, ModelID: l.ModelID}
	if err := s.Models.CheckCode(l.ModelID, pin, nil); err != nil {
		v.Rules = ErrorMessage(err)
	}
	if err := s.checkProgrammable(l); err != nil {
		v.Refused = ErrorMessage(err)
	}
	if capacity := s.Models.CodeCapacity(l.ModelID); capacity > 0 && len(placed) >= capacity {
		v.Full = fmt.Sprintf("It holds no more codes (%d of %d slots used); revoke one first.", len(placed), capacity)
	}
	v.CollisionsUnchecked = !reveal
	if v.Rules == "" && reveal {
		// Checked one by one, so that a collision names its code.
		for _, p := range placed {
			err := s.Models.CheckCode(l.ModelID, pin, []string{p.pin})
			if err == nil {
				continue
			}
			// Models name an existing code by its place in the list given: here, one.
			ref := fmt.Sprintf("code %d (%s)", p.code.ID, p.code.Label)
			v.Collides = true
			v.With = append(v.With, CodeCollision{CodeID: p.code.ID, Label: p.code.Label,
				Reason: strings.ReplaceAll(ErrorMessage(err), "existing code no. 1", ref)})
		}
	}
	v.OK = v.Rules == "" && v.Full == "" && v.Refused == "" && !v.Collides
	var says []string
	if v.Refused != "" {
		says = append(says, v.Refused)
	}
	switch {
	case v.Rules != "":
		says = append(says, v.Rules)
	case v.Collides:
		for _, c := range v.With {
			says = append(says, c.Reason)
		}
	}
	if v.Full != "" {
		says = append(says, v.Full)
	}
	if v.OK && reveal {
		v.Message = fmt.Sprintf("Lock %d (%s) can take the code: it follows the %s's rules, and collides with none of the %s on the lock.",
			l.ID, l.Name, l.ModelID, countOf(len(placed), "code"))
		return v
	}
	if v.OK {
		v.Message = fmt.Sprintf("Lock %d (%s) can take the code as far as the %s's rules go. Whether it collides with one of the %s on the lock is checked only when the code is added, since you may not see other codes.",
			l.ID, l.Name, l.ModelID, countOf(len(placed), "code"))
		return v
	}
	v.Message = fmt.Sprintf("Lock %d (%s): %s", l.ID, l.Name, strings.Join(says, " "))
	return v
}

// checkLockIDs checks the locks a change names: at least one, each once, and no more than
// one change may hold the writer for.
func checkLockIDs(ids []int64) error {
	if len(ids) == 0 {
		return Errorf(EINVALID, "Name at least one lock to put the code on.")
	}
	if len(ids) > MaxLocksPerChange {
		return Errorf(EINVALID, "A code goes on at most %d locks in one change (%d named); name fewer.", MaxLocksPerChange, len(ids))
	}
	seen := make(map[int64]bool, len(ids))
	for _, id := range ids {
		if seen[id] {
			return Errorf(EINVALID, "Lock %d is named twice; name each lock once.", id)
		}
		seen[id] = true
	}
	return nil
}

// takenSlots lists the slots of a lock that a new code may not have: those of its codes
// not recorded gone (a failed one is tried again in its slot), and those holding codes
// Latchkey does not own, which are never written over.
func takenSlots(ctx context.Context, tx Tx, lockID int64) ([]int, error) {
	grants, err := tx.FindGrants(ctx, GrantFilter{LockID: &lockID})
	if err != nil {
		return nil, err
	}
	var taken []int
	for _, g := range grants {
		if g.Status != GrantRemoved {
			taken = append(taken, g.Slot)
		}
	}
	foreign, err := tx.FindForeignCodes(ctx, lockID)
	for _, f := range foreign {
		taken = append(taken, f.Slot)
	}
	return taken, err
}

// freeSlotOf finds a free slot on a lock, besides one just taken at the lock (0 when
// none is free).
func (s *Service) freeSlotOf(ctx context.Context, tx Tx, l *Lock, justTaken int) (int, error) {
	taken, err := takenSlots(ctx, tx, l.ID)
	return freeSlot(append(taken, justTaken), s.Models.CodeCapacity(l.ModelID)), err
}

func freeSlot(used []int, capacity int) int {
	taken := map[int]bool{}
	for _, s := range used {
		taken[s] = true
	}
	for s := 1; s <= capacity; s++ {
		if !taken[s] {
			return s
		}
	}
	return 0
}

// ConfirmCode records that a lock confirmed a pending change of a code: a code put on
// it is now set, a revoked one is now gone.
func (s *Service) ConfirmCode(ctx context.Context, codeID, lockID int64) (g *Grant, err error) {
	err = s.change(ctx, "code.confirm", "code", func(tx Tx) (int64, any, error) {
		g, err = s.confirmGrant(ctx, tx, codeID, lockID)
		if err != nil {
			return 0, nil, err
		}
		return codeID, map[string]any{"lock_id": lockID, "status": g.Status}, nil
	})
	if err == nil {
		s.publishStatus(g)
	}
	return g, err
}

// confirmGrant records in tx that a lock confirmed a pending change of a code.
func (s *Service) confirmGrant(ctx context.Context, tx Tx, codeID, lockID int64) (*Grant, error) {
	g, err := grantOf(ctx, tx, codeID, lockID)
	if err != nil {
		return nil, err
	}
	from := g.Status
	switch g.Status {
	case GrantPending, GrantFailed, GrantUnconfirmed:
		l, err := tx.FindLockByID(ctx, lockID)
		if err != nil {
			return nil, err
		}
		if !s.takesCodes(l) {
			// A code "set" on a lock with no keypad would count as a way in that is not there.
			return nil, Errorf(EUNSAFE, "Lock %d (%s) takes no codes: its model (%s) has no keypad, so code %d cannot be on it. Revoke the code (latchkey code rm %d) and confirm it removed (latchkey code confirm %d --lock %d), or correct the lock's model if it is wrong.",
				l.ID, l.Name, l.ModelID, codeID, codeID, codeID, l.ID)
		}
		g.Status, g.Problem, g.ProblemSlot, g.Reason, g.NextAttempt = GrantSet, "", 0, "", nil
	case GrantRemoving:
		// The lock's word beats a person's: a code it reported opening the door since it
		// was revoked is not recorded gone by hand (invariant 2).
		if g.Alert != "" {
			return nil, Errorf(EUNSAFE, "Lock %d reported code %d opening the door after it was revoked (%s) It is still on the lock until the lock is seen without it: let the sync engine remove it, or remove it at the keypad and check that it no longer opens the door.",
				lockID, codeID, g.Alert)
		}
		events, err := tx.FindEvents(ctx, lockID, 500)
		if err != nil {
			return nil, err
		}
		for _, e := range events {
			if e.Kind == EventUnlocked && e.Slot == g.Slot && e.Source == SourceKeypad && !e.At.Before(g.UpdatedAt) {
				return nil, Errorf(EUNSAFE, "Lock %d reported code %d opening the door at %s, after it was revoked: it is still on the lock. Remove it at the keypad (or let the sync engine, if the lock is on a hub), check that it no longer opens the door, then confirm.",
					lockID, codeID, e.At.UTC().Format("2006-01-02 15:04 UTC"))
			}
		}
		g.Status, g.Problem, g.Reason, g.NextAttempt = GrantRemoved, "", "", nil
	default:
		return nil, Errorf(ECONFLICT, "Code %d on lock %d is already %s; nothing to confirm.", codeID, lockID, g.Status)
	}
	g.UpdatedAt = s.now()
	if err := tx.UpdateGrant(ctx, g); err != nil {
		return nil, err
	}
	return g, s.notifyGrant(ctx, tx, g, from)
}

// RevokeCode revokes a code on every lock. Its grants become "revocation pending" until
// each lock confirms (invariant 2); a code that is a lock's last way in is not revoked
// (invariant 1).
func (s *Service) RevokeCode(ctx context.Context, codeID int64) (c *Code, err error) {
	err = s.change(ctx, "code.revoke", "code", func(tx Tx) (int64, any, error) {
		if c, err = tx.FindCodeByID(ctx, codeID); err != nil {
			return 0, nil, err
		}
		if c.Revoked {
			return 0, nil, Errorf(ECONFLICT, "Code %d is already revoked.", codeID)
		}
		return codeID, map[string]any{"label": c.Label}, s.revoke(ctx, tx, c)
	})
	return c, err
}

// revoke revokes a code in tx: every lock it is on is to have it removed. Taking the
// last way in from a lock is refused (invariant 1).
func (s *Service) revoke(ctx context.Context, tx Tx, c *Code) error {
	grants, err := tx.FindGrants(ctx, GrantFilter{CodeID: &c.ID})
	if err != nil {
		return err
	}
	var locks []int64
	for _, g := range grants {
		locks = append(locks, g.LockID)
	}
	return keepWayIn(ctx, tx, locks, fmt.Sprintf("revoking code %q", c.Label), func() error {
		c.Revoked = true
		if err := tx.UpdateCode(ctx, c); err != nil {
			return err
		}
		for _, g := range grants {
			if g.Status == GrantRemoved {
				continue
			}
			g.Status, g.Problem, g.ProblemSlot, g.NextAttempt, g.UpdatedAt = GrantRemoving, "", 0, nil, s.now()
			if err := tx.UpdateGrant(ctx, g); err != nil {
				return err
			}
		}
		return nil
	})
}

// RevealCode returns a code's PIN. Revealing is a recorded act: the audit entry is
// written in the same transaction, before the PIN is returned.
func (s *Service) RevealCode(ctx context.Context, codeID int64) (string, error) {
	if err := require(ctx, PermReveal); err != nil {
		return "", err
	}
	var pin string
	err := s.change(ctx, "code.reveal", "code", func(tx Tx) (int64, any, error) {
		c, err := tx.FindCodeByID(ctx, codeID)
		if err != nil {
			return 0, nil, err
		}
		if pin, err = s.openPIN(c); err != nil {
			return 0, nil, err
		}
		return codeID, map[string]any{"label": c.Label}, nil
	})
	if err != nil {
		return "", err
	}
	return pin, nil
}

// FindCodes lists codes (their PINs stay sealed).
func (s *Service) FindCodes(ctx context.Context, f CodeFilter, p Page) (codes []*Code, total int, err error) {
	err = s.view(ctx, func(tx Tx) error {
		codes, total, err = tx.FindCodes(ctx, f, p)
		return err
	})
	return codes, total, err
}

// FindCodeByID returns a code. Its PIN stays sealed and is returned in no form, sealed
// or not: RevealCode is the one way to its digits.
func (s *Service) FindCodeByID(ctx context.Context, id int64) (c *Code, err error) {
	err = s.view(ctx, func(tx Tx) error {
		c, err = tx.FindCodeByID(ctx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	c.SealedPIN, c.PIN = nil, ""
	return c, nil
}

// FindGrants lists where codes are placed.
func (s *Service) FindGrants(ctx context.Context, f GrantFilter) (grants []*Grant, err error) {
	err = s.view(ctx, func(tx Tx) error {
		if grants, err = tx.FindGrants(ctx, f); err != nil {
			return err
		}
		return s.withWarnings(ctx, tx, grants)
	})
	return grants, err
}

// ResealSecrets opens every code's PIN, every key's bitting, every webhook's and hub's secret, and seals them again
// under the vault's current key, in one transaction: after a key rotation, nothing needs
// the old key any more. It returns how many secrets it sealed again.
func (s *Service) ResealSecrets(ctx context.Context) (n int, err error) {
	err = s.change(ctx, "vault.rotate", "vault", func(tx Tx) (int64, any, error) {
		n = 0 // a change may run more than once
		for offset := 0; ; offset += 1000 {
			codes, _, err := tx.FindCodes(ctx, CodeFilter{}, Page{Offset: offset, Limit: 1000})
			if err != nil {
				return 0, nil, err
			}
			for _, c := range codes {
				pin, err := s.openPIN(c)
				if err != nil {
					return 0, nil, err
				}
				if c.SealedPIN, err = s.Vault.Seal([]byte(pin), codeAAD(c.ID)); err != nil {
					return 0, nil, err
				}
				if err := tx.UpdateCode(ctx, c); err != nil {
					return 0, nil, err
				}
				n++
			}
			if len(codes) < 1000 {
				break
			}
		}
		keys, err := all(func(p Page) ([]*Key, int, error) { return tx.FindKeys(ctx, KeyFilter{}, p) })
		if err != nil {
			return 0, nil, err
		}
		for _, k := range keys {
			bitting, err := s.openBitting(k)
			if err != nil {
				return 0, nil, err
			}
			if k.SealedBitting, err = s.Vault.Seal([]byte(bitting), keyAAD(k.ID)); err != nil {
				return 0, nil, err
			}
			k.Bitting = ""
			if err := tx.UpdateKey(ctx, k); err != nil {
				return 0, nil, err
			}
			n++
		}
		hooks, err := s.resealWebhookSecrets(ctx, tx)
		if err != nil {
			return 0, nil, err
		}
		n += hooks
		hubs, err := s.resealHubSecrets(ctx, tx)
		if err != nil {
			return 0, nil, err
		}
		n += hubs
		return 0, map[string]int{"resealed": n}, nil
	})
	return n, err
}
