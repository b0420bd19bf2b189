package sim_test

import (
	"slices"
	"testing"
	"time"

	"github.com/latchkey/latchkey/sim"
)

// newPaired returns a world with one paired lock on the given radio.
func newPaired(t *testing.T, cfg sim.Config, model, radio string) (*sim.World, *sim.Lock, *sim.Hub) {
	t.Helper()
	w := sim.NewWorld(cfg)
	l, err := w.AddLock("l", sim.LockOptions{Model: model, Radio: radio})
	if err != nil {
		t.Fatal(err)
	}
	h := w.Hub(radio)
	switch radio {
	case "zwave":
		h.SetMode(sim.HubInclusion, 0)
		l.PressA()
	case "zigbee":
		h.SetMode(sim.HubPermit, 0)
		for range 4 {
			l.PressA()
		}
	default:
		if err := l.Pair(); err != nil {
			t.Fatal(err)
		}
	}
	if len(h.Members()) != 1 {
		t.Fatalf("not paired: %+v", h.Members())
	}
	return w, l, h
}

// roundTrip sends a command and returns how long the answer took.
func roundTrip(t *testing.T, w *sim.World, h *sim.Hub, op string) time.Duration {
	t.Helper()
	start := w.Now()
	var took time.Duration
	done := false
	h.Send(h.Members()[0].Address, sim.Command{Op: op}, func(r sim.Report) {
		if r.Err != "" {
			t.Fatalf("%s failed: %s", op, r.Err)
		}
		took, done = w.Now().Sub(start), true
	})
	w.Advance(30 * time.Second)
	if !done {
		t.Fatalf("%s never answered", op)
	}
	return took
}

// performance.md §1.1: the first frame to a sleeping FLiRS lock costs 1.05 to 1.37 s;
// while it is awake a frame costs tens of milliseconds; after the awake window it
// sleeps again.
func TestZWaveLatencyModel(t *testing.T) {
	for seed := range uint64(20) {
		w, _, h := newPaired(t, sim.Config{Seed: seed}, "916", "zwave")
		var awake []time.Duration
		first := time.Duration(0)
		// Back-to-back frames: send five at once; the hub sends them one at a time.
		var stamps []time.Time
		for range 5 {
			h.Send("2", sim.Command{Op: sim.OpGetStatus}, func(sim.Report) { stamps = append(stamps, w.Now()) })
		}
		start := w.Now()
		w.Advance(20 * time.Second)
		if len(stamps) != 5 {
			t.Fatalf("seed %d: %d answers", seed, len(stamps))
		}
		first = stamps[0].Sub(start)
		for i := 1; i < 5; i++ {
			awake = append(awake, stamps[i].Sub(stamps[i-1]))
		}
		// The first answer includes the beam and the way back (10 to 70 ms).
		if first < 1060*time.Millisecond || first > 1440*time.Millisecond {
			t.Errorf("seed %d: first answer after %s, want the beam of 1.05-1.37 s plus the reply", seed, first)
		}
		for _, d := range awake {
			if d > 150*time.Millisecond {
				t.Errorf("seed %d: an awake frame took %s", seed, d)
			}
		}
		// After the 3 s awake window, the lock needs a beam again (the Advance above
		// waited long enough).
		if d := roundTrip(t, w, h, sim.OpGetStatus); d < time.Second {
			t.Errorf("seed %d: a frame after sleeping took %s, want a beam", seed, d)
		}
	}
}

// performance.md §1.2: a sleepy Zigbee lock takes a frame at its next poll.
func TestZigbeeLatencyModel(t *testing.T) {
	poll := 5 * time.Second
	for seed := range uint64(20) {
		w, _, h := newPaired(t, sim.Config{Seed: seed, Radio: sim.RadioConfig{ZigbeePoll: poll}}, "910", "zigbee")
		if d := roundTrip(t, w, h, sim.OpGetStatus); d < 20*time.Millisecond || d > poll+100*time.Millisecond {
			t.Errorf("seed %d: Zigbee round trip %s, want at most a poll interval plus two hops", seed, d)
		}
	}
}

// Loss, duplication and reordering are drawn from the seed: a lost command times out
// once; a duplicated answer completes its command once, while duplicated events reach
// listeners twice.
func TestLossAndDuplication(t *testing.T) {
	w, _, h := newPaired(t, sim.Config{Seed: 1, Radio: sim.RadioConfig{Loss: 1}}, "916", "zwave")
	calls := 0
	h.Send("2", sim.Command{Op: sim.OpGetStatus}, func(r sim.Report) {
		calls++
		if r.Err != "timeout" {
			t.Errorf("lost command answered %+v", r)
		}
	})
	w.Advance(time.Minute)
	if calls != 1 {
		t.Fatalf("callback ran %d times, want once", calls)
	}

	w, l, h := newPaired(t, sim.Config{Seed: 1, Radio: sim.RadioConfig{Duplicate: 1}}, "916", "zwave")
	calls = 0
	h.Send("2", sim.Command{Op: sim.OpGetStatus}, func(sim.Report) { calls++ })
	var events []string
	h.Listen(func(_ string, r sim.Report) {
		if r.Event != "" {
			events = append(events, string(r.Event))
		}
	})
	w.Advance(5 * time.Second)
	l.ThumbTurn()
	w.Advance(5 * time.Second)
	if calls != 1 {
		t.Errorf("duplicated answer completed the command %d times", calls)
	}
	if len(events) < 2 || events[0] != events[1] {
		t.Errorf("duplicated event delivered %v, want it twice", events)
	}
}

// The same seed and inputs give the same trace; another seed gives other timings.
func TestDeterminism(t *testing.T) {
	trace := func(seed uint64) []sim.Entry {
		w, l, h := newPaired(t, sim.Config{Seed: seed, Radio: sim.RadioConfig{Loss: 0.2, Duplicate: 0.2, Reorder: 0.3}}, "916", "zwave")
		for i := range 10 {
			h.Send("2", sim.Command{Op: sim.OpSetCode, Slot: i + 1, Code: "13579" + string(rune('0'+i))}, nil)
		}
		l.ThumbTurn()
		w.Advance(time.Minute)
		return w.Trace()
	}
	if a, b := trace(7), trace(7); !slices.Equal(a, b) {
		t.Fatal("same seed, different traces")
	}
	if a, b := trace(7), trace(8); slices.Equal(a, b) {
		t.Fatal("different seeds, identical traces: the seed is not used")
	}
}
