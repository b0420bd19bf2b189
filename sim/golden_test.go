package sim_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/sim"
)

var update = flag.Bool("update", false, "rewrite the golden traces of the examples")

// Every example scenario runs to the end, its assertions hold, and its trace matches the
// golden trace byte for byte: the same seed and steps always give the same trace.
func TestExamplesGolden(t *testing.T) {
	files, err := filepath.Glob("../examples/*.yaml")
	if err != nil || len(files) < 5 {
		t.Fatalf("want at least five examples, found %d (%v)", len(files), err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			got := runExample(t, file)
			golden := filepath.Join("testdata", "golden", name+".trace")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("no golden trace (run go test ./sim -run Golden -update): %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("trace differs from %s; run with -update if the change is intended.\n%s", golden, firstDiff(got, want))
			}
			if again := runExample(t, file); !bytes.Equal(got, again) {
				t.Error("two runs of the same scenario gave different traces")
			}
		})
	}
}

func runExample(t *testing.T, file string) []byte {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sim.ParseScenario(data)
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.Run()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := sim.WriteText(&buf, w.Trace()); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func firstDiff(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := range min(len(g), len(w)) {
		if g[i] != w[i] {
			return "line " + strconv.Itoa(i+1) + ":\n got: " + g[i] + "\nwant: " + w[i]
		}
	}
	return "lengths differ: got " + strconv.Itoa(len(g)) + " lines, want " + strconv.Itoa(len(w))
}
