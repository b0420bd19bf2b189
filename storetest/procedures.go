package storetest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
)

// rekeyPlan is a rekey plan of the shape the procedure engine makes: the door open, the
// new key recorded, the learn steps, the tests, then the rekey recorded.
func rekeyPlan(lockIDs ...int64) *latchkey.Run {
	tests := []string{latchkey.AttestDoorOpen, latchkey.AttestOldKeyFails}
	for _, side := range []string{latchkey.AttestTestOutside, latchkey.AttestTestInside} {
		for i := 1; i <= latchkey.RekeyTests; i++ {
			tests = append(tests, side+"_"+string(rune('0'+i)))
		}
	}
	return &latchkey.Run{Kind: latchkey.ProcedureRekey, Title: "Rekey", LockIDs: lockIDs, Steps: []latchkey.Step{
		{ID: "ready", Kind: latchkey.StepManual, Title: "Get ready", Attest: []string{latchkey.AttestDoorOpen, latchkey.AttestWorkingKey}, Abort: "Nothing changed."},
		{ID: "new-key", Kind: latchkey.StepManual, Title: "The new key", Evidence: []string{"bitting"}, Action: latchkey.ActionNewKey, Abort: "Nothing changed."},
		{ID: "learn", Kind: latchkey.StepManual, Title: "Learn", Tries: 1, EscalateTo: latchkey.EscalateLocksmith, Abort: "Test both keys."},
		{ID: "test", Kind: latchkey.StepVerify, Title: "Test", Attest: tests, Tries: 1, EscalateTo: latchkey.EscalateLocksmith, Abort: "Keep the door open."},
		{ID: "retire", Kind: latchkey.StepVerify, Title: "Retire the old key", Action: latchkey.ActionRecordRekey, Abort: "Keep the old key."},
	}}
}

// doSteps reports every step of a run done with what it asks for.
func doSteps(t *testing.T, s *latchkey.Service, r *latchkey.Run, evidence map[string]string, until string) *latchkey.Run {
	t.Helper()
	for {
		st, ok := r.Step()
		if !ok || st.ID == until {
			return r
		}
		var err error
		var ev map[string]string // what the step asks for, of what was given
		for _, name := range st.Evidence {
			if v, ok := evidence[name]; ok {
				if ev == nil {
					ev = map[string]string{}
				}
				ev[name] = v
			}
		}
		r, err = s.AdvanceRun(ctx(), r.ID, latchkey.Advance{Step: st.ID, Attest: st.Attest, Evidence: ev})
		must(t, err)
	}
}

// Runs: a rekey run goes step by step to its end and changes the records only once the
// new key is proven; a report is idempotent; steps are done only with what they ask for;
// a failure that may not be retried escalates with the state left behind; the plan is
// held to the invariants whatever made it; a stale copy of a run is not written.
func testProcedureRuns(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	l, p := newLock(t, s, "Side")
	holder := &latchkey.Person{Name: "Tenant", Role: latchkey.RoleTenant}
	must(t, s.CreatePerson(ctx(), holder))
	old := &latchkey.Key{SiteID: 1, Label: "Side key", Bitting: "35242", Copies: []latchkey.KeyCopy{{HolderID: p.ID}, {HolderID: holder.ID}}}
	must(t, s.CreateKey(ctx(), old))
	_, err := s.SetLockKey(ctx(), l.ID, old.ID)
	must(t, err)
	hasSmartKey := true
	_, err = s.UpdateLock(ctx(), l.ID, latchkey.LockUpdate{HasSmartKey: &hasSmartKey})
	must(t, err)

	r := rekeyPlan(l.ID)
	r.Params.OldKeyID = old.ID
	must(t, s.StartRun(ctx(), r))
	if r.ID == 0 || r.Status != latchkey.RunActive || r.Current != 0 || r.Version != 1 {
		t.Fatalf("a started run: %+v", r)
	}
	// One procedure at a time on a lock.
	wantCode(t, s.StartRun(ctx(), rekeyPlan(l.ID)), latchkey.ECONFLICT)
	// What the step asks for, or nothing.
	_, err = s.AdvanceRun(ctx(), r.ID, latchkey.Advance{Step: "ready", Attest: []string{latchkey.AttestWorkingKey}})
	wantCode(t, err, latchkey.EINVALID)
	_, err = s.AdvanceRun(ctx(), r.ID, latchkey.Advance{Step: "learn"})
	wantCode(t, err, latchkey.ECONFLICT)
	r = doSteps(t, s, r, map[string]string{"bitting": "11111"}, "learn")
	again, err := s.AdvanceRun(ctx(), r.ID, latchkey.Advance{Step: "ready", Attest: r.Steps[0].Attest})
	must(t, err)
	if again.Current != r.Current || again.Version != r.Version {
		t.Fatalf("a repeated report moved the run: %d/%d, was %d/%d", again.Current, again.Version, r.Current, r.Version)
	}
	if r.Params.NewKeyID == 0 || r.Params.NewKeyID == old.ID {
		t.Fatalf("the new key was not recorded: %+v", r.Params)
	}
	newKey, err := s.FindKeyByID(ctx(), r.Params.NewKeyID)
	must(t, err)
	if len(newKey.Copies) != 2 || newKey.Copies[1].HolderID != holder.ID {
		t.Fatalf("the new key's copies %+v: one for each holder of the old", newKey.Copies)
	}
	// Make before break: until the tests pass the lock still takes the old key.
	if got, _ := s.FindLockByID(ctx(), l.ID); got.KeyID != old.ID {
		t.Fatalf("the lock takes key %d before the new key was tested", got.KeyID)
	}
	r = doSteps(t, s, r, nil, "")
	if r.Status != latchkey.RunDone || r.EndedAt == nil {
		t.Fatalf("the run after its last step: %s", r.Status)
	}
	got, err := s.FindLockByID(ctx(), l.ID)
	must(t, err)
	oldNow, err := s.FindKeyByID(ctx(), old.ID)
	must(t, err)
	if got.KeyID != newKey.ID || oldNow.State != latchkey.KeyRetired || oldNow.Copies[0].State != latchkey.CopyToReturn {
		t.Fatalf("after the rekey: lock key %d, old key %s, copy %s", got.KeyID, oldNow.State, oldNow.Copies[0].State)
	}
	stored, err := s.FindRunByID(ctx(), r.ID)
	must(t, err)
	if b, _ := json.Marshal(stored); strings.Contains(string(b), "11111") || len(stored.Records) != len(stored.Steps) {
		t.Fatalf("the stored run holds the bitting, or not every step: %s", b)
	}
	done := latchkey.RunDone
	runs, total, err := s.FindRuns(ctx(), latchkey.RunFilter{LockID: &l.ID, Status: &done}, latchkey.Page{})
	must(t, err)
	if total != 1 || runs[0].ID != r.ID {
		t.Fatalf("runs of the lock: %d", total)
	}

	// A step keeps only the evidence it asks for: a PIN typed in the wrong place is refused,
	// never stored where every reader of the run would see it.
	stray := rekeyPlan(l.ID)
	stray.Params.OldKeyID = newKey.ID
	must(t, s.StartRun(ctx(), stray))
	_, err = s.AdvanceRun(ctx(), stray.ID, latchkey.Advance{Step: "ready", Attest: stray.Steps[0].Attest, Evidence: map[string]string{"pin": "4321"}})
	wantCode(t, err, latchkey.EINVALID)
	_, err = s.AbortRun(ctx(), stray.ID, "testing")
	must(t, err)
	if err := s.StartRun(ctx(), &latchkey.Run{Kind: latchkey.ProcedureBattery, Title: "x", LockIDs: []int64{l.ID, l.ID},
		Steps: []latchkey.Step{{ID: "a", Kind: latchkey.StepManual, Abort: "-"}}}); latchkey.ErrorCode(err) != latchkey.EINVALID {
		t.Fatalf("a run naming a lock twice: %v", err)
	}

	// Someone who may not reveal key cuts learns nothing of the site's: a typed bitting the
	// site has is refused without naming the key, and the answers are counted.
	installer := as(latchkey.UserInstaller, 9)
	probe := rekeyPlan(l.ID)
	probe.Params.OldKeyID = newKey.ID
	must(t, s.StartRun(installer, probe))
	probe = doSteps(t, s, probe, nil, "new-key")
	_, err = s.AdvanceRun(installer, probe.ID, latchkey.Advance{Step: "new-key", Evidence: map[string]string{"bitting": "35242"}})
	wantCode(t, err, latchkey.EINVALID)
	if msg := latchkey.ErrorMessage(err); strings.Contains(msg, old.Label) || strings.Contains(msg, "35242") {
		t.Fatalf("the refusal names the key: %s", msg)
	}
	_, err = s.AbortRun(installer, probe.ID, "probing")
	must(t, err)

	// A learn step that fails escalates at once: nobody forces a cylinder.
	r2 := rekeyPlan(l.ID)
	r2.Params.OldKeyID = newKey.ID
	r2.Contacts = []string{"Kwikset support: 1-800-327-5625"}
	must(t, s.StartRun(ctx(), r2))
	r2 = doSteps(t, s, r2, map[string]string{"bitting": "22222"}, "learn")
	r2, err = s.AdvanceRun(ctx(), r2.ID, latchkey.Advance{Step: "learn", Failed: true, Note: "the new key does not turn"})
	must(t, err)
	got, _ = s.FindLockByID(ctx(), l.ID)
	if r2.Status != latchkey.RunEscalated || r2.Escalation == nil || r2.Escalation.To != latchkey.EscalateLocksmith || got.Status != latchkey.LockNeedsLocksmith {
		t.Fatalf("a failed learn step: run %s, lock %s", r2.Status, got.Status)
	}
	if got.KeyID != newKey.ID || !strings.Contains(strings.Join(r2.Escalation.StateLeft, " "), newKey.Label) || len(r2.Escalation.Contacts) != 1 {
		t.Fatalf("the escalation does not say which key the records keep: %+v", r2.Escalation)
	}
	if k, _ := s.FindKeyByID(ctx(), r2.Params.NewKeyID); k.State != latchkey.KeyRetired {
		t.Fatalf("the new key of a run that stopped is %s; no lock takes it", k.State)
	}
	_, err = s.AdvanceRun(ctx(), r2.ID, latchkey.Advance{Step: "test"})
	wantCode(t, err, latchkey.ECONFLICT)
	// A lock waiting for a locksmith is not rekeyed again.
	wantCode(t, s.StartRun(ctx(), rekeyPlan(l.ID)), latchkey.EUNSAFE)

	// Invariant 4 and 5 at the start, whatever the plan.
	l2 := &latchkey.Lock{DoorID: l.DoorID, Name: "Unknown"}
	must(t, s.CreateLock(ctx(), l2))
	wantCode(t, s.StartRun(ctx(), &latchkey.Run{Kind: latchkey.ProcedureBattery, Title: "x", LockIDs: []int64{l2.ID},
		Steps: []latchkey.Step{{ID: "a", Kind: latchkey.StepManual, Abort: "-"}}}), latchkey.EUNSAFE)
	c, _ := connectedLock(t, s, "Garage", "garage")
	// Invariant 6: a connected lock's reset plan takes it off the hub first.
	resetRun := &latchkey.Run{Kind: latchkey.ProcedureReset, Title: "x", LockIDs: []int64{c.ID}, Steps: []latchkey.Step{
		{ID: "reset", Kind: latchkey.StepManual, Action: latchkey.ActionResetDone, Abort: "-"},
		{ID: "back", Kind: latchkey.StepAuto, Auto: latchkey.AutoReprovision, Action: latchkey.ActionReprovision, Abort: "-"}}}
	wantCode(t, s.StartRun(ctx(), resetRun), latchkey.EINTERNAL)
	_, err = s.RecordDeviceEvent(ctx(), latchkey.DeviceEvent{Driver: latchkey.DriverSim, Address: "garage", Kind: latchkey.EventLowBattery, BatteryMV: 4600})
	must(t, err)
	codeRun := &latchkey.Run{Kind: latchkey.ProcedureCode, Title: "x", LockIDs: []int64{c.ID}, Steps: []latchkey.Step{{ID: "a", Kind: latchkey.StepManual, Abort: "-"}}}
	wantCode(t, s.StartRun(ctx(), codeRun), latchkey.EUNSAFE)

	// An automatic step is the engine's to report.
	batteryRun := &latchkey.Run{Kind: latchkey.ProcedureBattery, Title: "Battery", LockIDs: []int64{c.ID}, Steps: []latchkey.Step{
		{ID: "swap", Kind: latchkey.StepManual, Attest: []string{latchkey.AttestBatteries}, Abort: "Put the old pack back."},
		{ID: "read", Kind: latchkey.StepAuto, Auto: latchkey.AutoReadBattery, Action: latchkey.ActionBatterySwapped, Evidence: []string{"battery_mv"}, Abort: "-"}}}
	must(t, s.StartRun(ctx(), batteryRun))
	batteryRun = doSteps(t, s, batteryRun, nil, "read")
	_, err = s.AdvanceRun(ctx(), batteryRun.ID, latchkey.Advance{Step: "read", Evidence: map[string]string{"battery_mv": "6300"}})
	wantCode(t, err, latchkey.EINVALID)
	engine := latchkey.NewEngineContext(ctx())
	_, err = s.AdvanceRun(engine, batteryRun.ID, latchkey.Advance{Step: "read", Evidence: map[string]string{"battery_mv": "4500"}})
	wantCode(t, err, latchkey.EUNSAFE)
	batteryRun, err = s.AdvanceRun(engine, batteryRun.ID, latchkey.Advance{Step: "read", Evidence: map[string]string{"battery_mv": "6300"}})
	must(t, err)
	if got, _ := s.FindLockByID(ctx(), c.ID); batteryRun.Status != latchkey.RunDone || got.State.LowBattery() {
		t.Fatalf("after the battery swap: run %s, battery %d mV", batteryRun.Status, got.State.BatteryMV)
	}
	must(t, s.StartRun(ctx(), codeRun)) // power first, then programming

	// A stale copy is not written over a newer one.
	must(t, store.Update(ctx(), func(tx latchkey.Tx) error {
		a, err := tx.FindRunByID(ctx(), codeRun.ID)
		if err != nil {
			return err
		}
		b := *a
		a.Outcome = "first"
		if err := tx.UpdateRun(ctx(), a); err != nil {
			return err
		}
		b.Outcome = "second"
		wantCode(t, tx.UpdateRun(ctx(), &b), latchkey.ECONFLICT)
		return nil
	}))
}
