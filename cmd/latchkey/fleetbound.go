package main

import (
	"fmt"
	"time"

	"github.com/latchkey/latchkey/sim"
)

// boundSeeds is how many draws of the radio model the bound averages.
const boundSeeds = 5

// fleetBound is the lower bound the radio model implies for a run: how long an ideal
// controller takes on the same twins, one that knows every change at once and waits
// for nothing but the radio. It follows the engine's protocol (a slot is read back once
// its write was answered; a lock's slots are worked at once, so that its frames go out
// together), sends every lock's first frame at the start, and costs nothing itself. Each
// hub still sends one frame at a time and each frame costs what the model draws (a
// sleeping Z-Wave lock's beam, a Zigbee lock's next poll), so this is the time the
// radios alone need. The churn scenario's steps follow each other, as the records'
// clock moves when the step before is done. It is the mean over boundSeeds draws.
func fleetBound(cfg fleetConfig, seed uint64) time.Duration {
	var total time.Duration
	for i := range boundSeeds {
		total += idealRun(cfg, seed+1_000_003*uint64(i+1))
	}
	return total / boundSeeds
}

// idealRun is one draw of fleetBound.
func idealRun(cfg fleetConfig, seed uint64) time.Duration {
	f := &fleet{cfg: cfg}
	if err := f.buildWorld(seed); err != nil {
		return 0
	}
	w := f.world
	steps := 1
	if cfg.Scenario == "churn" {
		steps = cfg.Codes
	}
	var took time.Duration
	for step := range steps {
		// Each chain is one slot's changes, in order: a write, then its read-back.
		var chains [][]sim.Command
		switch cfg.Scenario {
		case "provision":
			for s := 1; s <= cfg.Codes; s++ {
				chains = append(chains, []sim.Command{{Op: sim.OpSetCode, Slot: s, Code: pinFor(s)}, {Op: sim.OpGetCode, Slot: s}})
			}
		case "revoke":
			chains = [][]sim.Command{{{Op: sim.OpClearCode, Slot: 2}, {Op: sim.OpGetCode, Slot: 2}}}
		case "churn":
			s := step + 1
			chains = [][]sim.Command{{{Op: sim.OpSetCode, Slot: s, Code: pinFor(s)}, {Op: sim.OpGetCode, Slot: s}}}
			if step > 0 {
				chains = append(chains, []sim.Command{{Op: sim.OpClearCode, Slot: s - 1}, {Op: sim.OpGetCode, Slot: s - 1}})
			}
		}
		start := w.Now()
		last := start
		open := 0
		for _, h := range w.Hubs() {
			for _, m := range h.Members() {
				for _, chain := range chains {
					open++
					var next func(i int)
					next = func(i int) {
						h.Send(m.Address, chain[i], func(sim.Report) {
							if i+1 < len(chain) {
								next(i + 1)
								return
							}
							open--
							last = w.Now()
						})
					}
					next(0)
				}
			}
		}
		for open > 0 {
			due, ok := w.Clock.Next()
			if !ok {
				break
			}
			w.Advance(due.Sub(w.Now()))
		}
		took += last.Sub(start)
	}
	return took
}

// pinFor is a distinct code for slot s.
func pinFor(s int) string { return fmt.Sprintf("%06d", 204817+s*7919) }
