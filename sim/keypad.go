package sim

import (
	"fmt"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/catalog"
)

// Keys a person can press. Digits are "0" to "9"; Lock is the Lock button, which the
// Kwikset-button models call the Kwikset button.
const (
	KeyLock    = "lock"
	KeyKwikset = "kwikset"
)

// Press presses one keypad key: a digit, or the Lock (Kwikset) button.
func (l *Lock) Press(key string) error {
	if key == KeyKwikset {
		key = KeyLock
	}
	isDigit := len(key) == 1 && key[0] >= '0' && key[0] <= '9'
	if !isDigit && key != KeyLock {
		return latchkey.Errorf(latchkey.EINVALID, "Unknown key %q; press a digit 0-9 or lock.", key)
	}
	if l.keys == catalog.KeypadNone || l.keys == catalog.KeypadFingerprint {
		l.log(KindRefuse, "the %s has no keypad", l.model.ID)
		return nil
	}
	if !l.powered() {
		l.log(KindRefuse, "%s: no response (no power)", key)
		return nil
	}
	if l.tampered {
		l.log(KindRefuse, "%s: no response (the exterior assembly is disconnected)", key)
		return nil
	}
	if l.resetting {
		l.log(KindRefuse, "%s: no response (the lock is resetting)", key)
		return nil
	}
	if left := l.lockedOut.Sub(l.w.Now()); left > 0 {
		l.log(KindRefuse, "%s ignored: keypad locked out for %s more (facts §3.8)", key, left.Round(time.Second))
		return nil
	}
	l.log(KindAction, "press %s", key)
	if l.prog != nil {
		l.programInput(key, isDigit)
		return nil
	}
	if isDigit {
		l.typeDigit(key[0])
		return nil
	}
	l.pressLock()
	return nil
}

// typeDigit adds a digit to the code being entered, opening the lock as soon as the
// digits match a stored code. Codes compare as the keypad compares them: by buttons on a
// five-button keypad. Entry ends in a wrong code when it reaches the longest code length
// without a match.
func (l *Lock) typeDigit(d byte) {
	l.entry = append(l.entry, d)
	l.entryTimer.Stop()
	l.entryTimer = l.w.Clock.AfterFunc(entryIdleTimeout, func() {
		if len(l.entry) >= l.rules.MinLen {
			l.wrongCode("entry left unfinished")
		}
		l.entry = nil
	})
	entered := string(l.entry)
	if !l.disabled {
		for i, s := range l.slots {
			if s.code != "" && l.same(s.code, entered) {
				l.entry = nil
				l.entryTimer.Stop()
				l.wrong = nil
				l.log(KindState, "code of slot %d accepted", i+1)
				if s.oneTime {
					l.clearSlot(i + 1)
					l.log(KindState, "one-time code of slot %d used and deleted", i+1)
				}
				l.drive(false, latchkey.SourceKeypad, i+1)
				return
			}
		}
	}
	if len(l.entry) >= l.rules.MaxLen {
		l.wrongCode("no stored code matches")
	}
}

// pressLock handles the Lock button outside programming: alone it throws the bolt
// (Kwikset reports code id 0 for it, facts §3.11); after digits it ends an entry, which
// may be the Mastercode or the programming code.
func (l *Lock) pressLock() {
	entered := string(l.entry)
	l.entry = nil
	l.entryTimer.Stop()
	switch {
	case entered == "":
		l.drive(true, latchkey.SourceKeypad, 0)
	case l.style == catalog.ProgramMastercode && l.mastercode != "" && entered == l.mastercode:
		l.startProgramming(&programming{kind: "mc-session", step: 1})
		l.feedback("menu-code")
	case l.style == catalog.ProgramMenu && l.progCode != "" && entered == l.progCode:
		l.startProgramming(&programming{kind: "menu", step: 1})
		l.flash("green", 1)
		l.beep(1, false)
	default:
		l.wrongCode("no stored code matches")
	}
}

// wrongCode counts a wrong entry; Attempts of them within the window lock the keypad
// for the lockout time (facts §3.8), which the twin enforces as a sliding window.
func (l *Lock) wrongCode(why string) {
	l.entry = nil
	now := l.w.Now()
	rule, _ := l.model.Lockout.Get(catalog.Lockout{Attempts: 3, WindowS: 60, DurationS: 60})
	window := time.Duration(rule.WindowS) * time.Second
	kept := l.wrong[:0]
	for _, t := range l.wrong {
		if now.Sub(t) < window {
			kept = append(kept, t)
		}
	}
	l.wrong = append(kept, now)
	l.log(KindState, "wrong code (%s), %d in the last %s", why, len(l.wrong), window)
	if len(l.wrong) >= rule.Attempts {
		l.wrong = nil
		l.lockedOut = now.Add(time.Duration(rule.DurationS) * time.Second)
		l.feedback("lockout")
		l.log(KindState, "keypad locked out for %d s", rule.DurationS)
		l.emit(Report{Event: latchkey.EventKeypadLockout, Source: latchkey.SourceKeypad, Detail: "keypad attempts exceed code entry limit"})
		return
	}
	if l.CodeCount() == 0 {
		// "No user code programmed" has its own alert (facts §3.9: M1, M2). The entry
		// still counts toward the lockout: an assumption, not documented either way.
		l.feedback("no-codes")
	} else {
		l.feedback("wrong")
	}
	l.emit(Report{Event: latchkey.EventWrongCode, Source: latchkey.SourceKeypad})
}

// timeout is the model's programming timeout (facts §3.4: 5 s on the 909, 20 s on the
// 916's touchscreen), or 5 s where it is unconfirmed.
func (l *Lock) timeout() time.Duration {
	if s, _ := l.model.ProgrammingTimeoutS.Get(0); s > 0 {
		return time.Duration(s) * time.Second
	}
	return fallbackTimeout
}

func (l *Lock) startProgramming(p *programming) {
	l.prog = p
	l.touchProgramming()
}

// touchProgramming restarts the programming timeout after each press.
func (l *Lock) touchProgramming() {
	l.progTimer.Stop()
	l.progTimer = l.w.Clock.AfterFunc(l.timeout(), func() {
		l.prog = nil
		l.log(KindState, "programming timed out (no press for %s)", l.timeout())
		l.feedback("timeout")
	})
}

func (l *Lock) endProgramming(ok bool, format string, args ...any) {
	l.prog = nil
	l.progTimer.Stop()
	l.log(KindState, format, args...)
	if ok {
		l.feedback("ok")
	} else {
		l.feedback("fail")
	}
}

// PressProgram presses and releases the Program button (behind the battery cover).
func (l *Lock) PressProgram() error {
	if !l.powered() {
		l.log(KindRefuse, "Program: no response (no power)")
		return nil
	}
	if l.resetting {
		l.log(KindRefuse, "Program: no response (the lock is resetting)")
		return nil
	}
	l.log(KindAction, "press Program")
	if l.resetPending != "" {
		l.finishReset()
		return nil
	}
	if l.prog != nil {
		l.programInput("program", false)
		return nil
	}
	switch l.style {
	case catalog.ProgramPosition:
		l.startProgramming(&programming{kind: "position", presses: 1})
	case catalog.ProgramMastercode:
		if l.mastercode != "" {
			l.endProgramming(false, "a Mastercode is set: codes are added and deleted with it (facts §3.3)")
			return nil
		}
		l.startProgramming(&programming{kind: "add"})
	case catalog.ProgramMenu:
		if l.progCode != "" {
			l.endProgramming(false, "a programming code is set: it replaces the Program button (facts §3.4 C)")
			return nil
		}
		l.startProgramming(&programming{kind: "menu", step: 1})
		l.feedback("menu")
	case catalog.ProgramApp:
		l.log(KindState, "nothing to program at the lock: the %s is managed in the Kwikset app (facts §3.4 D)", l.model.ID)
	default:
		l.log(KindState, "the %s's keypad programming sequence is unconfirmed: the twin offers none; set codes through the hub", l.model.ID)
	}
	return nil
}

// programInput runs a keypad programming session (facts §3.4).
func (l *Lock) programInput(key string, isDigit bool) {
	p := l.prog
	l.touchProgramming()
	if key == "program" {
		if p.kind == "position" && len(p.buf) == 0 {
			p.presses++
			return
		}
		l.endProgramming(false, "unexpected Program press")
		return
	}
	if isDigit {
		p.buf = append(p.buf, key[0])
		return
	}
	entered := string(p.buf)
	p.buf = nil
	switch p.kind {
	case "position":
		l.programPosition(p.presses, entered)
	case "add":
		l.programAdd(entered, false)
	case "mc-enable":
		l.programMastercode(p, entered)
	case "mc-session":
		l.programMastercodeSession(p, entered)
	case "menu":
		l.programMenu(p, entered)
	}
}

// programPosition stores a code at the position given by the Program presses (facts
// §3.4 A); a position already in use is overwritten, which is how these locks delete.
// An overwrite is reported as a changed code, a new one as an added code; neither
// report carries the digits.
func (l *Lock) programPosition(n int, code string) {
	held := n >= 1 && n <= len(l.slots) && l.slots[n-1].code != ""
	lost, err := l.write(n, code, false)
	switch {
	case lost:
	case err != nil:
		l.endProgramming(false, "code for position %d refused: %s", n, latchkey.ErrorMessage(err))
	case held:
		l.endProgramming(true, "code at position %d replaced", n)
		l.emit(Report{Event: latchkey.EventCodeChanged, Source: latchkey.SourceKeypad, Slot: n})
	default:
		l.endProgramming(true, "code stored at position %d", n)
		l.emit(Report{Event: latchkey.EventCodeAdded, Source: latchkey.SourceKeypad, Slot: n})
	}
}

// programAdd stores a code in the lowest free slot.
func (l *Lock) programAdd(code string, oneTime bool) {
	n := l.freeSlot()
	if n == 0 {
		// Kwikset reports code id 0 when the memory is full (facts §3.2, ST1).
		l.endProgramming(false, "code refused: all %d slots are full", l.capacity())
		l.emit(Report{Event: latchkey.EventCodeAdded, Source: latchkey.SourceKeypad, Slot: 0, Detail: "memory full"})
		return
	}
	lost, err := l.write(n, code, oneTime)
	switch {
	case lost:
	case err != nil:
		l.endProgramming(false, "code refused: %s", latchkey.ErrorMessage(err))
	default:
		l.endProgramming(true, "code stored in slot %d", n)
		l.emit(Report{Event: latchkey.EventCodeAdded, Source: latchkey.SourceKeypad, Slot: n})
	}
}

// deleteCode removes a code entered at the keypad.
func (l *Lock) deleteCode(code string) {
	n := l.slotOf(code)
	if n == 0 {
		l.endProgramming(false, "no stored code matches the one to delete")
		return
	}
	l.clearSlot(n)
	l.endProgramming(true, "code of slot %d deleted", n)
	l.emit(Report{Event: latchkey.EventCodeDeleted, Source: latchkey.SourceKeypad, Slot: n})
}

// programMastercode sets the Mastercode: entered twice, each followed by Lock (§3.3).
func (l *Lock) programMastercode(p *programming, code string) {
	if p.step == 1 {
		p.first, p.step = code, 2
		return
	}
	switch {
	case code != p.first:
		l.endProgramming(false, "the Mastercode entries differ")
	case len(code) < 4 || len(code) > 8:
		l.endProgramming(false, "a Mastercode has 4 to 8 digits")
	default:
		l.mastercode = code
		l.endProgramming(true, "Mastercode set")
	}
}

// programMastercodeSession follows the Mastercode: "9" six times deletes every code;
// a code entered twice is deleted if stored. Adding a code this way (entered twice when
// not stored) is the twin's reading of the Mastercode flow: unconfirmed (facts §3.4 B).
func (l *Lock) programMastercodeSession(p *programming, code string) {
	if p.step == 1 {
		if code == "999999" {
			l.clearAll()
			l.endProgramming(true, "all user codes deleted")
			l.emit(Report{Event: latchkey.EventAllCodesDeleted, Source: latchkey.SourceKeypad, Detail: l.alarmText(32)})
			return
		}
		p.first, p.step = code, 2
		return
	}
	if code != p.first {
		l.endProgramming(false, "the two entries differ")
		return
	}
	if l.slotOf(code) != 0 {
		l.deleteCode(code)
		return
	}
	l.programAdd(code, false)
}

// programMenu runs the Kwikset-button menu: a menu digit and Kwikset, then a code and
// Kwikset (facts §3.4 C: 1 add, 7 add one-time, 2 delete, 6 codes on/off, 4 change the
// programming code).
func (l *Lock) programMenu(p *programming, entered string) {
	if p.menu == menuDeleteTwice {
		l.programDeleteTwice(p, entered)
		return
	}
	if p.step == 1 {
		if entered == "" && deletesTwice[l.model.ID] {
			p.menu, p.step = menuDeleteTwice, 2
			return
		}
		if len(entered) != 1 {
			l.endProgramming(false, "choose one menu digit: 1, 7, 2, 6 or 4")
			return
		}
		p.menu, p.step = entered[0], 2
		switch p.menu {
		case '6':
			l.disabled = !l.disabled
			l.endProgramming(true, "user codes %s", map[bool]string{true: "disabled (key only)", false: "enabled"}[l.disabled])
		case '1', '7', '2', '4':
		default:
			l.endProgramming(false, "menu %c does not exist", p.menu)
		}
		return
	}
	switch p.menu {
	case '1', '7':
		l.programAdd(entered, p.menu == '7')
	case '2':
		l.deleteCode(entered)
	case '4':
		switch {
		case len(entered) < 4 || len(entered) > 10:
			l.endProgramming(false, "a programming code has 4 to 10 digits")
		case l.slotOf(entered) != 0:
			l.endProgramming(false, "the programming code cannot equal a user code (facts §3.3)")
		default:
			l.progCode = entered
			l.endProgramming(true, "programming code changed")
		}
	}
}

// deletesTwice lists the models whose keypad deletes a code as the HC620 does: Program
// once, Kwikset, the code, Kwikset, the code again, Kwikset (facts §3.4 C, a Kwikset
// answer scraped by EC).
var deletesTwice = map[string]bool{"620": true}

// menuDeleteTwice marks the HC620's delete sequence in a menu session.
const menuDeleteTwice = 'd'

// programDeleteTwice takes the code to delete, then the same code again, and deletes it.
func (l *Lock) programDeleteTwice(p *programming, code string) {
	if p.step == 2 {
		p.first, p.step = code, 3
		return
	}
	if code != p.first {
		l.endProgramming(false, "the two entries differ")
		return
	}
	l.deleteCode(code)
}

// HoldProgram presses the Program button and keeps it down until ReleaseProgram. With
// the battery in: 5 s readies Mastercode entry (§3.3), 30 s arms the 955's reset (R2).
// Held while the battery pack goes in, it starts the R1/R3 reset (§3.5).
func (l *Lock) HoldProgram() error {
	if l.programHeld {
		return l.refuse("Program is already held")
	}
	l.programHeld = true
	l.log(KindAction, "hold Program")
	if !l.powered() {
		return nil
	}
	reset, _ := l.model.Reset.Get("")
	switch {
	case reset == "R2":
		l.heldTimer = l.w.Clock.AfterFunc(resetHold, func() {
			l.heldStage = "reset-armed"
			l.beep(1, true)
			l.log(KindState, "held 30 s: release, then press Program once to reset (R2)")
		})
	case l.style == catalog.ProgramMastercode:
		l.heldTimer = l.w.Clock.AfterFunc(mastercodeHold, func() {
			l.heldStage = "mastercode-ready"
			l.flash("green", 1)
			l.log(KindState, "held 5 s: enter the new Mastercode and press Lock, twice")
		})
	}
	return nil
}

// ReleaseProgram lets go of the Program button.
func (l *Lock) ReleaseProgram() error {
	if !l.programHeld {
		return l.refuse("Program is not held")
	}
	l.programHeld = false
	l.heldTimer.Stop()
	l.log(KindAction, "release Program")
	stage := l.heldStage
	l.heldStage = ""
	switch stage {
	case "mastercode-ready":
		l.startProgramming(&programming{kind: "mc-enable", step: 1})
	case "reset-armed":
		reset, _ := l.model.Reset.Get("")
		l.resetPending = reset
	default:
		if l.bootHeld {
			l.log(KindState, "released before 30 s: the lock starts normally")
		}
	}
	l.bootHeld = false
	return nil
}

// RemoveBattery takes the battery pack out: the lock stops, codes stay in memory.
func (l *Lock) RemoveBattery() error {
	if !l.batteryIn {
		return l.refuse("the battery pack is already out")
	}
	l.batteryIn = false
	l.cancelVolatile()
	l.log(KindAction, "battery pack out")
	return nil
}

// InsertBattery puts the battery pack back. With Program held, this starts the factory
// reset of R1 and R3: held about 30 s, the lock beeps and its LED flashes red (§3.5).
func (l *Lock) InsertBattery() error {
	if l.batteryIn {
		return l.refuse("the battery pack is already in")
	}
	l.batteryIn = true
	l.log(KindAction, "battery pack in")
	if l.tampered {
		l.tampered = false
		l.log(KindState, "cable reconnected: the keypad works again")
	}
	if !l.powered() {
		l.log(KindState, "no response: the batteries are too weak (%d mV)", l.mv)
		return nil
	}
	reset, _ := l.model.Reset.Get("")
	if l.programHeld && (reset == "R1" || reset == "R3") {
		l.bootHeld = true
		l.heldTimer = l.w.Clock.AfterFunc(resetHold, func() {
			l.heldStage = "reset-armed"
			l.beep(1, false)
			l.flash("red", 1)
			l.log(KindState, "held 30 s: release, then press Program once to reset (%s)", reset)
		})
		return nil
	}
	if l.programHeld && reset == "" {
		l.log(KindState, "no documented reset sequence for the %s: nothing happens", l.model.ID)
	}
	return nil
}

// resetConfirm is a model whose R1 reset confirms late and otherwise than K1's two
// beeps: the 913 "in 20 seconds, when the LED flashes green and you hear one beep, the
// lock has been reset" (facts §3.5, quoting the 913 guide).
var resetConfirm = map[string]struct {
	after time.Duration
	beeps int
}{"913": {20 * time.Second, 1}}

// finishReset completes a reset sequence with the final Program press.
func (l *Lock) finishReset() {
	seq := l.resetPending
	l.resetPending = ""
	if c, ok := resetConfirm[l.model.ID]; ok && seq != "R2" {
		// The lock works on the reset until it confirms; it answers nothing meanwhile.
		l.resetting = true
		l.log(KindState, "resetting: the %s confirms in about %s", l.model.ID, c.after)
		l.resetTimer = l.w.Clock.AfterFunc(c.after, func() {
			l.resetting = false
			l.flash("green", 1)
			l.beep(c.beeps, false)
			l.factoryReset(seq)
		})
		return
	}
	switch seq {
	case "R2":
		l.beep(1, false)
	default:
		l.flash("green", 1)
		l.beep(2, false)
	}
	l.factoryReset(seq)
}

// ResetBehindHub factory-resets the lock as someone at the door would, without telling
// the hub first: the fault that leaves a ghost on the hub when the model does not send
// Device Reset Locally.
func (l *Lock) ResetBehindHub() {
	l.log(KindAction, "fault: factory reset at the door, hub not told")
	reset, _ := l.model.Reset.Get("R1")
	l.factoryReset(reset)
}

// factoryReset clears what facts §4 says a reset clears: every user code, the
// programming code, the pairing with the hub and the door handing. Door handing then
// runs by itself after a few seconds (§3.5, §3.6).
func (l *Lock) factoryReset(seq string) {
	l.cancelVolatile()
	l.clearAll()
	l.mastercode, l.progCode, l.disabled = "", "", false
	l.handing = "pending"
	l.log(KindState, "factory reset (%s): user codes, programming code, pairing and door handing cleared", seq)
	l.leaveNetwork()
	l.w.Clock.AfterFunc(l.handingWait, l.doorHanding)
}

// leaveNetwork drops the lock's pairing. On Z-Wave it sends Device Reset Locally if the
// model does (configurable: unconfirmed per model, facts §4), and otherwise leaves a
// ghost node on the hub; a Zigbee lock announces that it leaves; an IP lock's app entry
// stays until deleted in the app.
func (l *Lock) leaveNetwork() {
	if l.net == nil {
		return
	}
	h, addr := l.net.hub, l.net.addr
	switch {
	case h.radio == catalog.RadioZWave && l.sendsDRL:
		l.emit(Report{Event: latchkey.EventResetLocally, Detail: "Device Reset Locally"})
	case h.radio == catalog.RadioZigbee:
		l.emit(Report{Event: latchkey.EventResetLocally, Detail: "device left the network"})
		h.w.Clock.AfterFunc(time.Millisecond, func() { h.remove(addr, "device_leave") })
	default:
		h.ghost(addr)
		l.log(KindState, "left the %s network without telling the hub: %s is now a ghost there", h.radio, addr)
	}
	l.net = nil
}

// doorHanding teaches the motor the door's hand by throwing the bolt; a bolt that
// cannot move fails it, which the status LED shows solid red (facts §3.6, K4).
func (l *Lock) doorHanding() {
	if !l.powered() || l.handing != "pending" {
		return
	}
	if l.stuckBolt || l.binds() {
		// A stuck bolt, or a closed door whose strike the bolt does not meet.
		l.handing = "failed"
		l.log(KindBolt, "door handing failed: the bolt could not move")
		l.log(KindLED, "status LED solid red: door handing failed; redo it (facts §3.6)")
		return
	}
	l.handing = "set"
	l.bolt = "unlocked"
	l.log(KindBolt, "door handing: bolt thrown and retracted; handing set")
}

// PressA presses button A on the interior. With the Z-Wave hub in inclusion or
// exclusion mode, one press adds or removes the lock; four presses in a row pair a
// Zigbee lock with a hub permitting joins (facts §3.11).
func (l *Lock) PressA() error {
	if !l.powered() {
		l.log(KindRefuse, "A: no response (no power)")
		return nil
	}
	l.log(KindAction, "press A")
	switch l.radio {
	case catalog.RadioZWave:
		h := l.home()
		switch h.mode {
		case HubInclusion:
			l.flash("red", 1)
			if l.net != nil {
				l.log(KindState, "already included as node %s", l.net.addr)
				return nil
			}
			l.net = &membership{hub: h, addr: h.join(l)}
			h.SetMode(HubIdle, 0)
			h.log("included %s as node %s", l.name, l.net.addr)
		case HubExclusion:
			l.flash("red", 1)
			if l.net != nil {
				h.remove(l.net.addr, "excluded")
			}
			l.net = nil
			h.SetMode(HubIdle, 0)
			l.log(KindState, "excluded from the Z-Wave network")
		}
	case catalog.RadioZigbee:
		now := l.w.Now()
		kept := l.aPresses[:0]
		for _, t := range l.aPresses {
			if now.Sub(t) < 5*time.Second {
				kept = append(kept, t)
			}
		}
		l.aPresses = append(kept, now)
		h := l.home()
		if len(l.aPresses) >= 4 && h.mode == HubPermit && l.net == nil {
			l.aPresses = nil
			l.net = &membership{hub: h, addr: h.join(l)}
			h.log("device_joined %s; interview successful", l.name)
		}
	default:
		l.log(KindState, "button A does nothing on a lock without a Z-Wave or Zigbee radio")
	}
	return nil
}

// Pair joins an IP lock (Wi-Fi, Bluetooth, Matter) to its hub, as the Kwikset app or a
// Matter commissioner would.
func (l *Lock) Pair() error {
	switch l.radio {
	case catalog.RadioWiFi, catalog.RadioBLE, catalog.RadioMatter:
	default:
		return latchkey.Errorf(latchkey.EINVALID, "Pair is for Wi-Fi, Bluetooth and Matter locks; use button A for Z-Wave and Zigbee.")
	}
	if !l.powered() {
		return latchkey.Errorf(latchkey.EUNAVAILABLE, "The lock has no power.")
	}
	if l.net != nil && l.net.hub.members[l.net.addr] != nil {
		return nil
	}
	// Not paired, or deleted in the app while it could not be told: pair afresh.
	h := l.home()
	l.net = &membership{hub: h, addr: h.join(l)}
	h.log("paired %s", l.name)
	return nil
}

// String describes the lock for the console.
func (l *Lock) String() string {
	return fmt.Sprintf("%s: %s, radio %q", l.name, l.model.Name, l.radio)
}
