package zwavejs

import (
	"context"
	"time"

	"github.com/latchkey/latchkey"
)

// What a waiter waits for.
const (
	waitDuplicate = iota // a lock refused a code as a duplicate (Access Control 0x0F); n is the slot
	waitMode             // a Door Lock currentMode; n is the mode
	waitAdded            // a node joined the network; n is its id
	waitRemoved          // a node left the network; n is its id
)

// waiter is a command waiting for something a lock reports.
type waiter struct {
	node, kind int
	match      func(n int) bool
	ch         chan int
	errc       chan error
}

func (w *waiter) fail(err error) {
	select {
	case w.errc <- err:
	default:
	}
}

// watch registers a waiter; stop it with unwatch.
func (d *Driver) watch(node, kind int, match func(int) bool) *waiter {
	w := &waiter{node: node, kind: kind, match: match, ch: make(chan int, 1), errc: make(chan error, 1)}
	d.mu.Lock()
	d.waiters = append(d.waiters, w)
	d.mu.Unlock()
	return w
}

func (d *Driver) unwatch(w *waiter) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i, x := range d.waiters {
		if x == w {
			d.waiters = append(d.waiters[:i], d.waiters[i+1:]...)
			return
		}
	}
}

// wakeLocked tells the waiters of a node what it reported; d.mu is held.
func (d *Driver) wakeLocked(node, kind, n int) {
	for _, w := range d.waiters {
		if w.node == node && w.kind == kind && (w.match == nil || w.match(n)) {
			select {
			case w.ch <- n:
			default:
			}
		}
	}
}

// SetCode puts a PIN in a slot (User Code CC, status enabled) and reads that slot back.
// A lock that refuses the code because another slot holds it says so (Access Control
// event 0x0F): that is ECONFLICT naming the duplicate; a slot that does not hold the
// code after the lock acknowledged it is EINVALID. A lock that does not answer is
// EUNAVAILABLE. The PIN is in no error and no log.
func (d *Driver) SetCode(ctx context.Context, address string, slot int, pin string) error {
	id, err := d.lockNode(address, true)
	if err != nil {
		return err
	}
	if err := d.checkSlot(id, slot); err != nil {
		return err
	}
	if !validPIN(pin) {
		return latchkey.Errorf(latchkey.EINVALID, "A Z-Wave lock's user code is 4 to 10 digits; the code for slot %d is not.", slot)
	}
	dup := d.watch(id, waitDuplicate, func(n int) bool { return n == slot || n == 0 })
	defer d.unwatch(dup)
	what := "setting the code in slot " + itoa(slot) + " of node " + itoa(id)
	if _, err := d.call(ctx, what, "endpoint.invoke_cc_api", map[string]any{"nodeId": id, "endpoint": 0,
		"commandClass": ccUserCode, "methodName": "set", "args": []any{slot, 1, pin}}); err != nil {
		return err
	}
	held, present, err := d.readCode(ctx, id, slot)
	if err != nil {
		return err
	}
	if present && (held == "" || held == pin) {
		d.mu.Lock()
		d.verified[slotKey{id, slot}] = verified{at: time.Now()}
		d.mu.Unlock()
		return nil
	}
	// The lock's refusal travels apart from its answer: give it a moment.
	wait := time.NewTimer(500 * time.Millisecond)
	defer wait.Stop()
	select {
	case <-dup.ch:
		return latchkey.Errorf(latchkey.ECONFLICT, "The lock refused the code for slot %d as a duplicate: another slot holds the same code.", slot)
	case <-wait.C:
	case <-ctx.Done():
	}
	return latchkey.Errorf(latchkey.EINVALID, "The lock acknowledged the code for slot %d but does not hold it when read back.", slot)
}

// ClearCode empties a slot (User Code CC clear). It does not read the slot back: the
// engine does, through ReadCode.
func (d *Driver) ClearCode(ctx context.Context, address string, slot int) error {
	id, err := d.lockNode(address, true)
	if err != nil {
		return err
	}
	if err := d.checkSlot(id, slot); err != nil {
		return err
	}
	d.mu.Lock()
	d.forgetVerifiedLocked(id, slot)
	d.mu.Unlock()
	_, err = d.call(ctx, "clearing slot "+itoa(slot)+" of node "+itoa(id), "endpoint.invoke_cc_api", map[string]any{"nodeId": id, "endpoint": 0,
		"commandClass": ccUserCode, "methodName": "clear", "args": []any{slot}})
	return err
}

// ReadCode reads one slot from the lock (User Code CC get; never the whole table).
// present says it holds a code; pin is the code where the lock tells it, "" where it
// masks it. A slot SetCode has just read back holding its code is answered from that
// read, so that the lock is asked once.
func (d *Driver) ReadCode(ctx context.Context, address string, slot int) (pin string, present bool, err error) {
	id, err := d.lockNode(address, true)
	if err != nil {
		return "", false, err
	}
	if err := d.checkSlot(id, slot); err != nil {
		return "", false, err
	}
	d.mu.Lock()
	v, ok := d.verified[slotKey{id, slot}]
	delete(d.verified, slotKey{id, slot})
	d.mu.Unlock()
	if ok && time.Since(v.at) < verifiedFor {
		return "", true, nil
	}
	return d.readCode(ctx, id, slot)
}

func (d *Driver) readCode(ctx context.Context, id, slot int) (string, bool, error) {
	what := "reading slot " + itoa(slot) + " of node " + itoa(id)
	raw, err := d.call(ctx, what, "endpoint.invoke_cc_api", map[string]any{"nodeId": id, "endpoint": 0,
		"commandClass": ccUserCode, "methodName": "get", "args": []any{slot}})
	if err != nil {
		return "", false, err
	}
	pin, present, err := parseUserCode(raw)
	if err != nil {
		d.logger().Warn("zwave-js-server answered a user code read Latchkey cannot read", "node", id, "slot", slot, "error", err.Error())
		return "", false, latchkey.Errorf(latchkey.EUNAVAILABLE, "The answer while %s could not be read; Latchkey will try again.", what)
	}
	return pin, present, nil
}

// checkSlot refuses a slot outside the lock's user codes (when the driver knows how many).
func (d *Driver) checkSlot(id, slot int) error {
	d.mu.Lock()
	n := d.nodes[id]
	users := 0
	if n != nil {
		users = n.numUsers
	}
	d.mu.Unlock()
	if users == 0 {
		users = 0xffff
	}
	if slot < 1 || slot > users {
		return latchkey.Errorf(latchkey.EINVALID, "Slot %d is outside 1 to %d, the user codes node %d holds.", slot, users, id)
	}
	return nil
}

// CodeChecksum asks the lock for its user code checksum (User Code CC v2), a CRC over
// every occupied slot: when it has not changed since the last time, no slot has, and
// nothing needs reading. A lock without it is EINVALID.
func (d *Driver) CodeChecksum(ctx context.Context, address string) (int, error) {
	id, err := d.lockNode(address, true)
	if err != nil {
		return 0, err
	}
	what := "reading the user code checksum of node " + itoa(id)
	raw, err := d.call(ctx, what, "endpoint.invoke_cc_api", map[string]any{"nodeId": id, "endpoint": 0,
		"commandClass": ccUserCode, "methodName": "getUserCodeChecksum", "args": []any{}})
	if err != nil {
		return 0, err
	}
	sum, err := numberAnswer(raw, 0, 0xffff)
	if err != nil {
		return 0, latchkey.Errorf(latchkey.EINVALID, "Node %d gave no user code checksum (User Code version 2 locks do): read its slots instead.", id)
	}
	return sum, nil
}

// Lock throws the bolt (Door Lock CC targetMode secured) and waits for the lock to say
// it is (currentMode).
func (d *Driver) Lock(ctx context.Context, address string) error {
	return d.setMode(ctx, address, modeSecured, "locking")
}

// Unlock retracts the bolt and waits for the lock to say it has.
func (d *Driver) Unlock(ctx context.Context, address string) error {
	return d.setMode(ctx, address, modeUnsecured, "unlocking")
}

func (d *Driver) setMode(ctx context.Context, address string, mode int, verb string) error {
	id, err := d.lockNode(address, false)
	if err != nil {
		return err
	}
	what := verb + " node " + itoa(id)
	d.mu.Lock()
	d.commanded[id] = time.Now()
	d.mu.Unlock()
	reached := d.watch(id, waitMode, func(n int) bool { return n == mode })
	defer d.unwatch(reached)
	raw, err := d.call(ctx, what, "node.set_value", map[string]any{"nodeId": id,
		"valueId": map[string]any{"commandClass": ccDoorLock, "endpoint": 0, "property": "targetMode"}, "value": mode})
	if err != nil {
		return err
	}
	status, err := setValueAnswer(raw)
	if err != nil {
		return latchkey.Errorf(latchkey.EUNAVAILABLE, "The answer while %s could not be read.", what)
	}
	switch status {
	case setValueSuccess, setValueSuccessUnsupervised, setValueWorking:
	case 0, 3, 4:
		return latchkey.Errorf(latchkey.EINVALID, "Node %d cannot be locked or unlocked (no Door Lock command class).", id)
	case 5:
		return latchkey.Errorf(latchkey.EINVALID, "Node %d refused the lock mode as invalid.", id)
	default:
		return latchkey.Errorf(latchkey.EUNAVAILABLE, "The lock did not do it while %s: check it at the door (a jammed bolt?).", what)
	}
	// The bolt takes a moment; the lock reports where it ended up. Its report may have
	// come before the answer, so look at what is known, and ask when nothing comes.
	poll := time.NewTicker(2 * time.Second)
	defer poll.Stop()
	for {
		d.mu.Lock()
		n := d.nodes[id]
		at := n != nil && n.currentMode == mode
		d.mu.Unlock()
		if at {
			return nil
		}
		select {
		case <-reached.ch:
			return nil
		case err := <-reached.errc:
			return d.explain(ctx, what, err)
		case <-ctx.Done():
			return latchkey.Errorf(latchkey.EUNAVAILABLE, "The lock did not report its bolt %s in time: check it at the door (a jammed bolt?).", map[int]string{modeSecured: "thrown", modeUnsecured: "retracted"}[mode])
		case <-poll.C:
			if _, err := d.call(ctx, what, "node.poll_value", map[string]any{"nodeId": id,
				"valueId": map[string]any{"commandClass": ccDoorLock, "endpoint": 0, "property": "currentMode"}}); err != nil && ctx.Err() == nil {
				d.logger().Debug("polling the bolt failed", "node", id, "error", err.Error())
			}
		}
	}
}

// Include starts inclusion (controller begin_inclusion) so that a lock put in pairing
// mode joins the network, and waits within ctx for one to join; it returns the new
// lock's address. secure asks for S0 security (Kwikset's older locks use it; the lock
// must support it); otherwise the lock joins without security. S2, which needs the
// PIN on the lock's label, is done from zwave-js-ui. Inclusion stops when ctx ends.
func (d *Driver) Include(ctx context.Context, secure bool) (string, error) {
	strategy := 2 // InclusionStrategy.Insecure
	if secure {
		strategy = 3 // InclusionStrategy.Security_S0
	}
	added := d.watch(0, waitAdded, nil)
	defer d.unwatch(added)
	raw, err := d.call(ctx, "starting inclusion", "controller.begin_inclusion", map[string]any{"options": map[string]any{"strategy": strategy}})
	if err != nil {
		return "", err
	}
	if !startedAnswer(raw) {
		return "", latchkey.Errorf(latchkey.ECONFLICT, "The Z-Wave controller is busy (another inclusion or exclusion?): finish it in zwave-js-ui, then try again.")
	}
	select {
	case id := <-added.ch:
		return itoa(id), nil
	case err := <-added.errc:
		return "", d.explain(ctx, "waiting for a lock to join", err)
	case <-ctx.Done():
		d.stop("controller.stop_inclusion")
		return "", latchkey.Errorf(latchkey.EUNAVAILABLE, "No lock joined the Z-Wave network in time: put the lock in pairing mode (its Program button) while Latchkey waits, then try again.")
	}
}

// Exclude starts exclusion (controller begin_exclusion) so that a lock put in pairing
// mode leaves the network (the first step of a factory reset through the hub), and waits
// within ctx for one to leave; it returns the address it had.
func (d *Driver) Exclude(ctx context.Context) (string, error) {
	removed := d.watch(0, waitRemoved, nil)
	defer d.unwatch(removed)
	raw, err := d.call(ctx, "starting exclusion", "controller.begin_exclusion", map[string]any{})
	if err != nil {
		return "", err
	}
	if !startedAnswer(raw) {
		return "", latchkey.Errorf(latchkey.ECONFLICT, "The Z-Wave controller is busy (another inclusion or exclusion?): finish it in zwave-js-ui, then try again.")
	}
	select {
	case id := <-removed.ch:
		return itoa(id), nil
	case err := <-removed.errc:
		return "", d.explain(ctx, "waiting for a lock to leave", err)
	case <-ctx.Done():
		d.stop("controller.stop_exclusion")
		return "", latchkey.Errorf(latchkey.EUNAVAILABLE, "No lock left the Z-Wave network in time: put the lock in pairing mode (its Program button) while Latchkey waits, then try again.")
	}
}

// stop ends an inclusion or exclusion given up on, on its own short deadline (the
// caller's has passed).
func (d *Driver) stop(command string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := d.call(ctx, "stopping", command, map[string]any{}); err != nil {
		d.logger().Warn("could not stop inclusion or exclusion", "command", command, "error", latchkey.ErrorMessage(err))
	}
}
