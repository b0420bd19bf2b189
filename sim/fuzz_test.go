package sim_test

import (
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/sim"
)

func FuzzParseScenario(f *testing.F) {
	f.Add([]byte("seed: 1\ntwins:\n  - {name: c, cylinder: {bitting: \"35242\"}}\nsteps: [\"c: turn 90 cw\", \"advance 1s\"]\n"))
	f.Add([]byte("twins:\n  - {name: l, lock: {model: \"916\", radio: zwave, paired: true, codes: {1: \"135790\"}}}\nsteps: [\"hub zwave status l\", \"advance 20s\"]\n"))
	f.Add([]byte("twins: []\n"))
	f.Add([]byte("name: x\nunknown: 1\n"))
	f.Add([]byte("twins:\n  - {name: a, lock: {model: \"910\"}, cylinder: {bitting: \"1\"}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := sim.ParseScenario(data)
		if err != nil {
			if latchkey.ErrorCode(err) != latchkey.EINVALID {
				t.Fatalf("parse error code %q: %v", latchkey.ErrorCode(err), err)
			}
			return
		}
		if len(s.Steps) > 200 {
			s.Steps = s.Steps[:200]
		}
		_, _ = s.Run()
	})
}

// newConsoleWorld is the world the console fuzzer drives: a cylinder, a Z-Wave 916 and
// a Zigbee 910.
func newConsoleWorld(t testing.TB) *sim.Console {
	w := sim.NewWorld(sim.Config{Seed: 1})
	if _, err := w.AddCylinder("c", sim.CylinderOptions{Bitting: "35242"}); err != nil {
		t.Fatal(err)
	}
	for _, o := range []sim.LockOptions{{Model: "916", Radio: "zwave"}, {Model: "910", Radio: "zigbee"}} {
		if _, err := w.AddLock("l"+o.Model, o); err != nil {
			t.Fatal(err)
		}
	}
	return &sim.Console{W: w, Current: "l916"}
}

func FuzzConsole(f *testing.F) {
	for _, s := range []string{"c: insert key 35242", "press 135790 lock", "advance 30s", "hub zwave mode inclusion",
		"button a", "hub zwave set-code l916 1 1234", "l910: press program program 1357 lock", "expect c state operate",
		"c: turn 90° cw force", ":", "x:", "hub", "dip led maybe", "battery -5", "advance 1000000h", "use nobody",
		"mark", "expect order c key then l916 press", "expect unseen * jammed", "expect seen zwave-hub send",
		"expect hub zwave member:l916 absent", "expect hub zwave alarm:9 0", "show hub zwave", "hub zwave remove-failed 2",
		"hub zwave config l916 40 1", "hub zwave config l916 36 -1", "hub wifi add-code l916 1234", "hub wifi delete l916",
		"c: door closed", "c: thumbturn", "dip 4 on", "expect hub zigbee alarms:l910 none"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		c := newConsoleWorld(t)
		for range 3 { // the same line three times: state carries over
			err := c.Exec(line)
			switch latchkey.ErrorCode(err) {
			case "", latchkey.EINVALID, latchkey.ENOTFOUND, latchkey.ECONFLICT, latchkey.EUNAVAILABLE:
			default:
				t.Fatalf("Exec(%q): unexpected error %v", line, err)
			}
		}
		c.W.Advance(0)
	})
}
