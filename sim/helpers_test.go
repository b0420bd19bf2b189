package sim_test

import (
	"strings"
	"testing"

	"github.com/latchkey/latchkey/sim"
)

// run builds a world from a scenario's twins (YAML) and runs steps in the console
// language, failing the test on any error (expect steps included).
func run(t *testing.T, twins string, steps ...string) *sim.World {
	t.Helper()
	w, err := runErr(twins, steps...)
	if err != nil {
		if w != nil {
			var b strings.Builder
			_ = sim.WriteText(&b, w.Trace())
			t.Logf("trace:\n%s", b.String())
		}
		t.Fatal(err)
	}
	return w
}

func runErr(twins string, steps ...string) (*sim.World, error) {
	s, err := sim.ParseScenario([]byte("seed: 1\ntwins:\n" + twins))
	if err != nil {
		return nil, err
	}
	s.Steps = steps
	return s.Run()
}

// has reports whether some trace entry of the twin contains every fragment.
func has(w *sim.World, twin string, fragments ...string) bool {
	for _, e := range w.Trace() {
		if twin != "" && e.Twin != twin {
			continue
		}
		all := true
		for _, f := range fragments {
			all = all && strings.Contains(e.Detail, f)
		}
		if all {
			return true
		}
	}
	return false
}

func mustHave(t *testing.T, w *sim.World, twin string, fragments ...string) {
	t.Helper()
	if !has(w, twin, fragments...) {
		var b strings.Builder
		_ = sim.WriteText(&b, w.Trace())
		t.Fatalf("no %s entry with %q in the trace:\n%s", twin, fragments, b.String())
	}
}

func mustNotHave(t *testing.T, w *sim.World, twin string, fragments ...string) {
	t.Helper()
	if has(w, twin, fragments...) {
		t.Fatalf("unexpected %s entry with %q in the trace", twin, fragments)
	}
}

func field(t *testing.T, w *sim.World, twin, name string) string {
	t.Helper()
	tw, err := w.Twin(twin)
	if err != nil {
		t.Fatal(err)
	}
	v, ok := tw.Field(name)
	if !ok {
		t.Fatalf("%s has no field %s", twin, name)
	}
	return v
}

const cyl = "  - {name: c, cylinder: {bitting: \"35242\"}}\n"
