package main

import (
	"context"
	"testing"
)

// benchmarkFleet runs one fleet scenario per iteration and reports the medians and the
// ratios to the radio model's bound (docs/benchmarks.md).
func benchmarkFleet(b *testing.B, cfg fleetConfig) {
	setGCPolicy() // the binary's, as latchkey bench fleet runs under it
	cfg.Runs, cfg.Seed = 1, 1
	var runs []fleetRun
	for i := 0; b.Loop(); i++ {
		cfg.Seed = uint64(i + 1)
		res, err := benchFleet(context.Background(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		runs = append(runs, res.Runs...)
	}
	res := summarise(cfg, runs)
	b.ReportMetric(res.Wall.Seconds(), "wall-s")
	b.ReportMetric(res.Engine.Seconds(), "engine-s")
	b.ReportMetric(res.CPU.Seconds(), "cpu-s")
	b.ReportMetric(res.Bound.Seconds(), "bound-s")
	if res.WallRatio > 0 {
		b.ReportMetric(res.WallRatio, "wall/bound")
		b.ReportMetric(res.EngineRatio, "engine/bound")
	}
	b.ReportMetric(res.Throughput, "changes/s")
	b.ReportMetric(res.HeapPerLock, "heap-B/lock")
}

// 30 codes onto one Z-Wave twin: the target is a median of at most 5 s.
func BenchmarkFleetThirtyCodesOneZWaveLock(b *testing.B) {
	benchmarkFleet(b, fleetConfig{Locks: 1, Codes: 30, Profile: "zwave", Scenario: "provision"})
}

// Provisioning 1,000 Z-Wave twins: the target is within 5% of the radio model's bound.
func BenchmarkFleetProvisionThousand(b *testing.B) {
	benchmarkFleet(b, fleetConfig{Locks: 1000, Codes: 1, Profile: "zwave", Scenario: "provision"})
}

// Revoking one person across 10,000 zero-latency twins: the target is at most 1 s of
// engine time; the heap per idle lock, at most 4 KiB.
func BenchmarkFleetRevokeTenThousand(b *testing.B) {
	benchmarkFleet(b, fleetConfig{Locks: 10000, Codes: 1, Profile: "zero", Scenario: "revoke"})
}

// Steady churn on 100 Zigbee twins: windows open and close, one step after another.
func BenchmarkFleetChurnZigbee(b *testing.B) {
	benchmarkFleet(b, fleetConfig{Locks: 100, Codes: 3, Profile: "zigbee", Scenario: "churn"})
}

// A small fleet of each scenario converges, its numbers add up, and bad flags are
// refused saying what to do.
func TestFleetBenchmarkConverges(t *testing.T) {
	for _, scenario := range fleetScenarios {
		res, err := benchFleet(context.Background(), fleetConfig{Locks: 3, Codes: 2, Profile: "zero", Scenario: scenario, Runs: 1, Seed: 1})
		if err != nil {
			t.Fatalf("%s: %v", scenario, err)
		}
		r := res.Runs[0]
		want := map[string]int{"provision": 6, "revoke": 3, "churn": 9}[scenario]
		if r.Changes != want || r.Commands != int64(2*want) || r.Engine > r.Wall {
			t.Fatalf("%s: %+v, want %d changes in %d commands", scenario, r, want, 2*want)
		}
		// The last lock's time, in its four parts, is the step's time (each step's, in a
		// churn); the first lock got its first command no later than the median one.
		p := r.Path
		if sum := p.BeforeFirst + p.OnRadio + p.Between + p.After; sum != r.Wall || p.OnRadio <= 0 ||
			p.FirstFirst > p.FirstMedian || p.FirstMedian > p.FirstLast || p.BeforeFirst > p.FirstLast {
			t.Fatalf("%s: the last lock's path %+v adds up to %v, not the wall time %v", scenario, p, sum, r.Wall)
		}
	}
	for _, bad := range []fleetConfig{{Locks: 0, Codes: 1, Profile: "zero", Scenario: "provision", Runs: 1},
		{Locks: 1, Codes: 1, Profile: "lora", Scenario: "provision", Runs: 1},
		{Locks: 1, Codes: 1, Profile: "zero", Scenario: "rekey", Runs: 1}} {
		if _, err := benchFleet(context.Background(), bad); err == nil {
			t.Fatalf("%+v accepted", bad)
		}
	}
}
