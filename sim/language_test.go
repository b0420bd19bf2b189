package sim_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/sim"
)

// mustFail runs steps that must fail at the last one with a conflict (an expectation
// that does not hold) whose message contains want.
func mustFail(t *testing.T, twins, want string, steps ...string) {
	t.Helper()
	_, err := runErr(twins, steps...)
	if err == nil || latchkey.ErrorCode(err) != latchkey.ECONFLICT || !strings.Contains(latchkey.ErrorMessage(err), want) {
		t.Fatalf("got %v; want a failed expectation saying %q", err, want)
	}
	if !strings.Contains(latchkey.ErrorMessage(err), fmt.Sprintf("Step %d (", len(steps))) {
		t.Fatalf("%v: want step %d to fail", err, len(steps))
	}
}

// §3.11, §4: the hub's membership and the Z-Wave alarm numbers it received can be
// asserted: member:TWIN, members, alarms, alarms:TWIN, alarm:N.
func TestExpectHubFields(t *testing.T) {
	run(t, lock916, "expect hub zwave members 1", "expect hub zwave member:l 2", "expect hub zwave member:2 2",
		"expect hub zwave member:nobody absent", "expect hub zwave mode idle", "expect hub zwave alarms none",
		// §3.11 (Z1): keypad unlock 19, keypad lock 18, RF lock 24.
		"l: press 135790", "advance 2s", "l: press lock", "advance 2s", "hub zwave unlock l", "advance 3s",
		"hub zwave lock l", "advance 3s", "expect hub zwave alarms 19 18 25 24", "expect hub zwave alarms:l 19 18 25 24",
		"expect hub zwave alarm:19 1", "expect hub zwave alarm:9 0",
		// A reset without Device Reset Locally leaves a ghost; included again, the twin has two entries.
		"l: fault reset-behind-hub", "advance 10s", "expect hub zwave member:l 2 ghost",
		"hub zwave mode inclusion", "l: button a", "expect hub zwave member:l 2 ghost, 3", "expect hub zwave members 2")
	mustFail(t, lock916, `Expected the zwave hub's member:l to be "absent", but it is "2"`, "expect hub zwave member:l absent")
	// Alarm numbers are Z-Wave's: a Zigbee hub receives none.
	run(t, lock910, "l: press 135790", "advance 6s", "expect hub zigbee alarms none")
	if _, err := runErr(lock916, "expect hub zwave colour red"); latchkey.ErrorCode(err) != latchkey.EINVALID {
		t.Fatalf("unknown hub field: %v", err)
	}
}

// Trace assertions: seen, unseen (that something did not happen) and order, since the
// last mark.
func TestTraceAssertions(t *testing.T) {
	run(t, lock916, "l: press 135790", "advance 2s",
		"expect seen l code of slot 1 accepted",
		"expect order l press 1 then l code of slot 1 accepted then l unlocked (keypad, slot 1) then zwave-hub event from 2: unlocked",
		"expect unseen l wrong code", "expect unseen * jammed",
		"mark", "expect unseen l code of slot 1 accepted", "l: press 9 lock", "expect seen l wrong code",
		"expect seen * wrong code")
	mustFail(t, lock916, "but there is one", "l: press 135790", "expect unseen l accepted")
	mustFail(t, lock916, "there is none", "mark", "expect seen l press")
	mustFail(t, lock916, "not there in that order", "l: press 135790", "advance 2s",
		"expect order zwave-hub event from 2: unlocked then l code of slot 1 accepted")
	// A mistyped name is a mistake, not an "unseen" that holds.
	for _, bad := range []string{"expect unseen front jammed", "expect unseen zwave jammed", "expect order l press", "expect seen l"} {
		if _, err := runErr(lock916, bad); latchkey.ErrorCode(err) != latchkey.EINVALID {
			t.Errorf("%q: %v, want invalid", bad, err)
		}
	}
	// The names the assertions use are reserved.
	for _, name := range []string{"seen", "order", "zwave-hub"} {
		if _, err := runErr("  - {name: " + name + ", cylinder: {bitting: \"35242\"}}\n"); latchkey.ErrorCode(err) != latchkey.EINVALID {
			t.Errorf("twin named %s: %v, want refused", name, err)
		}
	}
}

// §4: a ghost left by a reset without Device Reset Locally is removed with "remove failed
// node" once it does not answer; a node that answers stays.
func TestRemoveFailedNode(t *testing.T) {
	w := run(t, lock916, "hub zwave remove-failed l", "advance 15s", "expect hub zwave member:l 2",
		"l: fault reset-behind-hub", "advance 2s", "hub zwave remove-failed l", "advance 5s",
		"expect hub zwave member:l 2 ghost", "advance 10s", "expect hub zwave member:l absent",
		"expect order zwave-hub remove failed node 2 then zwave-hub timed out then zwave-hub removed 2 (failed node removed)")
	mustHave(t, w, "zwave-hub", "node 2 answered: it has not failed")
	if _, err := runErr(lock910, "hub zigbee remove-failed l"); latchkey.ErrorCode(err) != latchkey.EINVALID {
		t.Fatalf("remove-failed on Zigbee: %v", err)
	}
}

// §3.5 R3, §4: deleting an IP lock in the app first means its reset leaves no ghost; a
// reset without it leaves one.
func TestDeleteInApp(t *testing.T) {
	const halo = "  - {name: l, lock: {model: halo-keypad, radio: wifi, paired: true}}\n"
	reset := []string{"l: battery out", "l: hold program", "l: battery in", "advance 30s", "l: release program", "l: press program"}
	run(t, halo, append([]string{"hub wifi delete l", "advance 1s", "expect l paired no", "expect hub wifi member:l absent"},
		append(reset, "advance 10s", "expect hub wifi members 0", "expect unseen l ghost")...)...)
	run(t, halo, append(reset, "expect hub wifi member:l l ghost", "hub wifi delete l", "expect hub wifi members 0")...)
	// Deleted while it could not be told (no battery), the lock still thinks it is paired;
	// pairing it again works.
	run(t, halo, "l: battery out", "hub wifi delete l", "advance 1s", "l: battery in", "expect l paired wifi l",
		"expect hub wifi members 0", "l: pair", "expect hub wifi member:l l")
	if _, err := runErr(lock916, "hub zwave delete l"); latchkey.ErrorCode(err) != latchkey.EINVALID {
		t.Fatalf("delete on Z-Wave: %v", err)
	}
}

// §3.4 D (MCP): the Kwikset app lets the lock choose the slot: the lowest free one.
func TestAddCodeLockChoosesSlot(t *testing.T) {
	w := run(t, "  - {name: l, lock: {model: halo-keypad, radio: wifi, paired: true, codes: {2: \"52963\"}}}\n",
		"hub wifi add-code l 70415", "advance 1s", "hub wifi add-code l 81526", "advance 1s",
		"expect l slot:1 set", "expect l slot:3 set", "hub wifi add-code l 99999912", "advance 1s", "expect l codes 3")
	mustHave(t, w, "wifi-hub", "the lock chose slot 1")
	mustHave(t, w, "wifi-hub", "the lock chose slot 3")
	mustHave(t, w, "wifi-hub", "#3 failed")
	if _, err := runErr(lock916, "hub zwave add-code l 123456"); latchkey.ErrorCode(err) != latchkey.EINVALID {
		t.Fatalf("add-code on Z-Wave: %v", err)
	}
}

// §3.5, §3.6, §3.7 (Z1): Z-Wave configuration parameters 40 (remote factory reset), 10
// (HC620 direction detection) and 36 (888 relock time); undocumented ones are refused.
func TestZWaveConfigParameters(t *testing.T) {
	run(t, lock916, "hub zwave config l 40 1", "advance 3s", "expect l codes 0", "expect l paired no",
		"expect hub zwave member:l 2 ghost", "advance 6s", "expect l handing set")
	w := run(t, lock916, "hub zwave config l 36 60", "hub zwave config l 40 7", "advance 5s", "expect l codes 1")
	mustHave(t, w, "zwave-hub", "#1 failed at 2: parameter 36 is not documented for the 916")
	mustHave(t, w, "zwave-hub", "#2 failed at 2: value 7 of parameter 40 is not documented")

	run(t, "  - {name: l, lock: {model: \"620\", radio: zwave, paired: true}}\n",
		"expect l handing set", "hub zwave config l 10 1", "advance 3s", "expect l handing set",
		"expect order l parameter 10 set to 1 then l door handing: bolt thrown and retracted")
	run(t, "  - {name: l, lock: {model: \"888\", radio: zwave, paired: true, locked: true, codes: {1: \"135790\"}}}\n",
		"expect l auto-lock off", "hub zwave config l 36 60", "advance 3s", "expect l auto-lock 1m0s",
		"hub zwave unlock l", "advance 3s", "expect l bolt unlocked", "advance 55s", "expect l bolt unlocked",
		"advance 5s", "expect l bolt locked", "expect hub zwave alarm:27 1",
		"hub zwave config l 36 0", "advance 3s", "expect l auto-lock off")
	if _, err := runErr(lock910, "hub zigbee config l 40 1"); latchkey.ErrorCode(err) != latchkey.EINVALID {
		t.Fatalf("config on Zigbee: %v", err)
	}
}

// §3.6, §3.9 (K4, K5): DIP switch 4 is "Invert" on the Convert, set when the status LED
// reports the opposite state; it has no use on the 909/910.
func TestDIPSwitch4(t *testing.T) {
	run(t, "  - {name: l, lock: {model: 914c, radio: zwave, paired: true, handing_reversed: true}}\n",
		"expect l bolt unlocked", "expect l led blinking amber", "hub zwave status l", "advance 3s",
		"expect seen zwave-hub bolt locked", "l: dip 4 on", "expect l switch4 on", "expect l led blinking green",
		"mark", "hub zwave status l", "advance 3s", "expect seen zwave-hub bolt unlocked")
	w := run(t, lock910, "l: dip 4 on", "expect l switch4 on")
	mustHave(t, w, "l", "switch 4 has no documented use on the 910")
	if _, err := runErr("  - {name: l, lock: {model: \"916\", handing_reversed: true}}\n"); latchkey.ErrorCode(err) != latchkey.EINVALID {
		t.Fatalf("handing_reversed on a 916: %v", err)
	}
}

// §1.2: a cylinder drives a bolt and sits in a door; a thrown bolt keeps the door from
// closing, and the guides' "door open, bolt thrown" can be checked.
func TestCylinderDoorAndBolt(t *testing.T) {
	w := run(t, "  - {name: c, cylinder: {bitting: \"35242\", door_open: true}}\n",
		"expect c door open", "expect c bolt unlocked", "c: insert key 35242", "c: turn 90 cw", "expect c bolt locked",
		"c: door closed", "expect c door open", "c: thumbturn", "c: turn 90 ccw", "c: turn 90 ccw", "expect c bolt unlocked",
		"c: turn 90 cw", "c: thumbturn", "expect c bolt locked", "c: thumbturn", "c: door closed", "expect c door closed")
	mustHave(t, w, "c", "the door cannot close")
	mustHave(t, w, "c", "the key in the plug holds the cam")
	w = run(t, "  - {name: d, cylinder: {bitting: \"35242\", double: true, locked: true}}\n", "d: thumbturn", "expect d bolt locked")
	mustHave(t, w, "d", "a double cylinder has a keyway inside")
}

// The console shows a hub's fields as "expect hub" reads them.
func TestShowHub(t *testing.T) {
	s, err := sim.ParseScenario([]byte("seed: 1\ntwins:\n" + lock916))
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.Build()
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	c := &sim.Console{W: w, Out: &out}
	if err := c.Exec("show hub zwave"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"zwave hub at", "members     1", "member:2    2", "alarms      none"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("show hub zwave lacks %q:\n%s", want, out.String())
		}
	}
}
