package sim_test

import (
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/latchkey/latchkey/sim"
)

// Reordering holds a frame back long enough that a later one, on the same hub, reaches
// the lock first: the order the lock receives commands in is not always the order sent.
func TestReorderLetsLaterFramesOvertake(t *testing.T) {
	w, _, h := newPaired(t, sim.Config{Seed: 3, Radio: sim.RadioConfig{Reorder: 0.5}}, "916", "zwave")
	for i := range 20 {
		h.Send("2", sim.Command{Op: sim.OpSetCode, Slot: i + 1, Code: "2468" + strconv.Itoa(10+i)}, nil)
	}
	w.Advance(time.Minute)
	received := regexp.MustCompile(`received #(\d+) `)
	var order []int
	for _, e := range w.Trace() {
		if m := received.FindStringSubmatch(e.Detail); m != nil && e.Twin == "l" {
			n, _ := strconv.Atoi(m[1])
			order = append(order, n)
		}
	}
	if len(order) != 20 {
		t.Fatalf("the lock received %d of 20 commands: %v", len(order), order)
	}
	overtaken := false
	for i := 1; i < len(order); i++ {
		overtaken = overtaken || order[i] < order[i-1]
	}
	if !overtaken {
		t.Fatalf("with half the frames held back, none was overtaken: %v", order)
	}
}

// Two hubs of one radio each send one frame at a time, independently: a lock on each,
// sent a command at once, both answer within one wake-up, not one after the other.
func TestHubsOfOneRadioWorkApart(t *testing.T) {
	w := sim.NewWorld(sim.Config{Seed: 1})
	for _, name := range []string{"home-1", "home-2"} {
		if _, err := w.AddHub(name, "zwave"); err != nil {
			t.Fatal(err)
		}
		l, err := w.AddLock(name+"-front", sim.LockOptions{Model: "916", Radio: "zwave", Hub: name})
		if err != nil {
			t.Fatal(err)
		}
		if err := l.JoinHub(); err != nil {
			t.Fatal(err)
		}
		if h, addr, ok := l.Hub(); !ok || h.Name() != name || addr != "2" {
			t.Fatalf("%s joined %v at %q, want %s at node 2", l.Name(), h, addr, name)
		}
	}
	if len(w.Hub("zwave").Members()) != 0 {
		t.Fatal("the radio's own hub took a lock that named another")
	}
	start := w.Now()
	var answered []time.Duration
	for _, h := range w.Hubs() {
		if h.Name() == "zwave" {
			continue
		}
		h.Send("2", sim.Command{Op: sim.OpGetStatus}, func(r sim.Report) {
			if r.Err != "" {
				t.Errorf("%s: %s", h.Name(), r.Err)
			}
			answered = append(answered, w.Now().Sub(start))
		})
	}
	w.Advance(10 * time.Second)
	if len(answered) != 2 {
		t.Fatalf("%d answers, want 2", len(answered))
	}
	for _, d := range answered {
		if d > 1500*time.Millisecond {
			t.Fatalf("answers after %v: the hubs waited for each other", answered)
		}
	}
	if _, err := w.AddHub("home-1", "zwave"); err == nil {
		t.Fatal("a second hub named home-1 was added")
	}
	if _, err := w.AddLock("x", sim.LockOptions{Model: "916", Radio: "zwave", Hub: "nowhere"}); err == nil {
		t.Fatal("a lock joined a hub that does not exist")
	}
}

// A restarting hub answers what it had not answered, and everything sent while it is
// down, with ErrHubDown; a frame already on the air still reaches the lock, whose
// answer is lost; once back, the hub works as before, members kept.
func TestHubRestart(t *testing.T) {
	w, l, h := newPaired(t, sim.Config{Seed: 1}, "916", "zwave")
	var got []string
	h.Send("2", sim.Command{Op: sim.OpSetCode, Slot: 1, Code: "135790"}, func(r sim.Report) { got = append(got, r.Err) })
	w.Advance(1100 * time.Millisecond) // the beam is on the air
	h.Restart(5 * time.Second)
	h.Send("2", sim.Command{Op: sim.OpGetCode, Slot: 1}, func(r sim.Report) { got = append(got, r.Err) })
	w.Advance(time.Second)
	if len(got) != 2 || got[0] != sim.ErrHubDown || got[1] != sim.ErrHubDown {
		t.Fatalf("answers while restarting: %q, want two %q", got, sim.ErrHubDown)
	}
	if codes, _ := l.Field("codes"); codes == "" || codes == "none" {
		t.Fatalf("the frame on the air did not reach the lock: codes %q", codes)
	}
	w.Advance(5 * time.Second)
	if h.Down() || len(h.Members()) != 1 {
		t.Fatalf("after the restart: down %v, members %v", h.Down(), h.Members())
	}
	var back sim.Report
	h.Send("2", sim.Command{Op: sim.OpGetCode, Slot: 1}, func(r sim.Report) { back = r })
	w.Advance(5 * time.Second)
	if back.Err != "" || back.Status != "enabled" {
		t.Fatalf("after the restart, slot 1 reads %+v", back)
	}
}
