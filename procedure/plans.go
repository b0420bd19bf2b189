package procedure

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/catalog"
)

// A plan is made for the exact model of each lock from the catalog's sequences (SPEC §3
// invariant 4): the maker's steps, in the maker's words, with the timeouts and button
// names of that model, wrapped in the checks Latchkey adds (the door open, the new key
// tested before the old one goes, the codes read back after a reset).

// planInput is what a plan is made from.
type planInput struct {
	req   latchkey.ProcedureRequest
	locks []*latchkey.Lock
	model *catalog.Model // the first lock's model; nil when unidentified
	// For a rekey or a lost key: the key the locks take now, and who holds its copies.
	oldKey  *latchkey.Key
	holders []string
	// For a code procedure: the code and its slot on the lock.
	code *latchkey.Code
	slot int
	// For a reset: how many codes go back on.
	codes int
}

// sequenceSteps renders a catalog sequence as steps: the maker's instruction, what to
// see, the caution, and where the sources disagree. Steps only for a lock on a hub are
// left out when skipHub is set (the plan does them through the hub instead).
func (p *Planner) sequenceSteps(seqID, prefix string, lockID int64, vars map[string]string, skipHub bool) ([]latchkey.Step, error) {
	seq, ok := p.Catalog.Sequences[seqID]
	if !ok {
		return nil, latchkey.Errorf(latchkey.EINTERNAL, "The catalog has no sequence %q.", seqID)
	}
	fill := func(s string) string {
		for k, v := range vars {
			s = strings.ReplaceAll(s, "{"+k+"}", v)
		}
		return s
	}
	var steps []latchkey.Step
	for i, cs := range seq.Steps {
		if cs.When == "connected" && skipHub {
			continue
		}
		st := latchkey.Step{
			ID: fmt.Sprintf("%s-%d", prefix, i+1), Kind: latchkey.StepManual, LockID: lockID,
			Title: fmt.Sprintf("%s: step %d", seq.Name, i+1), Do: fill(cs.Do), Expect: fill(cs.Expect), Caution: fill(cs.Caution),
			Unconfirmed: cs.Unconfirmed, WaitS: cs.WaitS, Sequence: seqID, Sources: seq.Sources,
		}
		if seq.Confidence != "" && seq.Confidence != catalog.Official {
			st.Unconfirmed = strings.TrimSpace(st.Unconfirmed + " " + seq.Note)
		}
		steps = append(steps, st)
	}
	return steps, nil
}

// rekeySteps are the steps that rekey one cylinder, from the catalog's rekey sequence,
// ending with the tests and the record of the rekey. A mistake at the learn steps
// escalates at once: a cylinder that does not turn is never forced (invariant 8).
func (p *Planner) rekeySteps(l *latchkey.Lock, n int) ([]latchkey.Step, error) {
	prefix := "rekey"
	if n > 0 {
		prefix = fmt.Sprintf("rekey%d", n+1)
	}
	steps, err := p.sequenceSteps("rekey", prefix, l.ID, nil, false)
	if err != nil {
		return nil, err
	}
	if len(steps) != 6 {
		return nil, latchkey.Errorf(latchkey.EINTERNAL, "The catalog's rekey sequence has %d steps; Latchkey knows it as six.", len(steps))
	}
	for i := range steps {
		st := &steps[i]
		st.Title = [...]string{"Door open, bolt out", "Working key in, a quarter turn", "SmartKey tool in, and out", "Working key out", "New key in, half a turn back", "Test the new key"}[i]
		st.Title += " (" + l.Name + ")"
		st.Abort = "Nothing is recorded yet: the lock still takes the old key. Take the keys and the tool out with the plug at vertical; if the old key no longer turns, stop and call a locksmith: do not force it."
		st.EscalateTo, st.Picture = latchkey.EscalateLocksmith, "key"
		switch i {
		case 0:
			st.Attest = []string{latchkey.AttestDoorOpen}
		case 2, 3, 4:
			st.Tries = 1 // a misstep here scrambles the cylinder: no second try on a scrambled one
		case 5:
			st.Kind, st.Tries = latchkey.StepVerify, 1
			st.Attest = []string{latchkey.AttestDoorOpen, latchkey.AttestOldKeyFails}
			for _, side := range []string{latchkey.AttestTestOutside, latchkey.AttestTestInside} {
				for t := 1; t <= latchkey.RekeyTests; t++ {
					st.Attest = append(st.Attest, side+"_"+strconv.Itoa(t))
				}
			}
			st.Abort = "The cylinder may have learned the new key: keep the door open and try both keys from both sides. If neither turns, the cylinder is scrambled: call a locksmith."
		}
	}
	steps = append(steps, latchkey.Step{
		ID: prefix + "-record", Kind: latchkey.StepVerify, LockID: l.ID, Title: "Record the new key (" + l.Name + ")",
		Do:     "The new key worked " + strconv.Itoa(latchkey.RekeyTests) + " times from each side with the door open. Latchkey now records that " + l.Name + " takes the new key; the old key is retired once no lock takes it, and every copy of it is listed to be returned.",
		Action: latchkey.ActionRecordRekey, Abort: "The lock takes the new key: if you stop here, record its rekey on the lock's page (\"Record a rekey or a new cylinder\") so the records name the key that opens it.",
	})
	return steps, nil
}

// rekeyPlan rekeys one or more locks keyed alike to one new key.
func (p *Planner) rekeyPlan(in planInput, lost bool) ([]latchkey.Step, error) {
	var steps []latchkey.Step
	holders := "nobody on record"
	if len(in.holders) > 0 {
		holders = strings.Join(in.holders, ", ")
	}
	names := lockNames(in.locks)
	if lost {
		steps = append(steps, latchkey.Step{
			ID: "lost", Kind: latchkey.StepManual, Title: "Record the key lost",
			Do:     fmt.Sprintf("Key %q is recorded lost: %s stay marked exposed until each is rekeyed to a new key. Its other copies are held by: %s; they get copies of the new key.", in.oldKey.Label, names, holders),
			Action: latchkey.ActionMarkKeyLost, Abort: "The key stays recorded lost and its locks exposed: rekey them when you can.",
		})
	}
	steps = append(steps,
		latchkey.Step{
			ID: "ready", Kind: latchkey.StepManual, Title: "Get ready",
			Do:     fmt.Sprintf("At %s, have at hand: the key that opens it today, the SmartKey tool (a paper clip will not do), and the new KW1 key. Open the door and keep it open until the new key has been tested.", names),
			Attest: []string{latchkey.AttestWorkingKey, latchkey.AttestTool, latchkey.AttestNewKey, latchkey.AttestDoorOpen},
			Abort:  "Nothing changed yet.", EscalateTo: latchkey.EscalateLocksmith,
			Caution: "Without the working key a SmartKey cylinder cannot be rekeyed by you: a locksmith (or Kwikset support) can.",
		},
		latchkey.Step{
			ID: "new-key", Kind: latchkey.StepManual, Title: "The new key's cuts", Picture: "key",
			Do:       "Read the five cut depths off the new key, from the bow to the tip (stamped on some keys, or measured with a key gauge), or let Latchkey generate cuts clear of every key on the site and have a key cut to them (shown once).",
			Evidence: []string{"bitting"}, Action: latchkey.ActionNewKey,
			Abort: "Nothing changed on the lock; the new key's record is retired if no lock comes to take it.",
		})
	for i, l := range in.locks {
		rs, err := p.rekeySteps(l, i)
		if err != nil {
			return nil, err
		}
		steps = append(steps, rs...)
	}
	return steps, nil
}

func lockNames(locks []*latchkey.Lock) string {
	names := make([]string, len(locks))
	for i, l := range locks {
		names[i] = l.Name
	}
	if len(names) > 1 {
		return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
	}
	return names[0]
}

// batteryPlan swaps the batteries; a lock on a hub then reads its battery back.
func (p *Planner) batteryPlan(in planInput) []latchkey.Step {
	l := in.locks[0]
	pack, _ := in.model.Batteries.Get("4 AA alkaline")
	steps := []latchkey.Step{
		{ID: "ready", Kind: latchkey.StepManual, Title: "Get ready",
			Do:     fmt.Sprintf("Have fresh batteries at hand for %s (%s), and a key that opens it. Open the door and keep it open: while the batteries are out, the keypad does not open it.", l.Name, pack),
			Attest: []string{latchkey.AttestBatteries, latchkey.AttestDoorOpen}, Abort: "Nothing changed."},
		{ID: "swap", Kind: latchkey.StepManual, Title: "Swap the batteries",
			Do:      "Take off the interior assembly's battery cover, take the old pack out, put every cell in fresh (as the pack's marks show), and put the pack and the cover back.",
			Expect:  "the lock beeps or flashes as it powers up; codes stay in memory",
			Caution: "Do not mix old and new cells, or alkaline with rechargeable ones.",
			Abort:   "Put the pack back in, old or new, so the lock has power.", EscalateTo: latchkey.EscalateSupport},
	}
	if l.Connection.Driver != latchkey.DriverNone {
		steps = append(steps, latchkey.Step{ID: "read", Kind: latchkey.StepAuto, Auto: latchkey.AutoReadBattery, Title: "Read the battery back",
			Do:       "Latchkey wakes the lock through its hub and reads the battery: it must no longer be low.",
			Evidence: []string{"battery_mv"}, Action: latchkey.ActionBatterySwapped, Tries: 3, EscalateTo: latchkey.EscalateSupport,
			Abort: "The batteries are in; the reading is not. Check the lock's page later."})
	} else {
		steps = append(steps, latchkey.Step{ID: "check", Kind: latchkey.StepVerify, Title: "Check it works",
			Do:     "Lock and unlock once with a code or the key. The status LED must not blink red (low battery).",
			Attest: []string{"lock_works"}, Action: latchkey.ActionBatterySwapped, EscalateTo: latchkey.EscalateSupport,
			Abort: "The batteries are in; if the LED still blinks red, try another fresh set."})
	}
	return steps
}

// resetPlan factory-resets one lock with its model's sequence: off its hub first where
// it can be (invariant 6), the reset, the door handing, back on the hub, every code put
// back and read back.
func (p *Planner) resetPlan(in planInput) ([]latchkey.Step, error) {
	l, m := in.locks[0], in.model
	seqID, ok := m.Reset.Get("")
	if seqID == "" {
		return nil, latchkey.Errorf(latchkey.EINVALID, "The catalog has no factory reset for the %s: ask Kwikset support how to reset it (%s).", m.Name, p.contacts()[0])
	}
	connected := l.Connection.Driver != latchkey.DriverNone
	steps := []latchkey.Step{{ID: "ready", Kind: latchkey.StepManual, Title: "Get ready",
		Do:     fmt.Sprintf("A factory reset deletes every code on %s and its place on the hub. Have a key that opens it (or keep the door open), and the SmartKey tool or a paper clip for the Program button. Open the door and keep it open.", l.Name),
		Attest: []string{latchkey.AttestDoorOpen, latchkey.AttestWorkingKey}, Abort: "Nothing changed."}}
	if !ok {
		steps[0].Unconfirmed = "The catalog does not confirm which reset this model takes; Latchkey assumes " + seqID + "."
	}
	// The hub the lock is on says how it leaves and joins; a model with both radios is
	// on the one its connection names (the twins' hubs are told by the model).
	zigbee := l.Connection.Driver == latchkey.DriverZigbee2MQTT ||
		l.Connection.Driver != latchkey.DriverZWaveJS && m.HasRadio(catalog.RadioZigbee) && !m.HasRadio(catalog.RadioZWave)
	if connected {
		do, seq := "Latchkey puts the hub in remove mode. Press button A on the interior assembly once.", "zwave-exclude"
		if zigbee {
			do, seq = "Latchkey asks the Zigbee coordinator to remove the lock; there is nothing to press.", ""
		}
		steps = append(steps, latchkey.Step{ID: "exclude", Kind: latchkey.StepAuto, Auto: latchkey.AutoExclude, Title: "Take it off the hub",
			Do: do, Expect: "the hub reports the lock removed", Action: latchkey.ActionRemovedFromHub, Sequence: seq,
			Abort: "Nothing changed on the lock. If the hub cannot be reached, Kwikset allows the reset without it: skip this step.", EscalateTo: latchkey.EscalateSupport})
	}
	seq, err := p.sequenceSteps(seqID, "reset", l.ID, nil, true)
	if err != nil {
		return nil, err
	}
	for i := range seq {
		seq[i].Abort = "Put the battery pack back in if it is out. The lock may be half reset: test a code; if it no longer works, finish the reset, or call Kwikset support."
		seq[i].EscalateTo = latchkey.EscalateSupport
		if strings.Contains(seq[i].Do, "door handing") || strings.Contains(seq[i].Expect, "door handing") {
			seq[i].Kind = latchkey.StepVerify
			seq[i].Attest = []string{latchkey.AttestBoltMoved, latchkey.AttestDoorOpen}
			seq[i].Caution = "Keep the door open while the bolt moves: a bolt thrown into a closed frame fails the door handing."
		}
	}
	steps = append(steps, seq...)
	steps = append(steps, latchkey.Step{ID: "reset-check", Kind: latchkey.StepVerify, Title: "Check the reset took",
		Do:     "Try a code that worked before: it must no longer open the lock.",
		Attest: []string{latchkey.AttestCodeFails}, Action: latchkey.ActionResetDone, EscalateTo: latchkey.EscalateSupport, Retry: seq[0].ID,
		Abort: "If the old code still works, the reset did not take: run the sequence again (reporting this step failed takes you back to its start), or call Kwikset support."})
	if connected {
		steps = append(steps,
			latchkey.Step{ID: "include", Kind: latchkey.StepAuto, Auto: latchkey.AutoInclude, Title: "Put it back on the hub",
				Do: map[bool]string{false: "Latchkey puts the hub in add mode. Press button A on the interior assembly once.",
					true: "Latchkey has the Zigbee coordinator permit joining. Press button A on the interior assembly four times."}[zigbee],
				Expect: "the hub reports the lock added", Sequence: map[bool]string{false: "zwave-include", true: "zigbee-pair"}[zigbee],
				Abort: "The lock is reset and off the hub: it stays quarantined until it is back and its codes are put back.", EscalateTo: latchkey.EscalateSupport},
			latchkey.Step{ID: "reprovision", Kind: latchkey.StepAuto, Auto: latchkey.AutoReprovision, Title: "Put the codes back",
				Do:     fmt.Sprintf("Latchkey puts back the %s that should be on the lock, from its records.", countOf(in.codes, "code")),
				Action: latchkey.ActionReprovision, Abort: "The codes go back on as soon as the lock answers."},
			latchkey.Step{ID: "codes-back", Kind: latchkey.StepAuto, Auto: latchkey.AutoAwaitCodes, Title: "Codes read back",
				Do:     "Latchkey waits until the lock has confirmed every code (read back through the hub).",
				Action: latchkey.ActionCodesSet, Abort: "The codes keep going on without you: the lock's page shows each one."})
	} else {
		// No hub puts the codes back: the records say they are to be programmed again
		// (pending, out of quarantine), and a code procedure for each guides the keypad
		// and confirms it. Left quarantined with its codes recorded set, the lock could
		// take no code procedure, no confirmation and no reprovision.
		steps = append(steps, latchkey.Step{ID: "codes-back", Kind: latchkey.StepManual, Title: "Program the codes again",
			Do: fmt.Sprintf("%s is not on a hub, so its %s go back on at the keypad. Once this step is done, each is recorded as to program again: then add each with a code procedure on %s (it guides the keypad and the test), and until then rely on the key.",
				l.Name, countOf(in.codes, "code"), l.Name),
			Action: latchkey.ActionReprovision, Abort: "The lock holds no codes until they are programmed again; the records keep it quarantined until this step is done."})
	}
	return steps, nil
}

// codePlan adds or removes one code at the keypad with the model's button sequence, or
// through the hub, and confirms it.
func (p *Planner) codePlan(in planInput) ([]latchkey.Step, error) {
	l, m := in.locks[0], in.model
	add := in.req.CodeOp != "remove"
	if l.Connection.Driver != latchkey.DriverNone {
		verb := "puts the code on"
		if !add {
			verb = "takes the code off"
		}
		return []latchkey.Step{{ID: "hub", Kind: latchkey.StepAuto, Auto: latchkey.AutoAwaitCodes, Title: "Through the hub",
			Do:     fmt.Sprintf("The sync engine %s %s through its hub and reads the slot back.", verb, l.Name),
			Action: latchkey.ActionCodesSet, Abort: "The sync engine keeps at it; the code's page shows where it stands."}}, nil
	}
	style, _ := m.Programming.Get("")
	seqs := map[string][2]string{
		catalog.ProgramPosition:   {"position-add", "position-delete"},
		catalog.ProgramMastercode: {"mastercode-add", "mastercode-delete"},
		catalog.ProgramMenu:       {"menu-add", "menu-delete"},
	}[style]
	if seqs[0] == "" {
		return nil, latchkey.Errorf(latchkey.EINVALID, "The %s has no keypad programming sequence Latchkey can guide (%s): put it on a hub, or use the maker's app.", m.Name, orUnknown(style))
	}
	seqID := seqs[0]
	if !add {
		seqID = seqs[1]
	}
	timeout, _ := m.ProgrammingTimeoutS.Get(5)
	lo, _ := m.CodeMin.Get(4)
	hi, _ := m.CodeMax.Get(8)
	vars := map[string]string{"slot": strconv.Itoa(in.slot), "timeout_s": strconv.Itoa(timeout), "min": strconv.Itoa(lo), "max": strconv.Itoa(hi)}
	steps, err := p.sequenceSteps(seqID, "keypad", l.ID, vars, false)
	if err != nil {
		return nil, err
	}
	for i := range steps {
		steps[i].Picture, steps[i].EscalateTo = "keypad", latchkey.EscalateSupport
		steps[i].Abort = fmt.Sprintf("Stop pressing; after %d seconds the lock leaves programming by itself. Test the code to see where it stands.", timeout)
	}
	// A test that fails sends the person back to the sequence's start, as the maker's
	// guides do after two beeps (timed out) or a red flash.
	test := latchkey.Step{ID: "test", Kind: latchkey.StepVerify, Title: "Test the code", Action: latchkey.ActionConfirmCode, EscalateTo: latchkey.EscalateSupport, Retry: steps[0].ID}
	if add {
		test.Do, test.Attest = fmt.Sprintf("With the door open, enter %q's code at the keypad: it must open the lock.", in.code.Label), []string{latchkey.AttestCodeWorks, latchkey.AttestDoorOpen}
		test.Abort = "If it does not open, the code is not on the lock: the records keep it pending."
		steps[0].Do += " The code itself: ask its holder, or someone who may reveal codes (code " + strconv.FormatInt(in.code.ID, 10) + ", its Reveal button on the codes page); Latchkey does not show it here."
	} else {
		test.Do, test.Attest = fmt.Sprintf("Enter %q's old code at the keypad: it must no longer open the lock.", in.code.Label), []string{latchkey.AttestCodeFails}
		test.Abort = "If it still opens, the code is still on the lock: the records keep it as being removed (revocation pending)."
	}
	return append(steps, test), nil
}

func orUnknown(s string) string {
	if s == "" {
		return "its programming style is not confirmed"
	}
	return s
}

// turnoverPlan ends a stay: guests' and service people's codes off the locks and
// confirmed gone, optionally a rekey, and a report.
func (p *Planner) turnoverPlan(in planInput) ([]latchkey.Step, error) {
	names := lockNames(in.locks)
	steps := []latchkey.Step{
		{ID: "guests-out", Kind: latchkey.StepManual, Title: "The stay is over",
			Do:     fmt.Sprintf("Check that the guests have left %s and that the keys lent to them are back.", names),
			Attest: []string{"guests_out"}, Abort: "Nothing changed."},
		{ID: "revoke", Kind: latchkey.StepAuto, Auto: latchkey.AutoRevoke, Title: "Revoke the guests' codes",
			Do:     "Latchkey revokes every code of a guest or a service person on these locks; the sync engine takes each one off.",
			Action: latchkey.ActionRevokeGuests, Abort: "The codes revoked so far stay revoked; the sync engine keeps removing them."},
		{ID: "gone", Kind: latchkey.StepAuto, Auto: latchkey.AutoAwaitGone, Title: "Confirmed gone",
			Do:     "Latchkey waits until every lock has confirmed each revoked code gone. Until then the code shows as revocation pending, is retried, and an alert goes out if it opens the door.",
			Action: latchkey.ActionCodesGone, Abort: "Revocation stays pending until each lock confirms; the codes' pages show it."},
	}
	if in.req.Rekey {
		var smart []*latchkey.Lock
		for _, l := range in.locks {
			if l.HasSmartKey {
				smart = append(smart, l)
			}
		}
		if len(smart) == 0 {
			return nil, latchkey.Errorf(latchkey.EINVALID, "None of %s has a SmartKey cylinder to rekey; start the turnover without the rekey.", names)
		}
		rekey, err := p.rekeyPlan(planInput{req: in.req, locks: smart, oldKey: in.oldKey, holders: in.holders}, false)
		if err != nil {
			return nil, err
		}
		steps = append(steps, rekey...)
	}
	return append(steps, latchkey.Step{ID: "report", Kind: latchkey.StepVerify, Title: "Report",
		Do:     "The turnover is recorded in each lock's service log: the codes revoked and confirmed gone" + map[bool]string{true: ", the rekey,", false: ""}[in.req.Rekey] + " and who did it.",
		Action: latchkey.ActionReport, Abort: "Everything above is recorded already."}), nil
}

// identifyPlan asks what the lock looks like, then which of the fitting models it is.
func (p *Planner) identifyPlan(in planInput) []latchkey.Step {
	return []latchkey.Step{
		{ID: "look", Kind: latchkey.StepManual, Title: "Look at the lock", Picture: "keypad",
			Optional: []string{"keypad", "radio", "smartkey_hole", "handle"},
			Do:       "Answer what you can see; leave out what you do not know. Keypad: none, 5-button, 10-button, touchscreen, kwikset-menu (digits plus a Kwikset-logo button) or fingerprint. Radio (on the label or the box): zwave, zigbee, wifi, ble, matter or none. SmartKey hole (a small slot beside the keyway): yes or no. Handle: deadbolt, lever, knob or conversion-kit.",
			Abort:    "Nothing changed."},
		{ID: "choose", Kind: latchkey.StepManual, Title: "Which one is it",
			Do: "These models fit your answers, best first. Compare the name on the interior assembly's label or the box, and choose. If none of them is it, say so (the step did not work): the questions are asked again.",
			// None fits: the answers were wrong, so a failure asks them again.
			Evidence: []string{"model"}, Action: latchkey.ActionIdentify, Retry: "look", Abort: "The lock stays unidentified."},
	}
}

func countOf(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}
