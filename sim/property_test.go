package sim_test

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/catalog"
	"github.com/latchkey/latchkey/sim"
)

var (
	lockedOutRe = regexp.MustCompile(`^keypad locked out for (\d+) s$`)
	wrongRe     = regexp.MustCompile(`^wrong code \(.*\), (\d+) in the last`)
)

// Random operation sequences on every electronic model never panic, never store more
// codes than the model holds, and always honour the wrong-code lockout window (§3.8).
func TestRandomOperations(t *testing.T) {
	cat := catalog.Default()
	var models []*catalog.Model
	for _, m := range cat.Models {
		if m.Kind == catalog.Electronic {
			models = append(models, m)
		}
	}
	for seed := range uint64(150) {
		rng := rand.New(rand.NewPCG(seed, 99))
		m := models[rng.IntN(len(models))]
		radios, _ := m.Radios.Get(nil)
		radio := ""
		if len(radios) > 0 {
			radio = radios[rng.IntN(len(radios))]
		}
		w := sim.NewWorld(sim.Config{Seed: seed, Radio: sim.RadioConfig{Loss: 0.1, Duplicate: 0.1, Reorder: 0.1}})
		l, err := w.AddLock("l", sim.LockOptions{Model: m.ID, Radio: radio, Locked: true, TornWrites: rng.IntN(2) == 0})
		if err != nil {
			t.Fatalf("seed %d, %s: %v", seed, m.ID, err)
		}
		capacity := m.Rules().Capacity
		if capacity < 0 {
			capacity = 30
		}
		c := &sim.Console{W: w, Current: "l"}
		for step := range 300 {
			line := randomStep(rng, radio)
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("seed %d, %s, step %d %q: panic %v", seed, m.ID, step, line, r)
					}
				}()
				_ = c.Exec(line)
			}()
			if n := l.CodeCount(); n > capacity {
				t.Fatalf("seed %d, %s: %d codes stored, capacity %d", seed, m.ID, n, capacity)
			}
		}
		checkLockout(t, fmt.Sprintf("seed %d, %s", seed, m.ID), w.Trace(), m)
	}
}

func randomStep(rng *rand.Rand, radio string) string {
	digits := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('0' + rng.IntN(10))
		}
		return string(b)
	}
	switch rng.IntN(16) {
	case 0, 1, 2, 3:
		return "press " + digits(1+rng.IntN(8))
	case 4, 5:
		return "press lock"
	case 6:
		return "press program"
	case 7:
		return []string{"hold program", "release program"}[rng.IntN(2)]
	case 8:
		return []string{"battery out", "battery in", "battery " + strconv.Itoa(3900+rng.IntN(2400))}[rng.IntN(3)]
	case 9:
		return fmt.Sprintf("advance %dms", rng.IntN(70000))
	case 10:
		if radio != "" {
			return fmt.Sprintf("hub %s set-code l %d %s", radio, 1+rng.IntN(40), digits(4+rng.IntN(5)))
		}
		return "thumbturn"
	case 11:
		if radio != "" {
			return fmt.Sprintf("hub %s clear-code l %d", radio, rng.IntN(31))
		}
		return "door open"
	case 12:
		return []string{"button a", "thumbturn", "door open", "door closed", "misalign on", "misalign off"}[rng.IntN(6)]
	case 13:
		return []string{"fault write", "fault stuck-bolt on", "fault stuck-bolt off", "fault radio-drop 5s", "fault tamper", "fault reset-behind-hub"}[rng.IntN(6)]
	case 14:
		if radio != "" {
			return "hub " + radio + " mode " + []string{"inclusion", "exclusion", "permit-join", "idle"}[rng.IntN(4)]
		}
		return "pair"
	default:
		return "dip " + []string{"led", "auto-lock", "audio"}[rng.IntN(3)] + " " + []string{"on", "off"}[rng.IntN(2)]
	}
}

// checkLockout reads the trace: a lockout starts only on the wrong code that reaches the
// model's limit within its window, and while it lasts no code is counted or accepted.
func checkLockout(t *testing.T, where string, trace []sim.Entry, m *catalog.Model) {
	t.Helper()
	rule, _ := m.Lockout.Get(catalog.Lockout{Attempts: 3, WindowS: 60, DurationS: 60})
	var until time.Duration
	lastWrong := 0
	for _, e := range trace {
		if e.Twin != "l" {
			continue
		}
		inLockout := e.At < until
		if sub := wrongRe.FindStringSubmatch(e.Detail); sub != nil {
			if inLockout {
				t.Fatalf("%s: wrong code counted during a lockout at %s:\n%s", where, e.At, around(trace, e.At))
			}
			lastWrong, _ = strconv.Atoi(sub[1])
			if lastWrong > rule.Attempts {
				t.Fatalf("%s: %d wrong codes in the window, limit %d", where, lastWrong, rule.Attempts)
			}
			continue
		}
		if sub := lockedOutRe.FindStringSubmatch(e.Detail); sub != nil {
			if lastWrong != rule.Attempts {
				t.Fatalf("%s: locked out after %d wrong codes, want %d", where, lastWrong, rule.Attempts)
			}
			n, _ := strconv.Atoi(sub[1])
			until = e.At + time.Duration(n)*time.Second
			lastWrong = 0
			continue
		}
		if inLockout && regexp.MustCompile(`^code of slot \d+ accepted$`).MatchString(e.Detail) {
			t.Fatalf("%s: a code was accepted during a lockout at %s:\n%s", where, e.At, around(trace, e.At))
		}
		if powerCycle(e.Detail) {
			until, lastWrong = 0, 0
		}
	}
}

// powerCycle reports whether an entry marks the end of the lock's volatile state (its
// lockout with it): a reboot, the battery out, a brown-out, a reset, a disconnected
// exterior assembly.
func powerCycle(detail string) bool {
	for _, p := range []string{"rebooted", "battery pack out", "too low to operate", "factory reset", "exterior assembly disconnected"} {
		if strings.Contains(detail, p) {
			return true
		}
	}
	return false
}

// around renders the trace within a minute before and ten seconds after at.
func around(trace []sim.Entry, at time.Duration) string {
	var b strings.Builder
	for _, e := range trace {
		if e.At >= at-time.Minute && e.At <= at+10*time.Second {
			b.WriteString(sim.FormatEntry(e) + "\n")
		}
	}
	return b.String()
}
