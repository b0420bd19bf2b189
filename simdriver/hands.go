package simdriver

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/keying"
	"github.com/latchkey/latchkey/sim"
)

// Mistakes the virtual hands make on purpose: the classic ones of issue 11 and facts
// §1.3, §3.5, §3.6. Each is made once in a run, at the first step it fits.
const (
	MistakeKeyNotFull   = "key_not_full"         // the new key not fully inserted in learn mode: scrambled
	MistakeToolPartial  = "tool_partial"         // the SmartKey tool not fully inserted: scrambled
	MistakeToolLate     = "tool_late"            // the tool pushed in after the working key came out: no learn mode
	MistakeWrongWay     = "wrong_way"            // the new key turned clockwise first: refused, then turned right
	MistakeEarlyRelease = "reset_released_early" // Program let go before 30 s: no reset
	MistakeDoorClosed   = "door_closed_handing"  // the door shut while the bolt learns its hand
	MistakeWrongButtons = "wrong_buttons"        // Lock pressed before the code when programming: nothing stored
)

var mistakes = []string{MistakeKeyNotFull, MistakeToolPartial, MistakeToolLate, MistakeWrongWay, MistakeEarlyRelease, MistakeDoorClosed, MistakeWrongButtons}

// Hands are virtual hands on the twins: they do a procedure's manual steps as a person
// at the door would, through the twins' own actions (keys, tool, buttons, battery
// pack), and report what a person would see. They satisfy procedure.Hands.
type Hands struct {
	Driver *Driver
	// Locks and Cylinders name, by lock id, the lock twin (its keypad, battery and
	// buttons) and the SmartKey cylinder twin of each lock the hands may work on.
	Locks     map[int64]string
	Cylinders map[int64]string
	// PINs are the codes the hands know, by code id: a person programs at a keypad only
	// a code they were told (Latchkey does not show it in a procedure).
	PINs map[int64]string
	// Pace is how long the hands take over a step, in real time, so that someone
	// watching the demo can follow them (0 in tests).
	Pace time.Duration

	mu      sync.Mutex
	newKeys map[string]keying.Bitting // the new key each run's hands hold, by run and try
	oldKeys map[string]keying.Bitting // the key each cylinder took when the run began
	made    map[int64]bool            // the run's mistake is made
	reports map[pass]latchkey.Advance // each step done, by the run's version it was asked at
}

// pass is one request to do a step: the run, the step and the run's version then. A
// server that went down after the hands did a step, before it recorded their report,
// asks again at the same version; a sequence done again from its start (a reset that
// did not take) asks at a later one.
type pass struct {
	run     int64
	step    string
	version int
}

// Mistakes lists the mistakes the hands can make on purpose.
func (h *Hands) Mistakes() []string { return slices.Clone(mistakes) }

// mistake reports whether the run's mistake is name and still to be made, and marks it
// made.
func (h *Hands) mistake(r *latchkey.Run, name string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if r.Params.Mistake != name || h.made[r.ID] {
		return false
	}
	if h.made == nil {
		h.made = map[int64]bool{}
	}
	h.made[r.ID] = true
	return true
}

// newKey is the key the hands brought for a run's rekey: a KW1 key cut clear of the
// cylinder's key.
func (h *Hands) newKey(r *latchkey.Run, old keying.Bitting) (keying.Bitting, error) {
	// A key refused at the new-key step (the site has a key cut so) is put aside and
	// another one fetched, as a person would: the key is per run and per refusal.
	which := fmt.Sprintf("%d/%d", r.ID, r.FailedAt("new-key"))
	h.mu.Lock()
	defer h.mu.Unlock()
	if b, ok := h.newKeys[which]; ok {
		return b, nil
	}
	got, err := keying.KW1.Generate(1, keying.GenerateOptions{Avoid: []keying.Bitting{old}})
	if err != nil {
		return "", err
	}
	if h.newKeys == nil {
		h.newKeys = map[string]keying.Bitting{}
	}
	h.newKeys[which] = got[0]
	return got[0], nil
}

// Do performs the step and reports it. Asked again for a step they did at the same
// version of the run (its report was lost on the way to the records), the hands report
// what they did, as a person whose phone went dark confirms the step again: doing it
// twice would change the outcome (a key turned again, a button pressed again).
func (h *Hands) Do(ctx context.Context, r *latchkey.Run, st *latchkey.Step) (latchkey.Advance, error) {
	if st.Kind == latchkey.StepAuto {
		// A hub step is tried again, without a new report when it fails the same way:
		// the hands press again (nothing, for a lock already where the step puts it).
		return h.do(ctx, r, st)
	}
	p := pass{r.ID, st.ID, r.Version}
	h.mu.Lock()
	a, ok := h.reports[p]
	h.mu.Unlock()
	if ok {
		return cloneAdvance(a), nil
	}
	a, err := h.do(ctx, r, st)
	if err != nil {
		return a, err
	}
	h.mu.Lock()
	if h.reports == nil {
		h.reports = map[pass]latchkey.Advance{}
	}
	h.reports[p] = cloneAdvance(a)
	h.mu.Unlock()
	return a, nil
}

func cloneAdvance(a latchkey.Advance) latchkey.Advance {
	a.Attest, a.Evidence = slices.Clone(a.Attest), maps.Clone(a.Evidence)
	return a
}

// do performs the step.
func (h *Hands) do(ctx context.Context, r *latchkey.Run, st *latchkey.Step) (latchkey.Advance, error) {
	if h.Pace > 0 {
		select {
		case <-ctx.Done():
			return latchkey.Advance{}, ctx.Err()
		case <-time.After(h.Pace):
		}
	}
	a := latchkey.Advance{Step: st.ID, Attest: slices.Clone(st.Attest)}
	lockID := st.LockID
	if lockID == 0 {
		lockID = r.LockIDs[0]
	}
	fail := func(format string, args ...any) (latchkey.Advance, error) {
		return latchkey.Advance{Step: st.ID, Failed: true, Note: fmt.Sprintf(format, args...)}, nil
	}
	id, n := splitStep(st.ID)
	var err error
	switch {
	case id == "ready":
		err = h.door(lockID, true)
	case id == "new-key":
		old, cerr := h.cylinderBitting(lockID)
		if cerr != nil {
			return a, cerr
		}
		b, kerr := h.newKey(r, old)
		if kerr != nil {
			return a, kerr
		}
		a.Evidence = map[string]string{"bitting": string(b)}
	case strings.HasPrefix(id, "rekey") && n > 0:
		return h.rekeyStep(ctx, r, st, lockID, n, a)
	case id == "swap":
		err = h.lock(lockID, func(l *sim.Lock) error {
			if err := l.RemoveBattery(); err != nil {
				return err
			}
			l.SetBattery(6300) // four fresh alkaline cells
			return l.InsertBattery()
		})
	case id == "reset" && n > 0:
		return h.resetStep(ctx, r, st, lockID, n, a)
	case id == "keypad" && n > 0:
		return h.keypadStep(ctx, r, st, lockID, n, a)
	case id == "test" && st.Action == latchkey.ActionConfirmCode:
		opened, terr := h.tryCode(ctx, r, lockID)
		switch {
		case terr != nil:
			err = terr
		case r.Params.CodeOp != "remove" && !opened:
			return fail("the code does not open the lock")
		case r.Params.CodeOp == "remove" && opened:
			return fail("the old code still opens the lock")
		}
	case id == "reset-check":
		codes := ""
		err = h.lock(lockID, func(l *sim.Lock) error { codes, _ = l.Field("codes"); return nil })
		if err == nil && codes != "0" {
			return fail("a code that worked before still opens the lock: the reset did not take")
		}
	case id == "exclude" || id == "include":
		// The engine puts the hub in its mode; once it is, the hands press button A.
		// A lock already where the step puts it needs nothing pressed: pressed again,
		// it would join or leave once more.
		if err := h.awaitHubMode(ctx, lockID, id == "include"); err != nil {
			return a, err
		}
		presses := 1
		err = h.lock(lockID, func(l *sim.Lock) error {
			if _, _, paired := l.Hub(); paired == (id == "include") {
				presses = 0
			} else if radio := l.HomeHub().Radio(); radio == "zigbee" && id == "include" {
				presses = 4
			} else if radio == "zigbee" {
				presses = 0 // the coordinator asks the lock to leave: nothing to press
			}
			for range presses {
				if err := l.PressA(); err != nil {
					return err
				}
			}
			return nil
		})
	case id == "look":
		err = h.lock(lockID, func(l *sim.Lock) error {
			m := l.Model()
			keypad, _ := m.Keypad.Get("")
			radio := l.HomeHub().Radio()
			hole, _ := m.SmartKeyHole.Get(false)
			a.Evidence = map[string]string{"keypad": keypad, "radio": radio, "smartkey_hole": map[bool]string{true: "yes", false: "no"}[hole]}
			return nil
		})
	case id == "choose":
		model := ""
		err = h.lock(lockID, func(l *sim.Lock) error { model = l.Model().ID; return nil })
		if !slices.ContainsFunc(st.Choices, func(c latchkey.Choice) bool { return c.Value == model }) && len(st.Choices) > 0 {
			model = st.Choices[0].Value
		}
		a.Evidence = map[string]string{"model": model}
	}
	if err != nil {
		return fail("%s", latchkey.ErrorMessage(err))
	}
	return a, nil
}

// awaitHubMode waits until the lock's hub is in add or remove mode (or the lock is on a
// Zigbee hub, which removes a lock with nothing to press, or is already where the step
// puts it), as a person waits for the hub's go-ahead before pressing the lock's button.
func (h *Hands) awaitHubMode(ctx context.Context, lockID int64, join bool) error {
	for {
		ready := false
		if err := h.lock(lockID, func(l *sim.Lock) error {
			hub := l.HomeHub()
			_, _, paired := l.Hub()
			ready = hub.Mode() != sim.HubIdle || hub.Radio() == "zigbee" && !join || paired == join
			return nil
		}); err != nil {
			return err
		}
		if ready {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// keypadStep does step n of a position-based keypad sequence (facts §3.4 A: the 909 to
// 912): the door open, Program pressed once per position, then the code and Lock.
// Removing overwrites the position with a code nobody knows.
func (h *Hands) keypadStep(ctx context.Context, r *latchkey.Run, st *latchkey.Step, lockID int64, n int, a latchkey.Advance) (latchkey.Advance, error) {
	if st.Sequence != "position-add" && st.Sequence != "position-delete" {
		return a, latchkey.Errorf(latchkey.EINVALID, "The virtual hands program position-based keypads only; do the %s sequence yourself.", st.Sequence)
	}
	pin, ok := h.PINs[r.Params.CodeID]
	if !ok && st.Sequence == "position-add" {
		return a, latchkey.Errorf(latchkey.EINVALID, "The virtual hands were not told code %d.", r.Params.CodeID)
	}
	if st.Sequence == "position-delete" {
		pin = "80" + strconv.FormatInt(r.ID%10000+1000, 10) // a throwaway code nobody holds
	}
	slot := 0
	for _, g := range r.Steps {
		if g.ID == st.ID {
			slot = slotIn(g.Do)
		}
	}
	err := h.lock(lockID, func(l *sim.Lock) error {
		switch n {
		case 1:
			l.SetDoor(true)
		case 2:
			for range slot {
				if err := l.PressProgram(); err != nil {
					return err
				}
			}
		case 3:
			keys := append(strings.Split(pin, ""), sim.KeyLock)
			if h.mistake(r, MistakeWrongButtons) {
				keys = append([]string{sim.KeyLock}, keys...)
			}
			for _, k := range keys {
				if err := l.Press(k); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return latchkey.Advance{Step: st.ID, Failed: true, Note: latchkey.ErrorMessage(err)}, nil
	}
	return a, nil
}

// slotIn reads the position out of "Press and release the Program button 3 times".
func slotIn(do string) int {
	for _, f := range strings.Fields(do) {
		if n, err := strconv.Atoi(f); err == nil && n > 0 {
			return n
		}
	}
	return 0
}

// tryCode enters the run's code at the keypad, with the bolt thrown first, and reports
// whether the lock opened.
func (h *Hands) tryCode(ctx context.Context, r *latchkey.Run, lockID int64) (bool, error) {
	pin, ok := h.PINs[r.Params.CodeID]
	if !ok {
		return false, latchkey.Errorf(latchkey.EINVALID, "The virtual hands were not told code %d.", r.Params.CodeID)
	}
	// As a person does: wait for the lock's answer to the programming, throw the bolt,
	// enter the code, and watch the bolt.
	if err := h.Driver.Sleep(ctx, 3*time.Second); err != nil {
		return false, err
	}
	if err := h.lock(lockID, func(l *sim.Lock) error { return l.Press(sim.KeyLock) }); err != nil {
		return false, err
	}
	if err := h.Driver.Sleep(ctx, 3*time.Second); err != nil {
		return false, err
	}
	if err := h.lock(lockID, func(l *sim.Lock) error {
		for _, k := range strings.Split(pin, "") {
			if err := l.Press(k); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return false, err
	}
	if err := h.Driver.Sleep(ctx, 3*time.Second); err != nil {
		return false, err
	}
	opened := false
	err := h.lock(lockID, func(l *sim.Lock) error {
		bolt, _ := l.Field("bolt")
		opened = bolt == "unlocked"
		return nil
	})
	return opened, err
}

// splitStep splits "rekey2-5" into ("rekey2", 5) and "reset-3" into ("reset", 3); an id
// with no number is returned whole with 0.
func splitStep(id string) (string, int) {
	i := strings.LastIndexByte(id, '-')
	if i < 0 {
		return id, 0
	}
	n, err := strconv.Atoi(id[i+1:])
	if err != nil {
		return id, 0
	}
	return id[:i], n
}

// lock runs f on the lock twin of a lock, with the world held.
func (h *Hands) lock(lockID int64, f func(*sim.Lock) error) error {
	name, ok := h.Locks[lockID]
	if !ok {
		return latchkey.Errorf(latchkey.EINVALID, "The virtual hands cannot reach lock %d: it has no twin with a keypad.", lockID)
	}
	var err error
	h.Driver.Do(func(w *sim.World) {
		var t sim.Twin
		if t, err = w.Twin(name); err == nil {
			l, ok := t.(*sim.Lock)
			if !ok {
				err = latchkey.Errorf(latchkey.EINVALID, "Twin %q is not an electronic lock.", name)
				return
			}
			err = f(l)
		}
	})
	return err
}

// cylinder runs f on the SmartKey cylinder twin of a lock, with the world held.
func (h *Hands) cylinder(lockID int64, f func(*sim.Cylinder) error) error {
	name, ok := h.Cylinders[lockID]
	if !ok {
		return latchkey.Errorf(latchkey.EINVALID, "The virtual hands cannot reach lock %d's cylinder: it has no twin.", lockID)
	}
	var err error
	h.Driver.Do(func(w *sim.World) {
		var t sim.Twin
		if t, err = w.Twin(name); err == nil {
			c, ok := t.(*sim.Cylinder)
			if !ok {
				err = latchkey.Errorf(latchkey.EINVALID, "Twin %q is not a SmartKey cylinder.", name)
				return
			}
			err = f(c)
		}
	})
	return err
}

func (h *Hands) cylinderBitting(lockID int64) (keying.Bitting, error) {
	var b keying.Bitting
	err := h.cylinder(lockID, func(c *sim.Cylinder) error { b = c.Bitting(); return nil })
	return b, err
}

// door opens or closes the door of a lock: its cylinder's, and its electronic lock's.
func (h *Hands) door(lockID int64, open bool) error {
	if _, ok := h.Cylinders[lockID]; ok {
		if err := h.cylinder(lockID, func(c *sim.Cylinder) error {
			if d, _ := c.Field("door"); (d == "open") == open {
				return nil
			}
			return c.SetDoor(open)
		}); err != nil {
			return err
		}
	}
	if _, ok := h.Locks[lockID]; ok {
		return h.lock(lockID, func(l *sim.Lock) error { l.SetDoor(open); return nil })
	}
	return nil
}

// rekeyStep does step n of the catalog's rekey sequence on a lock's cylinder (facts
// §1.2), with the run's mistake where it fits.
func (h *Hands) rekeyStep(ctx context.Context, r *latchkey.Run, st *latchkey.Step, lockID int64, n int, a latchkey.Advance) (latchkey.Advance, error) {
	old, err := h.oldKey(r, lockID)
	if err != nil {
		return a, err
	}
	newKey, err := h.newKey(r, old)
	if err != nil {
		return a, err
	}
	fail := func(err error) (latchkey.Advance, error) {
		return latchkey.Advance{Step: st.ID, Failed: true, Note: latchkey.ErrorMessage(err)}, nil
	}
	err = h.cylinder(lockID, func(c *sim.Cylinder) error {
		switch n {
		case 1: // door open, bolt out
			if d, _ := c.Field("door"); d != "open" {
				return c.SetDoor(true)
			}
			return nil
		case 2: // working key in, a quarter turn clockwise
			if err := c.InsertKey(old, true, sim.Outside); err != nil {
				return err
			}
			return c.Turn(90, true, false)
		case 3: // the tool in fully, and out
			if h.mistake(r, MistakeToolLate) {
				return nil // the tool waits until the working key is out (step 4)
			}
			if err := c.InsertTool(!h.mistake(r, MistakeToolPartial)); err != nil {
				return err
			}
			return c.RemoveTool()
		case 4: // the working key out
			if a, _ := c.Field("angle"); c.State() == sim.CylinderOperate && a == "90" {
				// Not in learn mode (the tool is still to come): the key comes out only
				// at vertical, so a person turns it back first.
				if err := c.Turn(90, false, false); err != nil {
					return err
				}
			}
			if err := c.RemoveKey(); err != nil {
				return err
			}
			if r.Params.Mistake == MistakeToolLate && c.State() == sim.CylinderOperate {
				// Too late: the racks are not released, and the person does not see it.
				if err := c.InsertTool(true); err != nil {
					return err
				}
				return c.RemoveTool()
			}
			return nil
		case 5: // the new key in fully, half a turn counter-clockwise
			if err := c.InsertKey(newKey, !h.mistake(r, MistakeKeyNotFull), sim.Outside); err != nil {
				return err
			}
			if h.mistake(r, MistakeWrongWay) {
				_ = c.Turn(180, true, false) // refused: in learn mode it turns the other way
			}
			if err := c.Turn(180, false, false); err != nil {
				return err
			}
			// Back to vertical, and out.
			if a, _ := c.Field("angle"); a != "0" {
				_ = c.Turn(90, true, false)
			}
			return c.RemoveKey()
		case 6: // the tests, three from each side; the old key must not turn
			return h.testKeys(c, old, newKey)
		}
		return nil
	})
	if err != nil {
		return fail(err)
	}
	return a, nil
}

// testKeys locks and unlocks with the new key three times from each side (a single
// cylinder's inside is its thumbturn), then tries the old key, which must not turn.
func (h *Hands) testKeys(c *sim.Cylinder, old, newKey keying.Bitting) error {
	cycle := func(side string) error {
		if err := c.InsertKey(newKey, true, side); err != nil {
			return err
		}
		for _, cw := range []bool{true, false, false, true} {
			if err := c.Turn(90, cw, false); err != nil {
				_ = c.RemoveKey()
				return latchkey.Errorf(latchkey.ECONFLICT, "The new key does not turn from %s: %s", side, latchkey.ErrorMessage(err))
			}
		}
		return c.RemoveKey()
	}
	double := c.InsertKey(newKey, true, sim.Inside) == nil
	if double {
		_ = c.RemoveKey()
	}
	for range latchkey.RekeyTests {
		if err := cycle(sim.Outside); err != nil {
			return err
		}
		if double {
			if err := cycle(sim.Inside); err != nil {
				return err
			}
		} else if err := c.ThumbTurn(); err != nil {
			return err
		} else if err := c.ThumbTurn(); err != nil {
			return err
		}
	}
	if err := c.InsertKey(old, true, sim.Outside); err != nil {
		return err
	}
	turned := c.Turn(90, true, false) == nil
	if turned {
		_ = c.Turn(90, false, false)
	}
	_ = c.RemoveKey()
	if turned {
		return latchkey.Errorf(latchkey.ECONFLICT, "The old key still turns: the cylinder did not learn the new key.")
	}
	return nil
}

// oldKey is the key the cylinder takes at the start of the run: the hands hold it.
func (h *Hands) oldKey(r *latchkey.Run, lockID int64) (keying.Bitting, error) {
	h.mu.Lock()
	key := fmt.Sprintf("old-%d-%d", r.ID, lockID)
	if h.oldKeys == nil {
		h.oldKeys = map[string]keying.Bitting{}
	}
	b, ok := h.oldKeys[key]
	h.mu.Unlock()
	if ok {
		return b, nil
	}
	b, err := h.cylinderBitting(lockID)
	if err != nil {
		return "", err
	}
	h.mu.Lock()
	h.oldKeys[key] = b
	h.mu.Unlock()
	return b, nil
}

// resetStep does step n of the lock's factory reset sequence (facts §3.5, §3.6).
func (h *Hands) resetStep(ctx context.Context, r *latchkey.Run, st *latchkey.Step, lockID int64, n int, a latchkey.Advance) (latchkey.Advance, error) {
	seq := st.Sequence
	hold := func() time.Duration {
		if h.mistake(r, MistakeEarlyRelease) {
			return 10 * time.Second
		}
		return 30 * time.Second
	}
	var err error
	switch {
	case seq == "R1" && n == 1, seq == "R3" && n == 2, seq == "R4" && n == 1:
		err = h.lock(lockID, func(l *sim.Lock) error { return l.RemoveBattery() })
	case seq == "R1" && n == 2, seq == "R3" && n == 3:
		err = h.lock(lockID, func(l *sim.Lock) error {
			if err := l.HoldProgram(); err != nil {
				return err
			}
			return l.InsertBattery()
		})
	case seq == "R1" && n == 3, seq == "R3" && n == 4:
		err = h.Driver.Sleep(ctx, hold())
	case seq == "R1" && n == 4, seq == "R2" && n == 3, seq == "R3" && n == 5:
		err = h.lock(lockID, func(l *sim.Lock) error {
			if err := l.ReleaseProgram(); err != nil {
				return err
			}
			return l.PressProgram()
		})
	case seq == "R2" && n == 1:
		err = h.door(lockID, true)
	case seq == "R2" && n == 2:
		err = h.lock(lockID, func(l *sim.Lock) error { return l.HoldProgram() })
		if err == nil {
			err = h.Driver.Sleep(ctx, hold())
		}
	case st.Kind == latchkey.StepVerify: // door handing: the bolt moves by itself
		if h.mistake(r, MistakeDoorClosed) {
			err = h.door(lockID, false)
		}
		if err == nil {
			err = h.Driver.Sleep(ctx, 10*time.Second)
		}
		handing := ""
		if err == nil {
			err = h.lock(lockID, func(l *sim.Lock) error { handing, _ = l.Field("handing"); return nil })
		}
		if err == nil && handing != "set" {
			_ = h.door(lockID, true)
			return latchkey.Advance{Step: st.ID, Failed: true, Note: "the status LED is solid red: door handing failed"}, nil
		}
	}
	if err != nil {
		return latchkey.Advance{Step: st.ID, Failed: true, Note: latchkey.ErrorMessage(err)}, nil
	}
	return a, nil
}
