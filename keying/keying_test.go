package keying_test

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/keying"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  keying.Bitting
		errs  []string // fragments the error must contain
	}{
		{"OK", "35242", "35242", nil},
		{"OK/Dashes", "3-5-2-4-2", "35242", nil},
		{"OK/Spaces", " 3 5 2 4 2 ", "35242", nil},
		{"OK/MACS4", "15151", "15151", nil},
		// §2: depth 7 only with master pins; MACS 4.
		{"ErrDepth7AndMACS", "17131", "", []string{"Cut 2 has depth 7", "master pins", "Cuts 1 and 2 differ by 6", "MACS"}},
		{"ErrMACS", "16111", "", []string{"Cuts 1 and 2 differ by 5"}},
		{"ErrDepth0", "30242", "", []string{"Cut 2 has depth 0", "from 1"}},
		{"ErrDepth9", "35249", "", []string{"Cut 5 has depth 9"}},
		{"ErrDepthsOutSaidOnce", "99929", "", []string{"Cuts 1, 2, 3 and 5 have depths 9, 9, 9 and 9; KW1 depths run from 1"}},
		{"ErrTooFew", "3524", "", []string{"has 5 cuts", "has 4"}},
		// §1.4: KW10 6-pin keys in SmartKey are unconfirmed.
		{"ErrKW10", "352421", "", []string{"KW10", "unconfirmed"}},
		{"ErrLetter", "35a42", "", []string{"character 3", "not a digit"}},
		{"ErrEmpty", "", "", []string{"empty"}},
		{"ErrLong", strings.Repeat("3", 200), "", []string{"200 characters"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := keying.KW1.Parse(tt.input)
			if tt.errs == nil {
				if err != nil || got != tt.want {
					t.Fatalf("Parse(%q) = %q, %v; want %q", tt.input, got, err, tt.want)
				}
				return
			}
			if latchkey.ErrorCode(err) != latchkey.EINVALID {
				t.Fatalf("Parse(%q) = %q, %v; want an invalid error", tt.input, got, err)
			}
			for _, frag := range tt.errs {
				if !strings.Contains(latchkey.ErrorMessage(err), frag) {
					t.Errorf("error lacks %q: %s", frag, latchkey.ErrorMessage(err))
				}
			}
		})
	}
}

// kwikset-facts §2: about 6,306 five-pin codes with depths 1 to 6 and MACS 4 (Aria Locks).
func TestKW1CombinationCount(t *testing.T) {
	if got := len(keying.KW1.All()); got != 6306 {
		t.Fatalf("valid KW1 bittings = %d, want 6306", got)
	}
}

// §2: depth 7 is accepted only by a spec that allows it, and MACS still applies.
func TestDepth7(t *testing.T) {
	spec := keying.KW1
	spec.AllowDepth7 = true
	if _, err := spec.Parse("37373"); err != nil {
		t.Errorf("depth 7 refused by a spec that allows it: %v", err)
	}
	if _, err := spec.Parse("17131"); err == nil {
		t.Error("17131 accepted: cuts 1 and 2 still differ by 6")
	}
	if _, err := keying.KW1.Parse("37373"); err == nil {
		t.Error("depth 7 accepted on SmartKey, where it is unconfirmed")
	}
}

func TestNear(t *testing.T) {
	for _, tt := range []struct {
		a, b keying.Bitting
		near bool
	}{
		{"35242", "35242", true},
		{"35242", "35243", true},
		{"35242", "65242", true},
		{"35242", "36243", false},
		{"35242", "352421", false},
	} {
		if got := keying.Near(tt.a, tt.b); got != tt.near {
			t.Errorf("Near(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.near)
		}
	}
}

type seeded struct{ r *rand.ChaCha8 }

func (s seeded) Read(p []byte) (int, error) { return s.r.Read(p) }

func newSeeded(seed byte) seeded {
	var key [32]byte
	key[0] = seed
	return seeded{rand.NewChaCha8(key)}
}

func TestGenerate(t *testing.T) {
	t.Run("ThousandDistinctValid", func(t *testing.T) {
		bs, err := keying.KW1.Generate(1000, keying.GenerateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[keying.Bitting]bool{}
		for _, b := range bs {
			if err := keying.KW1.Validate(b); err != nil {
				t.Fatalf("generated invalid %s: %v", b, err)
			}
			if seen[b] {
				t.Fatalf("generated %s twice", b)
			}
			seen[b] = true
		}
	})
	t.Run("AvoidsNeighbours", func(t *testing.T) {
		avoid := []keying.Bitting{"35242", "46353", "22222"}
		bs, err := keying.KW1.Generate(3000, keying.GenerateOptions{Avoid: avoid, Random: newSeeded(1)})
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range bs {
			for _, a := range avoid {
				if keying.Near(a, b) {
					t.Fatalf("generated %s within one cut of avoided %s", b, a)
				}
			}
		}
	})
	t.Run("Apart", func(t *testing.T) {
		bs, err := keying.KW1.Generate(100, keying.GenerateOptions{Apart: true, Random: newSeeded(2)})
		if err != nil {
			t.Fatal(err)
		}
		for i := range bs {
			for j := range i {
				if keying.Near(bs[i], bs[j]) {
					t.Fatalf("%s and %s are within one cut", bs[i], bs[j])
				}
			}
		}
	})
	t.Run("NeverUniform", func(t *testing.T) {
		bs, _ := keying.KW1.Generate(6000, keying.GenerateOptions{Random: newSeeded(3)})
		for _, b := range bs {
			if strings.Count(string(b), string(b[0])) == len(b) {
				t.Fatalf("generated %s, a single repeated depth", b)
			}
		}
	})
	t.Run("Deterministic", func(t *testing.T) {
		a, _ := keying.KW1.Generate(5, keying.GenerateOptions{Random: newSeeded(9)})
		b, _ := keying.KW1.Generate(5, keying.GenerateOptions{Random: newSeeded(9)})
		if fmt.Sprint(a) != fmt.Sprint(b) {
			t.Fatalf("same seed: %v and %v", a, b)
		}
	})
	t.Run("ErrTooMany", func(t *testing.T) {
		_, err := keying.KW1.Generate(7000, keying.GenerateOptions{})
		if latchkey.ErrorCode(err) != latchkey.ECONFLICT || !strings.Contains(latchkey.ErrorMessage(err), "ask for") {
			t.Fatalf("got %v, want conflict saying how many to ask for", err)
		}
	})
	t.Run("ErrZero", func(t *testing.T) {
		if _, err := keying.KW1.Generate(0, keying.GenerateOptions{}); latchkey.ErrorCode(err) != latchkey.EINVALID {
			t.Fatalf("got %v, want invalid", err)
		}
	})
}

// §1.4: SmartKey supports keyed-alike only; one bitting must suit every cylinder.
func TestKeyAlike(t *testing.T) {
	lenient := keying.KW1
	lenient.AllowDepth7 = true
	strict := keying.KW1
	strict.MACS = 3
	b, err := keying.KeyAlike([]keying.Spec{lenient, strict, keying.KW1}, keying.GenerateOptions{Avoid: []keying.Bitting{"35242"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []keying.Spec{lenient, strict, keying.KW1} {
		if err := s.Validate(b); err != nil {
			t.Errorf("keyed-alike bitting %s fails a member: %v", b, err)
		}
	}
	other := keying.KW1
	other.Keyway, other.Cuts = "KW10", 6
	if _, err := keying.KeyAlike([]keying.Spec{keying.KW1, other}, keying.GenerateOptions{}); latchkey.ErrorCode(err) != latchkey.EINVALID {
		t.Errorf("mixed keyways: %v, want invalid", err)
	}
}

// svgDoc is the part of the drawing the test reads.
type svgDoc struct {
	Width    string `xml:"width,attr"`
	Bitting  string `xml:"data-bitting,attr"`
	Polygons []struct {
		ID     string `xml:"id,attr"`
		Points string `xml:"points,attr"`
	} `xml:"polygon"`
	Lines []struct {
		Cut   string `xml:"data-cut,attr"`
		Depth string `xml:"data-depth,attr"`
		X1    string `xml:"x1,attr"`
		Y1    string `xml:"y1,attr"`
	} `xml:"line"`
}

// The drawing is well-formed SVG, and the blade's outline reaches, at the centre of each
// cut, exactly the root height the depth table gives (§2), measured from the blade's back.
func TestDrawToScale(t *testing.T) {
	for _, bitting := range []keying.Bitting{"35242", "15151", "66666", "11111"} {
		t.Run(string(bitting), func(t *testing.T) {
			var buf bytes.Buffer
			if err := keying.KW1.Draw(&buf, bitting); err != nil {
				t.Fatal(err)
			}
			var doc svgDoc
			if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
				t.Fatalf("not well-formed XML: %v", err)
			}
			if doc.Bitting != string(bitting) || !strings.HasSuffix(doc.Width, "in") {
				t.Fatalf("bitting %q width %q", doc.Bitting, doc.Width)
			}
			if len(doc.Polygons) != 1 || doc.Polygons[0].ID != "blade" {
				t.Fatalf("want one blade polygon, got %+v", doc.Polygons)
			}
			pts := parsePoints(t, doc.Polygons[0].Points)
			// The back of the blade is the largest y; depths are heights above it.
			back := 0.0
			for _, p := range pts {
				back = max(back, p[1])
			}
			const shoulder = 1000.0 // mils; the drawing's shoulder position
			for i, d := range bitting.Depths() {
				x := shoulder + keying.KW1.SpacingIn[i]*1000
				y, ok := yAt(pts, x)
				if !ok {
					t.Fatalf("no outline vertex at cut %d centre x=%.1f", i+1, x)
				}
				height := (back - y) / 1000
				if diff := height - keying.KW1.DepthIn[d]; diff > 0.0002 || diff < -0.0002 {
					t.Errorf("cut %d depth %d: blade height %.4f in, want %.4f", i+1, d, height, keying.KW1.DepthIn[d])
				}
			}
			cuts := 0
			for _, l := range doc.Lines {
				if l.Cut != "" {
					cuts++
					if want := string(bitting[cuts-1]); l.Depth != want {
						t.Errorf("guide for cut %s says depth %s, want %s", l.Cut, l.Depth, want)
					}
				}
			}
			if cuts != 5 {
				t.Errorf("%d cut guides, want 5", cuts)
			}
		})
	}
	t.Run("ErrInvalid", func(t *testing.T) {
		if err := keying.KW1.Draw(&bytes.Buffer{}, "17131"); latchkey.ErrorCode(err) != latchkey.EINVALID {
			t.Fatalf("got %v, want invalid", err)
		}
	})
}

// A blank is drawn uncut: the blade keeps its full height at every cut position, and
// the drawing names no bitting and no depth, so that it shows no key that opens anything.
func TestDrawBlank(t *testing.T) {
	var buf bytes.Buffer
	if err := keying.KW1.DrawBlank(&buf); err != nil {
		t.Fatal(err)
	}
	var doc svgDoc
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("not well-formed XML: %v", err)
	}
	if doc.Bitting != "" || len(doc.Polygons) != 1 {
		t.Fatalf("a blank names bitting %q, or has %d blades", doc.Bitting, len(doc.Polygons))
	}
	pts := parsePoints(t, doc.Polygons[0].Points)
	back := 0.0
	for _, p := range pts {
		back = max(back, p[1])
	}
	for i := range keying.KW1.Cuts {
		y, ok := yAt(pts, 1000+keying.KW1.SpacingIn[i]*1000)
		if !ok {
			t.Fatalf("no outline vertex at cut position %d", i+1)
		}
		if h := (back - y) / 1000; h < keying.KW1.BladeIn-0.0002 {
			t.Errorf("cut position %d is cut to %.4f in on a blank", i+1, h)
		}
	}
	if text := buf.String(); !strings.Contains(text, "an uncut KW1 key") || strings.Contains(text, `text-anchor="middle"`) {
		t.Errorf("a blank's drawing titles or numbers cuts:\n%s", text)
	}
}

func parsePoints(t *testing.T, s string) [][2]float64 {
	t.Helper()
	var pts [][2]float64
	for _, pair := range strings.Fields(s) {
		xy := strings.Split(pair, ",")
		if len(xy) != 2 {
			t.Fatalf("bad point %q", pair)
		}
		x, err1 := strconv.ParseFloat(xy[0], 64)
		y, err2 := strconv.ParseFloat(xy[1], 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("bad point %q", pair)
		}
		pts = append(pts, [2]float64{x, y})
	}
	return pts
}

// yAt returns the y of the top-edge vertex at x (the outline lists the top edge first,
// left to right).
func yAt(pts [][2]float64, x float64) (float64, bool) {
	for _, p := range pts {
		if d := p[0] - x; d < 0.05 && d > -0.05 {
			return p[1], true
		}
	}
	return 0, false
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"35242", "3-5-2-4-2", "17131", "", "3524", "352421", "३५२४२", "3\x005242"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := keying.KW1.Parse(s)
		if err != nil {
			if latchkey.ErrorCode(err) != latchkey.EINVALID {
				t.Fatalf("Parse(%q): error code %q, want invalid", s, latchkey.ErrorCode(err))
			}
			return
		}
		if err := keying.KW1.Validate(b); err != nil {
			t.Fatalf("Parse(%q) = %s, which does not validate: %v", s, b, err)
		}
		again, err := keying.KW1.Parse(string(b))
		if err != nil || again != b {
			t.Fatalf("round trip of %s: %s, %v", b, again, err)
		}
		if err := keying.KW1.Draw(&bytes.Buffer{}, b); err != nil {
			t.Fatalf("Draw(%s): %v", b, err)
		}
	})
}

// §2: spacing .247″ then .150″ centre to centre; depth 1 = .329″ down to 7 = .191″ in
// steps of .023″; MACS 4 (LW, KC).
func TestKW1MatchesFacts(t *testing.T) {
	spec := keying.KW1
	if spec.Cuts != 5 || spec.MACS != 4 || spec.MinDepth != 1 || spec.MaxDepth != 6 || spec.AllowDepth7 {
		t.Fatalf("KW1 = %+v", spec)
	}
	for i, s := range spec.SpacingIn {
		if want := 0.247 + 0.150*float64(i); s < want-1e-9 || s > want+1e-9 {
			t.Errorf("spacing %d = %.3f, want %.3f", i+1, s, want)
		}
	}
	for d := 1; d <= 7; d++ {
		if want := 0.329 - 0.023*float64(d-1); spec.DepthIn[d] < want-1e-9 || spec.DepthIn[d] > want+1e-9 {
			t.Errorf("depth %d = %.3f, want %.3f", d, spec.DepthIn[d], want)
		}
	}
}
