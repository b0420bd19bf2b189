// Package keying holds the rules of Kwikset mechanical keys: the KW1 bitting
// specification, validation with reasons a person understands, cryptographically random
// generation of new bittings, keyed-alike groups, and a drawing of a key to scale
// (docs/kwikset-facts.md §1.4 and §2).
package keying

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/latchkey/latchkey"
)

// Spec is a keyway's bitting specification.
type Spec struct {
	Keyway      string
	Cuts        int             // number of cut positions
	MinDepth    int             // shallowest depth number
	MaxDepth    int             // deepest depth number in ordinary use
	AllowDepth7 bool            // depth 7 (master pins, construction keying) allowed
	MACS        int             // maximum adjacent cut specification
	SpacingIn   []float64       // shoulder to the centre of each cut, inches
	DepthIn     map[int]float64 // blade height at the cut root for each depth, inches
	BladeIn     float64         // uncut blade height, inches
	RootIn      float64         // width of the flat at the bottom of a cut, inches
}

// KW1 is the Kwikset 5-pin keyway that SmartKey cylinders learn (facts §2): 5 cuts,
// depths 1 to 6 (7 only with master pins on classic cylinders, unconfirmed for
// SmartKey), MACS 4, spacing .247″ + .150″ per cut, depth step .023″ (LW, KC).
var KW1 = Spec{
	Keyway:    "KW1",
	Cuts:      5,
	MinDepth:  1,
	MaxDepth:  6,
	MACS:      4,
	SpacingIn: []float64{0.247, 0.397, 0.547, 0.697, 0.847},
	DepthIn:   map[int]float64{1: 0.329, 2: 0.306, 3: 0.283, 4: 0.260, 5: 0.237, 6: 0.214, 7: 0.191},
	BladeIn:   0.329,
	// Sources give .080″ (lockwiki), .084″ (KeyCopier) and .088″ (Aria Locks); which one
	// Kwikset specifies is unconfirmed. The narrowest is drawn: it changes no depth.
	RootIn: 0.080,
}

// deepest returns the deepest depth number the spec allows.
func (s Spec) deepest() int {
	if s.AllowDepth7 {
		return 7
	}
	return s.MaxDepth
}

// Bitting is a validated bitting code: one depth digit per cut, read from the bow
// (shoulder) to the tip, for example "35242". It is comparable and usable as a map key.
type Bitting string

// Depths returns the cut depths of b, shoulder first.
func (b Bitting) Depths() []int {
	d := make([]int, len(b))
	for i := range b {
		d[i] = int(b[i] - '0')
	}
	return d
}

// maxInput bounds what Parse reads, so that a pasted page is refused rather than scanned.
const maxInput = 64

// Parse reads a bitting as people write it ("35242", "3-5-2-4-2", "3 5 2 4 2") and
// validates it against the spec. Its error says every rule the bitting breaks.
func (s Spec) Parse(text string) (Bitting, error) {
	if len(text) > maxInput {
		return "", latchkey.Errorf(latchkey.EINVALID, "A bitting is %d digits; the text given is %d characters long.", s.Cuts, len(text))
	}
	var digits strings.Builder
	for i, r := range strings.TrimSpace(text) {
		switch {
		case r >= '0' && r <= '9':
			digits.WriteRune(r)
		case r == '-' || r == ' ' || r == ',' || r == '.':
		default:
			return "", latchkey.Errorf(latchkey.EINVALID,
				"A bitting is written as depth digits, such as 35242; character %d (%q) is not a digit.", i+1, r)
		}
	}
	b := Bitting(digits.String())
	if err := s.Validate(b); err != nil {
		return "", err
	}
	return b, nil
}

// Validate checks a bitting against the spec and reports every problem, each with what
// to do about it.
func (s Spec) Validate(b Bitting) error {
	if len(b) == 0 {
		return latchkey.Errorf(latchkey.EINVALID, "The bitting is empty; give the %d depth digits stamped on the key or its card, read from the bow to the tip.", s.Cuts)
	}
	for i := range len(b) {
		if b[i] < '0' || b[i] > '9' {
			return latchkey.Errorf(latchkey.EINVALID, "A bitting is written as depth digits only, such as 35242.")
		}
	}
	var problems []string
	if len(b) != s.Cuts {
		msg := fmt.Sprintf("A %s key has %d cuts; this bitting has %d. Read all the depth digits from the bow to the tip.", s.Keyway, s.Cuts, len(b))
		if s.Keyway == "KW1" && len(b) == 6 {
			msg = "Six cuts make a KW10 (6-pin) key; whether SmartKey cylinders accept KW10 keys is unconfirmed (kwikset-facts §1.4), so Latchkey works with 5-cut KW1 bittings only."
		}
		problems = append(problems, msg)
	}
	depths := b.Depths()
	var outCuts, outDepths []string // cuts outside the keyway's depths, said once for all
	for i, d := range depths {
		switch {
		case d == 7 && s.MaxDepth < 7 && !s.AllowDepth7:
			problems = append(problems, fmt.Sprintf(
				"Cut %d has depth 7, which Kwikset uses only with master pins on classic cylinders; it is not confirmed for SmartKey (kwikset-facts §2), so choose a depth from %d to %d.",
				i+1, s.MinDepth, s.MaxDepth))
		case d < s.MinDepth || d > s.deepest():
			outCuts, outDepths = append(outCuts, strconv.Itoa(i+1)), append(outDepths, strconv.Itoa(d))
		}
	}
	switch len(outCuts) {
	case 0:
	case 1:
		problems = append(problems, fmt.Sprintf("Cut %s has depth %s; %s depths run from %d (shallowest) to %d.",
			outCuts[0], outDepths[0], s.Keyway, s.MinDepth, s.deepest()))
	default:
		problems = append(problems, fmt.Sprintf("Cuts %s have depths %s; %s depths run from %d (shallowest) to %d.",
			andList(outCuts), andList(outDepths), s.Keyway, s.MinDepth, s.deepest()))
	}
	for i := 1; i < len(depths); i++ {
		if diff := abs(depths[i] - depths[i-1]); diff > s.MACS {
			problems = append(problems, fmt.Sprintf(
				"Cuts %d and %d differ by %d depths (%d then %d); %s allows at most %d between neighbouring cuts (MACS), or the key cannot be cut and will not turn reliably.",
				i, i+1, diff, depths[i-1], depths[i], s.Keyway, s.MACS))
		}
	}
	if len(problems) > 0 {
		return latchkey.Errorf(latchkey.EINVALID, "%s", strings.Join(problems, " "))
	}
	return nil
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// Near reports whether two bittings differ in at most one cut. A key that close to
// another may open its lock once worn, or be cut from it with a single change, so new
// bittings keep clear of used ones.
func Near(a, b Bitting) bool {
	if len(a) != len(b) {
		return false
	}
	diff := 0
	for i := range len(a) {
		if a[i] != b[i] {
			diff++
		}
	}
	return diff <= 1
}

// andList joins items as a sentence does: "1, 2 and 3".
func andList(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}
