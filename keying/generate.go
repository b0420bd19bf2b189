package keying

import (
	"crypto/rand"
	"fmt"
	"io"
	"math/big"

	"github.com/latchkey/latchkey"
)

// All returns every valid bitting of the spec, in ascending order.
func (s Spec) All() []Bitting {
	var out []Bitting
	digits := make([]byte, s.Cuts)
	var walk func(pos int)
	walk = func(pos int) {
		if pos == s.Cuts {
			if b := Bitting(digits); s.Validate(b) == nil {
				out = append(out, b)
			}
			return
		}
		for d := s.MinDepth; d <= s.deepest(); d++ {
			digits[pos] = byte('0' + d)
			walk(pos + 1)
		}
	}
	walk(0)
	return out
}

// GenerateOptions tune Generate.
type GenerateOptions struct {
	// Avoid lists bittings used before (on the site, or anywhere the caller knows of).
	// Nothing within one cut of them is generated.
	Avoid []Bitting
	// Apart keeps the generated bittings more than one cut from each other as well, for
	// keys of different doors. Far fewer bittings exist that way.
	Apart bool
	// Random is the source of randomness; nil means crypto/rand.
	Random io.Reader
}

// Generate returns n distinct valid bittings, drawn uniformly with cryptographic
// randomness from those not within one cut of any avoided bitting. Bittings of a single
// repeated depth (11111, 22222) are never generated: they are the first ones tried.
func (s Spec) Generate(n int, opt GenerateOptions) ([]Bitting, error) {
	if n < 1 {
		return nil, latchkey.Errorf(latchkey.EINVALID, "Ask for at least one bitting.")
	}
	random := opt.Random
	if random == nil {
		random = rand.Reader
	}
	var pool []Bitting
	for _, b := range s.All() {
		if !uniform(b) && !nearAny(b, opt.Avoid) {
			pool = append(pool, b)
		}
	}
	if err := shuffle(pool, random); err != nil {
		return nil, err
	}
	out := make([]Bitting, 0, n)
	for _, b := range pool {
		if len(out) == n {
			break
		}
		if opt.Apart && nearAny(b, out) {
			continue
		}
		out = append(out, b)
	}
	if len(out) < n {
		how := "not within one cut of the avoided bittings"
		if opt.Apart {
			how += " and apart from each other"
		}
		return nil, latchkey.Errorf(latchkey.ECONFLICT,
			"Only %d %s bittings are %s; ask for %d or fewer.", len(out), s.Keyway, how, len(out))
	}
	return out, nil
}

func uniform(b Bitting) bool {
	for i := 1; i < len(b); i++ {
		if b[i] != b[0] {
			return false
		}
	}
	return true
}

func nearAny(b Bitting, set []Bitting) bool {
	for _, a := range set {
		if Near(a, b) {
			return true
		}
	}
	return false
}

// shuffle is a Fisher-Yates shuffle driven by random.
func shuffle(s []Bitting, random io.Reader) error {
	for i := len(s) - 1; i > 0; i-- {
		j, err := rand.Int(random, big.NewInt(int64(i+1)))
		if err != nil {
			return fmt.Errorf("shuffle bittings: %w", err)
		}
		s[i], s[j.Int64()] = s[j.Int64()], s[i]
	}
	return nil
}

// Common returns the strictest spec that every given spec accepts, for a keyed-alike
// group: the same keyway and cut count, the narrowest depth range, the smallest MACS,
// and depth 7 only when all allow it.
func Common(specs ...Spec) (Spec, error) {
	if len(specs) == 0 {
		return Spec{}, latchkey.Errorf(latchkey.EINVALID, "A keyed-alike group needs at least one cylinder.")
	}
	c := specs[0]
	for _, s := range specs[1:] {
		if s.Keyway != c.Keyway || s.Cuts != c.Cuts {
			return Spec{}, latchkey.Errorf(latchkey.EINVALID,
				"Cylinders of keyway %s (%d cuts) and %s (%d cuts) cannot be keyed alike: one key fits one keyway.",
				c.Keyway, c.Cuts, s.Keyway, s.Cuts)
		}
		c.MinDepth = max(c.MinDepth, s.MinDepth)
		c.MaxDepth = min(c.MaxDepth, s.MaxDepth)
		c.MACS = min(c.MACS, s.MACS)
		c.AllowDepth7 = c.AllowDepth7 && s.AllowDepth7
	}
	return c, nil
}

// KeyAlike chooses one new bitting that every cylinder of a keyed-alike group accepts,
// clear of the avoided bittings. SmartKey cylinders cannot be master keyed (facts §1.4),
// so keyed alike (one key for every door of the group) is how a group shares a key.
func KeyAlike(specs []Spec, opt GenerateOptions) (Bitting, error) {
	spec, err := Common(specs...)
	if err != nil {
		return "", err
	}
	opt.Apart = false
	bs, err := spec.Generate(1, opt)
	if err != nil {
		return "", err
	}
	return bs[0], nil
}
