package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
)

func (m *Main) benchCommand() *cobra.Command {
	cmd := group(&cobra.Command{
		Use:   "bench",
		Short: "Measure Latchkey against its performance targets (docs/performance.md)",
	})
	cmd.AddCommand(m.benchFleetCommand())
	return cmd
}

func (m *Main) benchFleetCommand() *cobra.Command {
	cfg := fleetConfig{Locks: 100, Codes: 1, Profile: "zwave", Scenario: "provision", Runs: 3, Seed: 1}
	cmd := &cobra.Command{
		Use:   "fleet",
		Short: "Run the sync engine over a fleet of lock twins and compare it with the radio's pace",
		Long: `Run the real sync engine over N digital twins of Kwikset locks, each alone on its hub
(a home), with the twins' radio latency model, on the embedded SQLite in a temporary
directory. The twins' clock runs in step with the wall clock.

Scenarios:
  provision  put --codes codes on every lock
  revoke     every lock holds an owner's code and a person's; revoke the person's everywhere
  churn      --codes windows open and close one after another on every lock: each step
             puts one code on and takes the one before off

It reports the wall time until every code stood where the records want it, the engine's
own part of it (the time no command was on its way to a lock), the lower bound the radio
model implies (an ideal controller on the same twins that waits for nothing but the
radio), their ratios, changes per second, and the Go heap the records and engine hold per
idle lock. The numbers are medians over --runs fresh fleets. See docs/benchmarks.md.`,
		Args: cobra.NoArgs,
		RunE: run(func(cmd *cobra.Command, args []string) error {
			res, err := benchFleet(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			return m.emit(res, func(w io.Writer) { printFleet(w, res) })
		}),
	}
	f := cmd.Flags()
	f.IntVar(&cfg.Locks, "locks", cfg.Locks, "how many lock twins, each on its own hub")
	f.IntVar(&cfg.Codes, "codes", cfg.Codes, "provision: codes per lock; churn: windows opened and closed")
	f.StringVar(&cfg.Profile, "profile", cfg.Profile, "radio model: zwave, zigbee or zero (every latency 1 ns)")
	f.StringVar(&cfg.Scenario, "scenario", cfg.Scenario, "provision, revoke or churn")
	f.IntVar(&cfg.Runs, "runs", cfg.Runs, "fresh fleets to run; the report gives medians")
	f.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed of the radio model's draws")
	return cmd
}

func printFleet(w io.Writer, r *fleetResult) {
	c := r.Config
	fmt.Fprintf(w, "fleet: %s, %d locks, %d codes, %s radio, median of %d runs\n", c.Scenario, c.Locks, c.Codes, c.Profile, c.Runs)
	fmt.Fprintf(w, "  wall time        %s\n", fmtDur(r.Wall))
	if c.Profile == "zero" {
		fmt.Fprintf(w, "  engine time      %s (wall time less the twins' own computing)\n", fmtDur(r.Engine))
	} else {
		fmt.Fprintf(w, "  engine time      %s (wall time with no command on its way to a lock)\n", fmtDur(r.Engine))
	}
	fmt.Fprintf(w, "  process CPU      %s (engine, records and twins, all cores)\n", fmtDur(r.CPU))
	fmt.Fprintf(w, "  radio bound      %s\n", fmtDur(r.Bound))
	if r.WallRatio > 0 {
		fmt.Fprintf(w, "  wall / bound     %.3f\n", r.WallRatio)
		fmt.Fprintf(w, "  engine / bound   %.4f\n", r.EngineRatio)
	} else {
		fmt.Fprintf(w, "  (the bound is under a millisecond: no ratio)\n")
	}
	fmt.Fprintf(w, "  throughput       %.0f changes/s\n", r.Throughput)
	fmt.Fprintf(w, "  heap per lock    %.0f bytes (idle, after GC)\n", r.HeapPerLock)
	for i, run := range r.Runs {
		fmt.Fprintf(w, "  run %d: wall %s, engine %s, CPU %s, bound %s, %d changes, %d commands, %d passes\n",
			i+1, fmtDur(run.Wall), fmtDur(run.Engine), fmtDur(run.CPU), fmtDur(run.Bound), run.Changes, run.Commands, run.Passes)
		p := run.Path
		fmt.Fprintf(w, "         the last lock: %s before its first command, %s on the radio, %s between commands, %s after its last answer; first commands: first lock %s, median lock %s, last lock %s\n",
			fmtDur(p.BeforeFirst), fmtDur(p.OnRadio), fmtDur(p.Between), fmtDur(p.After), fmtDur(p.FirstFirst), fmtDur(p.FirstMedian), fmtDur(p.FirstLast))
	}
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.3f s", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
}
