package latchkey

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// applyStep writes what a done step changes in the records, in the step's transaction.
// It reports whether codes changed, so that the sync engine looks again.
func (s *Service) applyStep(ctx context.Context, tx Tx, r *Run, st *Step, a *Advance) (codesChanged bool, err error) {
	switch st.Action {
	case ActionNone, ActionRemovedFromHub:
		return false, nil
	case ActionIdentify:
		return false, s.identifyInRun(ctx, tx, r, st, a)
	case ActionNewKey:
		return false, s.newKeyInRun(ctx, tx, r, a)
	case ActionRecordRekey:
		return false, s.rekeyInRun(ctx, tx, r, st)
	case ActionMarkKeyLost:
		return false, s.keyLostInRun(ctx, tx, r)
	case ActionBatterySwapped:
		return false, s.batteryInRun(ctx, tx, r, st, a)
	case ActionResetDone:
		return true, s.eachLock(ctx, tx, r, st, func(l *Lock) error {
			l.Status = LockQuarantined
			why := fmt.Sprintf("%s was factory reset in procedure run %d; its codes go back on at the run's last steps.", l.Name, r.ID)
			if err := quarantineGrants(ctx, tx, l, s.now(), why); err != nil {
				return err
			}
			return tx.UpdateLock(ctx, l)
		})
	case ActionReprovision:
		return true, s.eachLock(ctx, tx, r, st, func(l *Lock) error {
			if l.Status != LockQuarantined {
				return nil // put back already, or never reset: nothing to do twice
			}
			_, err := s.reprovision(ctx, tx, l)
			return err
		})
	case ActionCodesSet:
		var only []int64 // a code procedure waits for its code; a reset for every code
		if r.Params.CodeID != 0 {
			only = []int64{r.Params.CodeID}
		}
		return false, s.eachLock(ctx, tx, r, st, func(l *Lock) error { return s.codesSettled(ctx, tx, l, only) })
	case ActionRevokeGuests:
		return true, s.revokeGuestsInRun(ctx, tx, r)
	case ActionCodesGone:
		return false, s.eachLock(ctx, tx, r, st, func(l *Lock) error { return s.codesSettled(ctx, tx, l, r.Params.Revoked) })
	case ActionConfirmCode:
		return false, s.eachLock(ctx, tx, r, st, func(l *Lock) error {
			_, err := s.confirmGrant(ctx, tx, r.Params.CodeID, l.ID)
			return err
		})
	case ActionReport:
		return false, s.reportRun(ctx, tx, r)
	}
	return false, Errorf(EINTERNAL, "Step %s has an unknown action %q.", st.ID, st.Action)
}

// eachLock runs fn on the step's lock, or on every lock of the run when the step names none.
func (s *Service) eachLock(ctx context.Context, tx Tx, r *Run, st *Step, fn func(*Lock) error) error {
	ids := r.LockIDs
	if st.LockID != 0 {
		ids = []int64{st.LockID}
	}
	for _, id := range ids {
		l, err := tx.FindLockByID(ctx, id)
		if err != nil {
			return err
		}
		if err := fn(l); err != nil {
			return err
		}
	}
	return nil
}

// identifyInRun records the model the person chose among the ones that fit.
func (s *Service) identifyInRun(ctx context.Context, tx Tx, r *Run, st *Step, a *Advance) error {
	model := a.Evidence["model"]
	if len(st.Choices) > 0 && !slices.ContainsFunc(st.Choices, func(c Choice) bool { return c.Value == model }) {
		var ids []string
		for _, c := range st.Choices {
			ids = append(ids, c.Value)
		}
		return Errorf(EINVALID, "Model %q is not one of those that fit the answers (%s). Choose one of them, or report this step failed (none fits) to answer the questions again.", model, strings.Join(ids, ", "))
	}
	if err := s.Models.CheckModel(model); err != nil {
		return err
	}
	return s.eachLock(ctx, tx, r, st, func(l *Lock) error {
		l.ModelID = model
		if !s.takesCodes(l) {
			if err := codesKeptOff(ctx, tx, l); err != nil {
				return err
			}
		}
		l.Status = l.derivedStatus()
		r.Params.ModelID = model
		return tx.UpdateLock(ctx, l)
	})
}

// newKeyInRun records the key the locks are to learn: read off the new key, or
// generated clear of every bitting on the site (shown once, in the answer). A bitting
// the site already has names that key: the locks become keyed alike with it.
func (s *Service) newKeyInRun(ctx context.Context, tx Tx, r *Run, a *Advance) error {
	if r.Params.NewKeyID != 0 {
		return nil
	}
	first, err := tx.FindLockByID(ctx, r.LockIDs[0])
	if err != nil {
		return err
	}
	door, err := tx.FindDoorByID(ctx, first.DoorID)
	if err != nil {
		return err
	}
	siteKeys, err := all(func(p Page) ([]*Key, int, error) { return tx.FindKeys(ctx, KeyFilter{SiteID: &door.SiteID}, p) })
	if err != nil {
		return err
	}
	bittings := make(map[string]*Key, len(siteKeys))
	for _, k := range siteKeys {
		b, err := s.openBitting(k)
		if err != nil {
			return err
		}
		bittings[b] = k
	}
	// Someone who may not reveal key cuts learns nothing of the site's bittings here
	// either: each answer about them counts against the same hourly allowance as asking
	// for bittings clear of the site's keys, and a typed bitting the site already has is
	// refused without saying whose it is.
	reveal := require(ctx, PermReveal) == nil
	if !reveal {
		actor := ActorFromContext(ctx)
		if s.generations.count(actor, s.now()) >= generationsWithoutReveal {
			return Errorf(EFORBIDDEN, "%d answers about a site's key cuts in the last hour is the most for someone who may not reveal them; try later, or ask an owner or a manager.", generationsWithoutReveal)
		}
		s.generations.add(actor, s.now())
	}
	var bitting string
	if a.Evidence["generate"] == "yes" {
		avoid := make([]string, 0, len(bittings))
		for b := range bittings {
			avoid = append(avoid, b)
		}
		// A SmartKey cylinder takes the SmartKey's bittings, whatever lock it is in (a 916
		// is no cylinder model of its own).
		cylinder := first.ModelID
		if first.HasSmartKey {
			cylinder = ""
		}
		got, err := s.Models.GenerateBittings(cylinder, 1, false, avoid)
		if err != nil {
			return err
		}
		bitting, r.Shown = got[0], got[0]
	} else if bitting, err = s.Models.CheckBitting("KW1", a.Evidence["bitting"]); err != nil {
		return err
	}
	if k, ok := bittings[bitting]; ok {
		switch {
		case !reveal:
			return Errorf(EINVALID, "A key with these cuts is already recorded on this site. A new key must differ: read the cuts again from the bow to the tip, use another blank, or let Latchkey generate cuts; someone who may reveal key cuts can key the lock alike with an existing key.")
		case k.ID == r.Params.OldKeyID:
			return Errorf(EINVALID, "That bitting is the key the lock takes now. Read the cuts off the new key again, from the bow to the tip.")
		case k.State != KeyActive:
			return Errorf(EUNSAFE, "That bitting is key %d (%s), which is %s: a lock must not learn a key that is lost or retired. Use another new key.", k.ID, k.Label, k.State)
		}
		r.Params.NewKeyID = k.ID // keyed alike with a key the site already has
		return nil
	}
	k := &Key{SiteID: door.SiteID, Label: "New key for " + first.Name + runKeySuffix(r.ID), Keyway: "KW1", State: KeyActive, CreatedAt: s.now()}
	// Whoever held the old key gets a copy of the new one (invariant 3: theirs are then
	// to be returned); with no holders on record, the new key is kept where it was cut.
	if r.Params.OldKeyID != 0 {
		old, err := tx.FindKeyByID(ctx, r.Params.OldKeyID)
		if err != nil {
			return err
		}
		for _, c := range old.Copies {
			if c.State == CopyHeld {
				k.Copies = append(k.Copies, KeyCopy{HolderID: c.HolderID, Location: c.Location, State: CopyHeld})
			}
		}
	}
	if len(k.Copies) == 0 {
		k.Copies = []KeyCopy{{Location: "with the person who did the rekey", State: CopyHeld}}
	}
	if err := k.Validate(); err != nil {
		return err
	}
	if s.Vault == nil {
		return Errorf(EUNAVAILABLE, "No vault is open to seal the key's bitting.")
	}
	if err := tx.CreateKey(ctx, k); err != nil {
		return err
	}
	if k.SealedBitting, err = s.Vault.Seal([]byte(bitting), keyAAD(k.ID)); err != nil {
		return fmt.Errorf("seal bitting: %w", err)
	}
	r.Params.NewKeyID = k.ID
	return tx.UpdateKey(ctx, k)
}

// testsAttested counts the tests of the new key confirmed from one side.
func (r *Run) testsAttested(side string) int {
	n := 0
	for i := 1; i <= RekeyTests; i++ {
		if r.attested(side+"_"+strconv.Itoa(i)) > 0 {
			n++
		}
	}
	return n
}

// rekeyInRun records the rekey of every lock of the run once the new key is proven
// (invariant 3): RekeyTests tests from each side, with the door open.
func (s *Service) rekeyInRun(ctx context.Context, tx Tx, r *Run, st *Step) error {
	if r.Params.NewKeyID == 0 {
		return Errorf(EINTERNAL, "Run %d has no new key recorded before its rekey.", r.ID)
	}
	out, in := r.testsAttested(AttestTestOutside), r.testsAttested(AttestTestInside)
	return s.eachLock(ctx, tx, r, st, func(l *Lock) error {
		if l.KeyID == r.Params.NewKeyID {
			return nil // recorded already
		}
		_, _, err := s.rekey(ctx, tx, Rekey{LockID: l.ID, KeyID: r.Params.NewKeyID, How: Rekeyed, Tests: min(out, in),
			BothSides: out >= RekeyTests && in >= RekeyTests, DoorOpen: r.attested(AttestDoorOpen) > 0,
			Note: fmt.Sprintf("Procedure run %d.", r.ID)})
		return err
	})
}

// keyLostInRun records the lost key lost: every lock it opens is exposed until rekeyed.
func (s *Service) keyLostInRun(ctx context.Context, tx Tx, r *Run) error {
	k, err := tx.FindKeyByID(ctx, r.Params.OldKeyID)
	if err != nil {
		return err
	}
	if k.State == KeyLost {
		return nil
	}
	k.State = KeyLost
	if err := tx.UpdateKey(ctx, k); err != nil {
		return err
	}
	return exposeLocks(ctx, tx, k.ID)
}

// batteryInRun records fresh batteries. A reading the engine took from the lock must
// not be low: a pack that still reads low is not fresh, or is in the wrong way round.
func (s *Service) batteryInRun(ctx context.Context, tx Tx, r *Run, st *Step, a *Advance) error {
	mv := 0
	if v := a.Evidence["battery_mv"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 || n > maxBatteryMV {
			return Errorf(EINVALID, "Battery reading %q is not a voltage in millivolts (e.g. 6200).", v)
		}
		mv = n
	}
	return s.eachLock(ctx, tx, r, st, func(l *Lock) error {
		if mv != 0 {
			if !fromEngine(ctx) {
				return Errorf(EINVALID, "The battery reading comes from the lock itself; confirm the swap, and Latchkey reads it.")
			}
			if mv <= LowBatteryMV {
				return Errorf(EUNSAFE, "%s still reads %.1f V after the swap: the batteries are not fresh, or one is in the wrong way round. Check them; report the step failed if they are right.", l.Name, float64(mv)/1000)
			}
			l.State.BatteryMV = mv
			if err := tx.UpdateLock(ctx, l); err != nil {
				return err
			}
		}
		note := "Batteries replaced with 4 fresh AA alkaline cells"
		if mv != 0 {
			note += fmt.Sprintf("; the lock reads %.1f V", float64(mv)/1000)
		}
		return tx.CreateServiceEntry(ctx, &ServiceEntry{LockID: l.ID, At: s.now(), Actor: ActorFromContext(ctx), Kind: ServiceBattery,
			Note: fmt.Sprintf("%s (procedure run %d).", note, r.ID)})
	})
}

// revokeGuestsInRun revokes, on a turnover, every code of a guest or a service person on
// the run's locks, and remembers which, to confirm each gone.
func (s *Service) revokeGuestsInRun(ctx context.Context, tx Tx, r *Run) error {
	if len(r.Params.Revoked) > 0 {
		return nil
	}
	seen := map[int64]bool{}
	for _, id := range r.LockIDs {
		grants, err := tx.FindGrants(ctx, GrantFilter{LockID: &id})
		if err != nil {
			return err
		}
		for _, g := range grants {
			if seen[g.CodeID] || g.Status == GrantRemoved {
				continue
			}
			seen[g.CodeID] = true
			c, err := tx.FindCodeByID(ctx, g.CodeID)
			if err != nil {
				return err
			}
			p, err := tx.FindPersonByID(ctx, c.PersonID)
			if err != nil {
				return err
			}
			if p.Role != RoleGuest && p.Role != RoleService {
				continue
			}
			r.Params.Revoked = append(r.Params.Revoked, c.ID)
			if c.Revoked {
				continue
			}
			if err := s.revoke(ctx, tx, c); err != nil {
				return err
			}
		}
	}
	return nil
}

// codesSettled refuses while a code of the lock is still on its way: with only, only
// those codes count (a turnover's revoked ones); without, every code on the lock that
// should be on it now (one whose window opens later waits for it, as it should).
func (s *Service) codesSettled(ctx context.Context, tx Tx, l *Lock, only []int64) error {
	grants, err := tx.FindGrants(ctx, GrantFilter{LockID: &l.ID})
	if err != nil {
		return err
	}
	door, err := tx.FindDoorByID(ctx, l.DoorID)
	if err != nil {
		return err
	}
	site, err := tx.FindSiteByID(ctx, door.SiteID)
	if err != nil {
		return err
	}
	waiting := 0
	for _, g := range grants {
		if only != nil && !slices.Contains(only, g.CodeID) || g.Status == GrantSet || g.Status == GrantRemoved {
			continue
		}
		if g.Status == GrantPending {
			c, err := tx.FindCodeByID(ctx, g.CodeID)
			if err != nil {
				return err
			}
			if !wantedOn(c, s.now(), site) {
				continue
			}
		}
		waiting++
	}
	if waiting > 0 {
		return Errorf(ECONFLICT, "%s has %s not yet confirmed by the lock; Latchkey goes on when the lock confirms %s.", l.Name, countOf(waiting, "code"), map[bool]string{true: "it", false: "them"}[waiting == 1])
	}
	return nil
}

// reportRun writes a turnover's report in each lock's service log: which codes were
// revoked and confirmed gone, and the rekey if there was one.
func (s *Service) reportRun(ctx context.Context, tx Tx, r *Run) error {
	var gone []string
	for _, id := range r.Params.Revoked {
		c, err := tx.FindCodeByID(ctx, id)
		if err != nil {
			return err
		}
		gone = append(gone, fmt.Sprintf("%q", c.Label))
	}
	report := "Turnover: no guest or service code was on these locks."
	if len(gone) > 0 {
		report = fmt.Sprintf("Turnover: %s revoked and confirmed gone from every lock: %s.", countOf(len(gone), "code"), strings.Join(gone, ", "))
	}
	if r.Params.NewKeyID != 0 {
		k, err := tx.FindKeyByID(ctx, r.Params.NewKeyID)
		if err != nil {
			return err
		}
		report += fmt.Sprintf(" Rekeyed to key %q; the old key's copies are to be returned.", k.Label)
	}
	r.Outcome = report
	return s.eachLock(ctx, tx, r, &Step{}, func(l *Lock) error { return s.logRun(ctx, tx, r, l, report) })
}
