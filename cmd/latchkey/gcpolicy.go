package main

import (
	"os"
	"runtime/debug"
)

// The process's garbage collection policy, unless the environment sets its own (GOGC,
// GOMEMLIMIT). Latchkey's heap is small (about 1 KiB a lock, docs/benchmarks.md) and
// its work comes in bursts (a pass opens a thousand PINs and sends a thousand commands
// at once): with Go's default, which collects each time the heap doubles, a burst ran
// several collections on a heap of a few MiB, and on two cores their marking took the
// CPU the records needed before the first frames could leave (the 1,000-lock pass
// started its last lock ~30 ms later). Collecting when the heap has grown fivefold
// spends that CPU on the work instead; the soft limit makes the collector work harder
// as the heap nears it, so a process that does hold much (the sign-in flood's argon2
// buffers) still stays within SPEC §7's 512 MiB.
const (
	gcPercent     = 400
	gcMemoryLimit = 384 << 20
)

// setGCPolicy applies the policy where the environment does not say otherwise.
func setGCPolicy() {
	if _, ok := os.LookupEnv("GOGC"); !ok {
		debug.SetGCPercent(gcPercent)
	}
	if _, ok := os.LookupEnv("GOMEMLIMIT"); !ok {
		debug.SetMemoryLimit(gcMemoryLimit)
	}
}
