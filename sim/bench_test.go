package sim_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/latchkey/latchkey/sim"
)

// idleTwins builds n paired, idle Z-Wave 916 twins with two codes each and returns the
// heap they take.
func idleTwins(tb testing.TB, n int) (bytesPerTwin float64) {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	w := sim.NewWorld(sim.Config{Seed: 1, NoTrace: true})
	h := w.Hub("zwave")
	for i := range n {
		l, err := w.AddLock(fmt.Sprintf("lock-%d", i), sim.LockOptions{Model: "916", Radio: "zwave",
			Codes: map[int]string{1: "135790", 2: "246813"}})
		if err != nil {
			tb.Fatal(err)
		}
		h.SetMode(sim.HubInclusion, 0)
		l.PressA()
	}
	w.Advance(time.Hour)
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(w)
	return float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
}

// The bound: 10,000 idle twins fit in 64 MiB. Memory, not time, so it is an
// ordinary test.
func TestTenThousandIdleTwinsFit(t *testing.T) {
	per := idleTwins(t, 10000)
	total := per * 10000
	t.Logf("%.0f bytes per idle twin; 10,000 twins take %.1f MiB of the 64 MiB bound", per, total/(1<<20))
	if total > 64<<20 {
		t.Fatalf("10,000 idle twins take %.1f MiB, more than 64 MiB", total/(1<<20))
	}
}

// BenchmarkIdleTwinMemory reports the heap of one idle twin and its ratio to the bound
// (64 MiB for 10,000 twins, 6,711 bytes each).
func BenchmarkIdleTwinMemory(b *testing.B) {
	per := 0.0
	for range b.N {
		per = idleTwins(b, 10000)
	}
	b.ReportMetric(per, "bytes/twin")
	b.ReportMetric(per/(64<<20/10000.0), "ratio-to-bound")
}

// BenchmarkTwinOperations measures twin operations per second: a code typed at the
// keypad, the bolt run it causes, the event to the hub, and the clock moving on.
func BenchmarkTwinOperations(b *testing.B) {
	w := sim.NewWorld(sim.Config{Seed: 1, NoTrace: true})
	l, err := w.AddLock("l", sim.LockOptions{Model: "916", Radio: "zwave", Codes: map[int]string{1: "135790"}})
	if err != nil {
		b.Fatal(err)
	}
	w.Hub("zwave").SetMode(sim.HubInclusion, 0)
	l.PressA()
	keys := []string{"1", "3", "5", "7", "9", "0", "lock"}
	b.ResetTimer()
	for range b.N {
		for _, k := range keys {
			l.Press(k)
		}
		w.Advance(2 * time.Second)
	}
	b.ReportMetric(float64(b.N*len(keys))/b.Elapsed().Seconds(), "ops/s")
}
