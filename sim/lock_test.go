package sim_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/sim"
)

const (
	lock910 = "  - {name: l, lock: {model: \"910\", radio: zigbee, paired: true, locked: true, codes: {1: \"135790\"}}}\n"
	lock916 = "  - {name: l, lock: {model: \"916\", radio: zwave, paired: true, locked: true, codes: {1: \"135790\"}}}\n"
)

// §3.4 A: Program N times puts a code at position N; overwriting is how a position is
// deleted.
func TestPositionProgramming(t *testing.T) {
	run(t, lock910, "l: press program program program 482916 lock", "expect l slot:3 set",
		"l: press program program program 582916 lock", "expect l slot:3 set", "expect l codes 2",
		"l: press 582916", "advance 1s", "expect l bolt unlocked")
}

// §3.4 A: overwriting a position at the keypad is a changed code, reported through the
// hub with its slot and never its digits; a new position is an added code.
func TestPositionOverwriteReportsAChange(t *testing.T) {
	w := run(t, lock910, "l: press program 482916 lock", "advance 5s", "l: press program program 582916 lock", "advance 5s")
	mustHave(t, w, "zigbee-hub", "code_changed", "slot 1")
	mustHave(t, w, "zigbee-hub", "code_added", "slot 2")
	for _, e := range w.Trace() {
		if e.Twin != "l" && (strings.Contains(e.Detail, "482916") || strings.Contains(e.Detail, "582916")) {
			t.Fatalf("the hub saw the digits set at the keypad: %s", e.Detail)
		}
	}
}

// §3.4 A, M1: more than 5 s between presses times the programming out with two beeps.
func TestProgrammingTimeout909(t *testing.T) {
	w := run(t, "  - {name: l, lock: {model: \"909\"}}\n", "l: press program", "advance 6s", "expect l mode normal")
	mustHave(t, w, "l", "programming timed out", "5s")
	mustHave(t, w, "l", "2 beeps")
}

// §3.2, §8: on a five-button keypad 1357 and 2468 are the same code.
func TestSameButtonCollisionRefused(t *testing.T) {
	w := run(t, lock910, "l: press program program 1357 lock", "l: press program program program 2468 lock",
		"expect l slot:3 empty")
	mustHave(t, w, "l", "same buttons")
	// And 2468 typed at the keypad opens with slot 2's 1357.
	run(t, lock910, "l: press program program 1357 lock", "l: press 2468", "advance 1s", "expect l bolt unlocked")
}

// §3.2: the memory holds the model's capacity and not one code more; a full keypad
// programming attempt is reported with code id 0 (ST1).
func TestCapacity(t *testing.T) {
	steps := []string{}
	for i := 1; i <= 17; i++ {
		steps = append(steps, fmt.Sprintf("l: press program %d%04d lock", i%10, 1000+i*37))
	}
	w := run(t, "  - {name: l, lock: {model: \"913\"}}\n", append(steps, "expect l codes 16")...)
	mustHave(t, w, "l", "all 16 slots are full")

	steps = []string{}
	for i := 1; i <= 31; i++ {
		steps = append(steps, fmt.Sprintf("hub zwave set-code l %d %d", i, 500000+i*7919))
	}
	w = run(t, "  - {name: l, lock: {model: \"916\", radio: zwave, paired: true}}\n", append(steps, "advance 30s", "expect l codes 30")...)
	mustHave(t, w, "zwave-hub", "#31 failed", "outside 1 to 30")
}

// §3.8: three wrong codes within a minute lock the keypad for 60 s; the window slides,
// so three spread over more than a minute do not.
func TestWrongCodeLockout(t *testing.T) {
	w := run(t, lock916, "l: press 111111 lock", "l: press 222222 lock", "l: press 333333 lock",
		"expect l mode locked out", "l: press 135790", "advance 59s", "expect l bolt locked", "advance 2s",
		"l: press 135790", "advance 1s", "expect l bolt unlocked")
	mustHave(t, w, "l", "X ×15")
	// The right code just before the 60 s end is still ignored; just after, it opens.
	run(t, lock916, "l: press 111111 lock", "l: press 222222 lock", "l: press 333333 lock",
		"advance 59s", "l: press 135790", "advance 500ms", "expect l bolt locked", "expect l mode locked out")
	run(t, lock916, "l: press 111111 lock", "l: press 222222 lock", "l: press 333333 lock",
		"advance 60s", "l: press 135790", "advance 1s", "expect l bolt unlocked")
	mustHave(t, w, "zwave-hub", "keypad_lockout")
	mustHave(t, w, "l", "ignored: keypad locked out")

	w = run(t, lock916, "l: press 111111 lock", "advance 31s", "l: press 222222 lock", "advance 31s",
		"l: press 333333 lock", "expect l mode normal")
	mustNotHave(t, w, "l", "locked out for")
}

// §3.7, K4: auto-lock relocks 30 s after an unlock with switch 2 on, but not when no user
// code is stored.
func TestAutoLock(t *testing.T) {
	run(t, "  - {name: l, lock: {model: \"916\", dip: {auto_lock: true, audio: true}, locked: true, codes: {1: \"135790\"}}}\n",
		"l: press 135790", "advance 10s", "expect l bolt unlocked", "advance 25s", "expect l bolt locked")
	w := run(t, "  - {name: l, lock: {model: \"916\", dip: {auto_lock: true}, locked: true}}\n",
		"l: thumbturn", "advance 60s", "expect l bolt unlocked")
	mustHave(t, w, "l", "auto-lock skipped")
}

// §3.9: beeps are heard only with the audio switch (3) on.
func TestAudioSwitch(t *testing.T) {
	w := run(t, "  - {name: l, lock: {model: \"910\", dip: {audio: false}}}\n", "l: press program 123456 lock")
	for _, e := range w.Trace() {
		if e.Kind == "beep" {
			t.Fatalf("beep with the audio switch off: %+v", e)
		}
	}
	mustHave(t, w, "l", "green")
}

// §3.9: low battery at 4.8 V (alarm 167), critical at 4.5 V (168); a dead battery
// leaves a lock that answers nothing.
func TestBatteryThresholds(t *testing.T) {
	w := run(t, lock916, "l: battery 4803", "l: press 135790", "advance 1s", "l: press lock", "advance 1s",
		"expect l led blinking red", "l: battery 4500", "l: battery 4000", "l: press 135790", "l: button a",
		"expect l power dead", "expect l bolt locked", "hub zwave status l", "advance 15s")
	mustHave(t, w, "zwave-hub", "low_battery", "alarm 167")
	mustHave(t, w, "zwave-hub", "low_battery", "alarm 168")
	mustHave(t, w, "l", "no response (no power)")
	mustHave(t, w, "zwave-hub", "timed out")
}

// §3.6, §3.10, §6: a misaligned door jams the bolt when locking and drains more.
func TestMisalignmentJamsAndDrains(t *testing.T) {
	w := run(t, "  - {name: l, lock: {model: \"916\", radio: zwave, paired: true, misaligned: true}}\n",
		"l: press lock", "advance 1s", "expect l bolt jammed", "l: thumbturn", "l: misalign off",
		"l: press lock", "advance 1s", "expect l bolt locked")
	mustHave(t, w, "zwave-hub", "jammed")
	mustHave(t, w, "l", "checkmark and lock alternate")
	// Ten misaligned runs cost more than ten aligned ones.
	drain := func(misaligned bool) int {
		w := run(t, fmt.Sprintf("  - {name: l, lock: {model: \"916\", misaligned: %v, codes: {1: \"135790\"}}}\n", misaligned),
			strings.Split(strings.Repeat("l: door closed|l: press lock|advance 1s|l: thumbturn|l: press 135790|advance 1s|", 5), "|")[:30]...)
		var mv int
		fmt.Sscan(field(t, w, "l", "battery"), &mv)
		return 6200 - mv
	}
	if a, m := drain(false), drain(true); m <= a {
		t.Errorf("misaligned drain %d mV, aligned %d mV: misalignment must cost more", m, a)
	}
}

// §3.5 R1: battery out, hold Program, battery in, ~30 s, release, press once. Released
// early, nothing is reset.
func TestResetR1(t *testing.T) {
	w := run(t, lock916, "l: battery out", "l: hold program", "l: battery in", "advance 20s", "l: release program",
		"l: press program", "expect l codes 1")
	mustHave(t, w, "l", "released before 30 s")
	w = run(t, lock916, "l: battery out", "l: hold program", "l: battery in", "advance 30s", "l: release program",
		"l: press program", "expect l codes 0", "expect l paired no", "expect l handing pending", "advance 6s",
		"expect l handing set")
	mustHave(t, w, "l", "2 beeps")
	mustHave(t, w, "l", "red flash")
}

// §3.5 R2: the 955 resets with Program held 30 s (long beep), then pressed once.
func TestResetR2(t *testing.T) {
	w := run(t, "  - {name: l, lock: {model: \"955\", codes: {1: \"52963\"}, programming_code: \"1470\"}}\n",
		"l: hold program", "advance 31s", "l: release program", "l: press program", "expect l codes 0",
		"expect l progcode unset")
	mustHave(t, w, "l", "long beep")
}

// §3.5 R3, §4: a Halo reset clears its app pairing; if it was not deleted in the app
// first, the app keeps a ghost.
func TestResetR3Halo(t *testing.T) {
	w := run(t, "  - {name: l, lock: {model: halo-keypad, radio: wifi, paired: true}}\n",
		"l: battery out", "l: hold program", "l: battery in", "advance 30s", "l: release program",
		"l: press program", "expect l paired no", "hub wifi members")
	mustHave(t, w, "wifi-hub", "ghost")
}

// §3.6, K4: door handing runs after a reset; a bolt that cannot move fails it: solid red.
func TestDoorHandingFails(t *testing.T) {
	run(t, lock916, "l: fault stuck-bolt on", "l: fault reset-behind-hub", "advance 10s",
		"expect l handing failed", "expect l led solid red")
}

// §3.11: one press of A in inclusion or exclusion mode adds or removes a Z-Wave lock;
// Zigbee pairs on four presses in a row while the hub permits joining.
func TestPairing(t *testing.T) {
	run(t, "  - {name: l, lock: {model: \"916\", radio: zwave}}\n",
		"l: button a", "expect l paired no", "hub zwave mode inclusion", "l: button a", "expect l paired zwave 2",
		"hub zwave mode exclusion", "l: button a", "expect l paired no")
	run(t, "  - {name: l, lock: {model: \"910\", radio: zigbee}}\n",
		"hub zigbee mode permit-join", "l: button a", "l: button a", "l: button a", "expect l paired no",
		"l: button a", "expect l paired zigbee l")
	run(t, "  - {name: l, lock: {model: \"910\", radio: zigbee}}\n",
		"hub zigbee mode permit-join", "l: button a", "l: button a", "advance 10s", "l: button a", "l: button a",
		"expect l paired no")
}

// §4, Z2: a reset lock that sends Device Reset Locally is removed by the hub; one that
// does not stays as a ghost that never answers. Which models send it is unconfirmed, so
// it is a setting.
func TestResetLocallyAndGhosts(t *testing.T) {
	w := run(t, "  - {name: l, lock: {model: \"916\", radio: zwave, paired: true, sends_device_reset_locally: true}}\n",
		"l: fault reset-behind-hub", "advance 2s", "hub zwave members")
	mustHave(t, w, "zwave-hub", "removed 2", "reset locally")
	mustHave(t, w, "zwave-hub", "members: none")
	w = run(t, lock916, "l: fault reset-behind-hub", "advance 2s", "hub zwave members", "hub zwave status l", "advance 15s")
	mustHave(t, w, "zwave-hub", "member 2", "ghost")
	mustHave(t, w, "zwave-hub", "#1 to 2 timed out")
	// Zigbee: the lock leaves the network.
	w = run(t, lock910, "l: fault reset-behind-hub", "advance 2s", "hub zigbee members")
	mustHave(t, w, "zigbee-hub", "device_leave")
}

// Unsolicited events: unlocked by keypad with the slot, wrong code, tamper (§3.9 M2).
func TestUnsolicitedEvents(t *testing.T) {
	w := run(t, lock916, "l: press 135790", "advance 2s", "l: press 999999 lock", "advance 1s", "l: fault tamper",
		"l: press 1", "advance 1s", "expect l tamper disconnected", "l: battery out", "l: battery in", "expect l tamper ok")
	mustHave(t, w, "zwave-hub", "unlocked slot 1 (keypad)")
	mustHave(t, w, "zwave-hub", "wrong_code")
	mustHave(t, w, "zwave-hub", "tamper")
	mustHave(t, w, "l", "continuous beeping")
}

// §3.3, §3.4 B: with a Mastercode set, Program alone no longer adds codes.
func TestMastercode(t *testing.T) {
	w := run(t, "  - {name: l, lock: {model: \"914\", mastercode: \"97531\"}}\n",
		"l: press program 2580 lock", "expect l codes 0", "l: press 97531 lock 2580 lock 2580 lock", "expect l codes 1",
		"l: press 97531 lock 999999 lock", "expect l codes 0")
	mustHave(t, w, "l", "a Mastercode is set")
	// The Mastercode itself does not unlock (§3.3).
	run(t, "  - {name: l, lock: {model: \"914\", mastercode: \"97531\", locked: true}}\n",
		"l: press 97531", "advance 5s", "expect l bolt locked")
}

// §3.4 C: a programming code replaces the Program button and cannot equal a user code.
func TestProgrammingCode(t *testing.T) {
	w := run(t, "  - {name: l, lock: {model: \"264\", programming_code: \"1470\", codes: {1: \"52963\"}}}\n",
		"l: press program", "l: press 1470 kwikset 4 kwikset 52963 kwikset", "expect l progcode set",
		"l: press 1470 kwikset 6 kwikset", "expect l user-codes disabled")
	mustHave(t, w, "l", "replaces the Program button")
	mustHave(t, w, "l", "cannot equal a user code")
}

// Faults: a radio drop makes the hub time out; the lock is reachable again afterwards.
func TestRadioDrop(t *testing.T) {
	w := run(t, lock916, "l: fault radio-drop 30s", "hub zwave status l", "advance 20s", "advance 15s",
		"hub zwave status l", "advance 5s")
	mustHave(t, w, "zwave-hub", "#1 to 2 timed out")
	mustHave(t, w, "zwave-hub", "#2 done")
}

// Power lost during a code write: an atomic firmware keeps the old slot, a torn-slot
// firmware leaves half a code that opens nothing; the hub hears nothing back either way.
func TestPowerLossDuringWrite(t *testing.T) {
	for _, torn := range []bool{false, true} {
		t.Run(fmt.Sprintf("torn=%v", torn), func(t *testing.T) {
			w := run(t, fmt.Sprintf("  - {name: l, lock: {model: \"916\", radio: zwave, paired: true, locked: true, torn_writes: %v, codes: {1: \"135790\"}}}\n", torn),
				"l: fault write", "hub zwave set-code l 1 864213", "advance 15s", "l: press 135790", "advance 2s")
			mustHave(t, w, "zwave-hub", "#1 to 2 timed out")
			mustNotHave(t, w, "zwave-hub", "#1 done")
			opened := field(t, w, "l", "bolt") == "unlocked"
			if opened == torn {
				t.Fatalf("old code opened=%v with torn=%v: an atomic write keeps the old code, a torn one loses it", opened, torn)
			}
		})
	}
}

// protocols.md §1.5: clearing every slot is reported as "all codes deleted" (alarm 32).
func TestAllCodesDeletedReport(t *testing.T) {
	w := run(t, lock916, "hub zwave clear-code l 0", "advance 3s", "expect l codes 0")
	mustHave(t, w, "zwave-hub", "all_codes_deleted")
}

// §3.9, K4: switch 1 controls the status LED's blinking; a low battery shows regardless.
func TestLEDSwitch(t *testing.T) {
	run(t, "  - {name: l, lock: {model: \"916\", dip: {led: false, audio: true}}}\n", "expect l led off",
		"l: battery 4700", "expect l led blinking red")
}

// protocols.md §3: Matter PINs are write-only; reading a slot tells only whether it is set.
func TestMatterPINsWriteOnly(t *testing.T) {
	w := run(t, "  - {name: l, lock: {model: halo-select, radio: matter, paired: true}}\n",
		"hub matter set-code l 1 52963", "advance 2s", "hub matter get-code l 1", "advance 2s")
	mustHave(t, w, "matter-hub", "slot 1 is enabled")
	var got string
	h := w.Hub("matter")
	h.Send("l", sim.Command{Op: sim.OpGetCode, Slot: 1}, func(r sim.Report) { got = r.Code + "|" + r.Status })
	w.Advance(2 * time.Second)
	if got != "|enabled" {
		t.Fatalf("Matter get-code answered %q; want the status without the PIN", got)
	}
}

// §3.7 (K5): the Convert relocks 30 s after an unlock when its auto-lock switch is on.
// It holds no codes, so the SmartCode rule "no auto-lock while no code is stored" (K4)
// does not apply to it; its auto-lock is off by default.
func TestConvertAutoLocksWithoutCodes(t *testing.T) {
	const convert = "  - {name: l, lock: {model: 914c, radio: zwave, paired: true, locked: true}}\n"
	run(t, convert, "expect l auto-lock off", "hub zwave unlock l", "advance 3s", "expect l bolt unlocked",
		"advance 60s", "expect l bolt unlocked")
	run(t, convert, "l: dip auto-lock on", "hub zwave unlock l", "advance 3s", "expect l bolt unlocked",
		"advance 25s", "expect l bolt unlocked", "advance 5s", "expect l bolt locked",
		"expect unseen l auto-lock skipped", "expect hub zwave alarm:27 1")
}

// §3.9 (M2, M1): with no user code stored, a code entered shows the "no user code" alert:
// X ×3 with 3 beeps on the 916's touchscreen (one wrong code is X ×1 with 1 beep), red ×3
// with 3 beeps on the 909's keypad.
func TestNoUserCodeAlert(t *testing.T) {
	run(t, "  - {name: l, lock: {model: \"916\"}}\n", "mark", "l: press 246810 lock",
		"expect order l wrong code then l X ×3 then l 3 beeps", "expect unseen l X ×1", "expect unseen l 1 beep")
	run(t, "  - {name: l, lock: {model: \"916\", codes: {1: \"135790\"}}}\n", "mark", "l: press 246810 lock",
		"expect order l wrong code then l X ×1 then l 1 beep", "expect unseen l X ×3")
	run(t, "  - {name: l, lock: {model: \"909\"}}\n", "mark", "l: press 246810 lock",
		"expect order l wrong code then l red ×3 then l 3 beeps")
}

// §3.9 (Z1, NZ): the battery alarms are 167 low, 168 critical and 169 "too low to
// operate", each sent once as the voltage falls; a pack that drops straight below the
// dead-battery voltage (4.2 V, the twin's assumption) still sends 169 as the lock stops.
func TestBatteryAlarm169(t *testing.T) {
	run(t, lock916, "l: battery 4700", "advance 1s", "l: battery 4400", "advance 1s", "l: battery 4100", "advance 1s",
		"l: battery 3900", "advance 1s",
		"expect hub zwave alarms 167 168 169", "expect seen zwave-hub low_battery: too low to operate (alarm 169)",
		"expect l power dead")
	run(t, lock916, "l: battery 4000", "advance 1s", "expect hub zwave alarms 169", "expect l power dead")
	// A fresh pack clears the alarms; the next fall sends them again.
	run(t, lock916, "l: battery 4100", "advance 1s", "l: battery out", "l: battery 6200", "l: battery in",
		"l: battery 4600", "advance 1s", "expect hub zwave alarms 169 167")
}

// §3.3: a user code may not equal the programming code, whichever is set second: a user
// code added at the keypad or over the hub is refused when it is the programming code.
func TestUserCodeMayNotEqualProgrammingCode(t *testing.T) {
	w := run(t, "  - {name: l, lock: {model: \"264\", programming_code: \"1470\"}}\n",
		"l: press 1470 kwikset 1 kwikset 1470 kwikset", "expect l codes 0",
		"l: press 1470 kwikset 1 kwikset 2580 kwikset", "expect l codes 1")
	mustHave(t, w, "l", "cannot equal the programming code")
	w = run(t, "  - {name: l, lock: {model: \"620\", radio: zwave, paired: true, programming_code: \"1470\"}}\n",
		"hub zwave set-code l 1 1470", "advance 3s", "expect l codes 0", "expect seen zwave-hub failed at 2")
	mustHave(t, w, "zwave-hub", "cannot equal the programming code")
	if _, err := runErr("  - {name: l, lock: {model: \"955\", programming_code: \"1470\", codes: {1: \"1470\"}}}\n"); latchkey.ErrorCode(err) != latchkey.EINVALID {
		t.Fatalf("a scenario with a user code equal to the programming code: %v, want refused", err)
	}
	// The Mastercode family is different: a Mastercode may also be a user code (§3.3).
	run(t, "  - {name: l, lock: {model: \"914\", mastercode: \"97531\", codes: {1: \"97531\"}}}\n", "expect l codes 1")
}

// §3.4 C (EC): the HC620 deletes a code with Program once, Kwikset, the code, Kwikset,
// the code again, Kwikset. The code is deleted and the door stays locked: typing the
// code inside the sequence is not an entry at the keypad.
func TestHC620DeleteSequence(t *testing.T) {
	const hc620 = "  - {name: l, lock: {model: \"620\", radio: zwave, paired: true, locked: true, codes: {1: \"52963\", 2: \"70415\"}}}\n"
	run(t, hc620, "l: press program kwikset 52963 kwikset 52963 kwikset", "advance 3s",
		"expect l codes 1", "expect l slot:1 empty", "expect l bolt locked", "expect unseen l accepted",
		"expect order l code of slot 1 deleted then l green flash then l long beep", "expect hub zwave alarm:33 1",
		"l: press 52963", "advance 2s", "expect l bolt locked")
	// The two entries must match; a code not stored fails with red and three beeps.
	run(t, hc620, "mark", "l: press program kwikset 52963 kwikset 70415 kwikset", "advance 3s",
		"expect l codes 2", "expect l bolt locked", "expect seen l 3 beeps")
	run(t, hc620, "mark", "l: press program kwikset 11111 kwikset 11111 kwikset", "expect l codes 2",
		"expect seen l red ×3")
	// The 955's menu still wants a menu digit: Kwikset alone there is a failed entry.
	run(t, "  - {name: l, lock: {model: \"955\", codes: {1: \"52963\"}}}\n", "l: press program kwikset", "expect l mode normal",
		"expect seen l choose one menu digit")
}

// §3.5 (913 guide, SECONDARY): the 913 confirms its reset about 20 s after the second
// Program press with a green flash and one beep; the R1 models' two beeps come at once.
func TestReset913ConfirmsAfter20s(t *testing.T) {
	r1 := []string{"l: battery out", "l: hold program", "l: battery in", "advance 30s", "l: release program", "mark", "l: press program"}
	run(t, "  - {name: l, lock: {model: \"913\", codes: {1: \"135790\"}}}\n", append(r1,
		"expect unseen l beep", "advance 19s", "expect unseen l beep", "expect unseen l factory reset",
		"advance 2s", "expect order l green flash then l 1 beep then l factory reset", "expect unseen l 2 beeps",
		"expect l codes 0")...)
	run(t, "  - {name: l, lock: {model: \"916\", codes: {1: \"135790\"}}}\n", append(r1,
		"expect order l green flash then l 2 beeps then l factory reset", "expect l codes 0")...)
}

// §3.11 (Z1): a jam is reported by what ran the bolt: 23 "RF lock jammed" for a lock
// command from the hub, 26 "auto-lock jammed" for the auto-lock, 9 "jammed" otherwise.
func TestJamAlarmsBySource(t *testing.T) {
	const misaligned = "  - {name: l, lock: {model: \"916\", radio: zwave, paired: true, misaligned: true, dip: {auto_lock: true, audio: true}, codes: {1: \"135790\"}}}\n"
	run(t, misaligned, "hub zwave lock l", "advance 5s", "expect l bolt jammed", "expect hub zwave alarms 23",
		"expect seen zwave-hub jammed (rf): alarm 23")
	run(t, strings.Replace(misaligned, "misaligned: true", "misaligned: true, locked: true", 1), "l: press 135790", "advance 35s", "expect l bolt jammed", "expect hub zwave alarms 19 26",
		"expect seen zwave-hub jammed (auto): alarm 26")
	run(t, misaligned, "l: press lock", "advance 5s", "expect l bolt jammed", "expect hub zwave alarms 9",
		"expect hub zwave alarm:23 0", "expect hub zwave alarm:26 0")
}

// §3.2 (NZ, ST1): a duplicate code sent over Z-Wave is answered with alarm 113 (0x71),
// "duplicate PIN code"; on a five-button keypad a code pressing the same buttons as a
// stored one is that duplicate (STC, ALM). The slot stays empty.
func TestDuplicateOverZWaveRaisesAlarm113(t *testing.T) {
	run(t, lock916, "hub zwave set-code l 2 135790", "advance 3s", "expect l slot:2 empty",
		"expect hub zwave alarms 113", "expect seen zwave-hub failed at 2: duplicate PIN code (alarm 113, 0x71)")
	run(t, "  - {name: l, lock: {model: \"910\", radio: zwave, paired: true, codes: {1: \"135790\"}}}\n",
		"hub zwave set-code l 2 246800", "advance 3s", "expect l slot:2 empty", "expect hub zwave alarm:113 1")
	// Rewriting a slot with its own code is no duplicate; Zigbee has no alarm numbers.
	run(t, lock916, "hub zwave set-code l 1 135790", "advance 3s", "expect hub zwave alarm:113 0", "expect unseen zwave-hub failed")
	run(t, lock910, "hub zigbee set-code l 2 135790", "advance 8s", "expect l slot:2 empty", "expect hub zigbee alarms none",
		"expect seen zigbee-hub failed at l")
}

// JoinHub pairs a lock as a person would, on each radio: §3.11 for Z-Wave (A once, in
// inclusion) and Zigbee (A four times, permitting joins).
func TestJoinHub(t *testing.T) {
	w := sim.NewWorld(sim.Config{Seed: 1})
	for name, radio := range map[string]string{"zw": "zwave", "zb": "zigbee", "wifi": "wifi"} {
		model := map[string]string{"zwave": "916", "zigbee": "914", "wifi": "halo-keypad"}[radio]
		l, err := w.AddLock(name, sim.LockOptions{Model: model, Radio: radio})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, ok := l.Network(); ok {
			t.Fatalf("%s is paired before joining", name)
		}
		if err := l.JoinHub(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got, _, ok := l.Network(); !ok || got != radio {
			t.Errorf("%s after JoinHub: on %q, paired %v", name, got, ok)
		}
	}
}
