package sim_test

import "testing"

// kwikset-facts §1.2: the rekey sequence teaches the new key; the old one stops working.
func TestCylinderRekey(t *testing.T) {
	w := run(t, cyl, "c: insert key 35242", "c: turn 90 cw", "c: insert tool", "c: remove tool",
		"c: remove key", "c: insert key 46353", "c: turn 180 ccw",
		"expect c state operate", "expect c bitting 46353", "c: turn 90 cw", "c: remove key",
		"c: insert key 35242", "c: turn 90 cw")
	mustHave(t, w, "c", "key 35242 does not turn")
}

// §1.2 variant: after the learn turn, turning back through the learn position works.
func TestCylinderRekeyVariantTurnBack(t *testing.T) {
	run(t, cyl, "c: insert key 35242", "c: turn 90 cw", "c: insert tool", "c: remove tool",
		"c: remove key", "c: insert key 46353", "c: turn 180 ccw", "c: turn 180 cw", "c: turn 90 ccw",
		"c: remove key", "expect c key none", "expect c bitting 46353")
}

// §1.3 failure modes: each leaves a scrambled cylinder that neither key turns.
func TestCylinderScrambles(t *testing.T) {
	learn := []string{"c: insert key 35242", "c: turn 90 cw", "c: insert tool", "c: remove tool", "c: remove key"}
	cases := map[string][]string{
		"NewKeyNotFullyInserted": append(append([]string{}, learn...), "c: insert key 46353 partly", "c: turn 180 ccw"),
		"KeyWithdrawnBeforeTurn": append(append([]string{}, learn...), "c: insert key 46353", "c: turn 90 ccw", "c: remove key"),
		"ToolNotFullyInserted":   {"c: insert key 35242", "c: turn 90 cw", "c: insert tool partly"},
	}
	for name, steps := range cases {
		t.Run(name, func(t *testing.T) {
			// Scrambled, and neither the old key nor the new one turns now.
			w := run(t, cyl, append(steps, "expect c state scrambled", "c: remove tool", "c: remove key",
				"c: insert key 35242", "c: turn 90 cw", "c: remove key", "c: insert key 46353", "c: turn 90 cw")...)
			mustHave(t, w, "c", "key 35242 does not turn", "scrambled")
			mustHave(t, w, "c", "key 46353 does not turn", "scrambled")
		})
	}
}

// §1.3: a forced key leaves a cylinder that neither the old key nor the new one turns,
// and once forced its rekey function is broken: after the cradle or a locksmith has
// recovered it, the tool still does not engage.
func TestCylinderForcedKeyScrambles(t *testing.T) {
	w := run(t, cyl, "c: insert key 11343", "c: turn 90 cw force", "expect c rekey broken",
		"expect c state scrambled", "c: remove key", "mark", "c: insert key 35242", "c: turn 90 cw",
		"expect seen c key 35242 does not turn", "expect unseen c key 35242 turned", "expect c bolt unlocked",
		"c: remove key", "c: recover 35242", "c: insert key 35242", "c: turn 90 cw", "c: insert tool",
		"expect c state operate")
	mustHave(t, w, "c", "does not engage")
}

// §1.3: a key forced during the rekey (learn mode) scrambles the cylinder too: neither
// the old nor the new key works, and the rekey function is broken.
func TestCylinderForcedInLearnMode(t *testing.T) {
	learn := []string{"c: insert key 35242", "c: turn 90 cw", "c: insert tool", "c: remove tool", "c: remove key", "c: insert key 46353"}
	for name, force := range map[string]string{"Clockwise": "c: turn 90 cw force", "LearnTurn": "c: turn 180 ccw force"} {
		t.Run(name, func(t *testing.T) {
			run(t, cyl, append(append([]string{}, learn...), force, "expect c state scrambled", "expect c rekey broken",
				"expect unseen c learned key", "c: remove key", "mark", "c: insert key 46353", "c: turn 90 cw", "c: remove key",
				"c: insert key 35242", "c: turn 90 cw", "expect seen c key 46353 does not turn",
				"expect seen c key 35242 does not turn")...)
		})
	}
}

// §1.1, §8: a wrong key or a key not fully in does not turn; keys come out at vertical.
func TestCylinderKeyRules(t *testing.T) {
	w := run(t, cyl, "c: insert key 46353", "c: turn 90 cw", "c: remove key",
		"c: insert key 35242 partly", "c: turn 90 cw", "c: remove key",
		"c: insert key 35242", "c: turn 90 cw", "c: remove key", "expect c key 35242")
	mustHave(t, w, "c", "46353 does not turn", "does not match")
	mustHave(t, w, "c", "not fully inserted")
	mustHave(t, w, "c", "comes out only at vertical")
}

// A key can be tried from inside only on a double cylinder; a single one has a thumbturn.
func TestCylinderSides(t *testing.T) {
	w := run(t, cyl, "c: insert key 35242 inside")
	mustHave(t, w, "c", "thumbturn")
	run(t, "  - {name: d, cylinder: {bitting: \"35242\", double: true}}\n",
		"d: insert key 35242 inside", "d: turn 90 cw", "expect d angle 90")
}

// §1.3: the reset cradle or a locksmith recovers a scrambled cylinder.
func TestCylinderRecover(t *testing.T) {
	run(t, cyl, "c: insert key 35242", "c: turn 90 cw", "c: insert tool partly", "expect c state scrambled",
		"c: remove tool", "c: recover 52413", "expect c state operate", "c: insert key 52413", "c: turn 90 cw",
		"expect c angle 90")
}

// §2, §1.4: depth 7 and KW10 (6-cut) keys are UNCONFIRMED for SmartKey; the twin takes
// the conservative side and refuses them at the keyway (docs/simulator.md's table).
func TestCylinderRefusesDepth7AndKW10(t *testing.T) {
	w := run(t, cyl, "c: insert key 35247", "expect c key none", "c: insert key 352424", "expect c key none")
	mustHave(t, w, "c", "key 35247 is not a KW1 key", "depth 7")
	mustHave(t, w, "c", "key 352424 is not a KW1 key", "KW10")
	if _, err := runErr("  - {name: c, cylinder: {bitting: \"35247\"}}\n"); err == nil {
		t.Fatal("a cylinder keyed to depth 7 was built")
	}
}
