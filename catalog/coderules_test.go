package catalog_test

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/catalog"
)

func TestCheckCode(t *testing.T) {
	c := catalog.Default()
	full := make([]string, 30)
	for i := range full {
		full[i] = []string{"2580", "1470", "3690", "7531", "8642", "9513"}[i%6] + strings.Repeat("1", i/6)
	}
	tests := []struct {
		name     string
		model    string
		code     string
		existing []string
		rule     string // "" when the code must be accepted
		assumed  bool   // the refusing rule is unconfirmed for the model
	}{
		// §3.2: 5-button keypads (two digits per button) treat 1357 and 2468 as one code.
		{"ErrSameButtons/910", "910", "2468", []string{"1357"}, catalog.RuleSameButtons, false},
		{"ErrSameButtons/912", "912", "90123", []string{"09214"}, catalog.RuleSameButtons, false},
		// §3.2: a 10-button keypad has no such collision.
		{"OK/914", "914", "2468", []string{"1357"}, "", false},
		// §3.2 and §7: the 909's keypad is unconfirmed as 5-button, so the stricter rule holds.
		{"ErrSameButtonsAssumed/909", "909", "2468", []string{"1357"}, catalog.RuleSameButtons, true},
		// §3.2: 955 first four digits must be unique (K7).
		{"ErrUniquePrefix/955", "955", "123456", []string{"12349"}, catalog.RuleUniquePrefix, false},
		{"ErrUniquePrefixAssumed/914", "914", "582914", []string{"58290"}, catalog.RuleUniquePrefix, true},
		// §3.2: Halo codes may not start with 999999 (MCP).
		{"ErrForbiddenPrefix/Halo", "halo-keypad", "99999912", nil, catalog.RuleForbiddenPrefix, false},
		// §3.2: 4 to 8 digits.
		{"ErrTooShort", "916", "123", nil, catalog.RuleLength, false},
		{"ErrTooLong", "916", "123456789", nil, catalog.RuleLength, false},
		{"ErrLengthAssumed/888", "888", "123456789", nil, catalog.RuleLength, true},
		{"ErrNotDigits", "916", "12a4", nil, catalog.RuleDigits, false},
		{"ErrSpace", "916", "1234 ", nil, catalog.RuleDigits, false},
		{"ErrEmpty", "916", "", nil, catalog.RuleDigits, false},
		{"ErrDuplicate", "916", "4826", []string{"4826"}, catalog.RuleDuplicate, false},
		// §3.2: 30 user codes on the 916; 16 on the 913.
		{"ErrCapacity/916", "916", "835027", full, catalog.RuleCapacity, false},
		{"OK/916With29", "916", "835027", full[:29], "", false},
		{"ErrCapacity/913", "913", "835027", full[:16], catalog.RuleCapacity, false},
		// §3.2: the 909's capacity is unconfirmed (4 or 8): the smaller is assumed.
		{"ErrCapacityAssumed/909", "909", "835027", full[:4], catalog.RuleCapacity, true},
		// §3.1: the Convert has no keypad.
		{"ErrNoCodes/Convert", "914c", "1234", nil, catalog.RuleNoCodes, false},
		// §3.1: a SmartKey cylinder has no keypad at all.
		{"ErrNoCodes/SmartKey", "smartkey", "13579", nil, catalog.RuleNoCodes, false},
		{"OK/Halo", "halo-touchscreen", "73914", []string{"12345", "55555"}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check := c.CheckCode(MustModel(t, tt.model), tt.code, tt.existing)
			if tt.rule == "" {
				if !check.OK {
					t.Fatalf("refused: %+v", check.Problems)
				}
				if check.Err() != nil {
					t.Fatalf("Err() = %v for an accepted code", check.Err())
				}
				return
			}
			if check.OK {
				t.Fatalf("accepted; want refusal by %s", tt.rule)
			}
			i := slices.IndexFunc(check.Problems, func(f catalog.Finding) bool { return f.Rule == tt.rule })
			if i < 0 {
				t.Fatalf("problems %+v do not include %s", check.Problems, tt.rule)
			}
			p := check.Problems[i]
			if p.Assumed != tt.assumed {
				t.Errorf("assumed = %v, want %v", p.Assumed, tt.assumed)
			}
			if tt.assumed && !strings.Contains(p.Message, "unconfirmed for the "+tt.model) {
				t.Errorf("message does not say the rule is unconfirmed: %s", p.Message)
			}
			err := check.Err()
			if latchkey.ErrorCode(err) != latchkey.EINVALID || !strings.Contains(latchkey.ErrorMessage(err), p.Message) {
				t.Errorf("Err() = %v, want invalid with the problem's message", err)
			}
		})
	}
}

// A refused code's reason names the same-button rule in words a person understands.
func TestSameButtonMessage(t *testing.T) {
	check := catalog.Default().CheckCode(MustModel(t, "910"), "2468", []string{"1357"})
	msg := latchkey.ErrorMessage(check.Err())
	for _, want := range []string{"five-button", "same buttons", "existing code no. 1"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q: %s", want, msg)
		}
	}
}

// Findings never contain the digits of the code checked or of the existing codes.
func TestFindingsNeverShowCodes(t *testing.T) {
	c := catalog.Default()
	rng := rand.New(rand.NewPCG(1, 2))
	digits := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('0' + rng.IntN(10))
		}
		return string(b)
	}
	for i := range 2000 {
		m := c.Models[i%len(c.Models)]
		code := digits(5 + rng.IntN(5))
		existing := []string{digits(5 + rng.IntN(4)), code[:4] + digits(2), digits(len(code))}
		check := c.CheckCode(m, code, existing)
		for _, f := range append(check.Problems, check.Notes...) {
			for _, secret := range append(existing, code) {
				if strings.Contains(f.Message, secret) {
					t.Fatalf("model %s: finding %q shows a code", m.ID, f.Message)
				}
			}
		}
	}
}

// §8: digits map to buttons 1-2, 3-4, 5-6, 7-8, 9-0.
func TestButtons(t *testing.T) {
	for code, want := range map[string]string{"1357": "1234", "2468": "1234", "9012": "5511", "0000": "5555"} {
		if got := catalog.Buttons(code); got != want {
			t.Errorf("Buttons(%s) = %s, want %s", code, got, want)
		}
	}
}

func TestGuessableNote(t *testing.T) {
	check := catalog.Default().CheckCode(MustModel(t, "914"), "1234", nil)
	if !check.OK {
		t.Fatalf("1234 refused on a 914: %+v", check.Problems)
	}
	if !slices.ContainsFunc(check.Notes, func(f catalog.Finding) bool { return f.Rule == catalog.RuleGuessable }) {
		t.Errorf("no guessable note for 1234: %+v", check.Notes)
	}
}

// seeded is a deterministic randomness source for generation tests.
type seeded struct{ r *rand.ChaCha8 }

func (s seeded) Read(p []byte) (int, error) { return s.r.Read(p) }

func newSeeded(seed byte) seeded {
	var key [32]byte
	key[0] = seed
	return seeded{rand.NewChaCha8(key)}
}

func TestGenerateCode(t *testing.T) {
	t.Run("FillsA910", func(t *testing.T) {
		// Filling a five-button lock to capacity, each new code fits beside all earlier
		// ones (§3.2), and the 31st is refused.
		rules := MustModel(t, "910").Rules()
		var codes []string
		random := newSeeded(1)
		for range 30 {
			code, err := rules.GenerateCode(0, codes, random)
			if err != nil {
				t.Fatalf("after %d codes: %v", len(codes), err)
			}
			if len(code) != 6 {
				t.Fatalf("default length %d, want 6", len(code))
			}
			if check := rules.Check(code, codes); !check.OK {
				t.Fatalf("generated code refused: %+v", check.Problems)
			}
			codes = append(codes, code)
		}
		_, err := rules.GenerateCode(0, codes, random)
		if latchkey.ErrorCode(err) != latchkey.ECONFLICT {
			t.Fatalf("31st code: %v, want conflict", err)
		}
	})
	t.Run("Deterministic", func(t *testing.T) {
		rules := MustModel(t, "916").Rules()
		a, _ := rules.GenerateCode(8, nil, newSeeded(7))
		b, _ := rules.GenerateCode(8, nil, newSeeded(7))
		if a != b || len(a) != 8 {
			t.Fatalf("same seed gave %q and %q", a, b)
		}
	})
	t.Run("ErrLength", func(t *testing.T) {
		_, err := MustModel(t, "916").Rules().GenerateCode(12, nil, nil)
		if latchkey.ErrorCode(err) != latchkey.EINVALID {
			t.Fatalf("got %v, want invalid", err)
		}
	})
	t.Run("ErrNoCodes", func(t *testing.T) {
		_, err := MustModel(t, "914c").Rules().GenerateCode(0, nil, nil)
		if latchkey.ErrorCode(err) != latchkey.EINVALID {
			t.Fatalf("got %v, want invalid", err)
		}
	})
	t.Run("NeverGuessable", func(t *testing.T) {
		rules := MustModel(t, "halo-keypad").Rules()
		random := newSeeded(3)
		for range 500 {
			code, err := rules.GenerateCode(4, nil, random)
			if err != nil {
				t.Fatal(err)
			}
			check := rules.Check(code, nil)
			if slices.ContainsFunc(check.Notes, func(f catalog.Finding) bool { return f.Rule == catalog.RuleGuessable }) {
				t.Fatalf("generated guessable code")
			}
		}
	})
}

func FuzzCheckCode(f *testing.F) {
	for _, s := range []string{"1234", "2468", "", "99999912", "12a4", "\xff\xfe", "0000000000000"} {
		f.Add(s, "1357")
	}
	c := catalog.Default()
	f.Fuzz(func(t *testing.T, code, other string) {
		for _, m := range c.Models {
			check := c.CheckCode(m, code, []string{other})
			if !check.OK {
				continue
			}
			r := m.Rules()
			if len(code) < r.MinLen || len(code) > r.MaxLen || strings.Trim(code, "0123456789") != "" {
				t.Fatalf("model %s accepted a code breaking the length or digit rule", m.ID)
			}
			if code == other {
				t.Fatalf("model %s accepted a duplicate", m.ID)
			}
			if r.SameButtons && catalog.Buttons(code) == catalog.Buttons(other) {
				t.Fatalf("model %s accepted a same-button collision", m.ID)
			}
		}
	})
}

func FuzzModelLookup(f *testing.F) {
	for _, s := range []string{"916", "SmartCode 916", "kwikset", "", "---", "hc620\x00"} {
		f.Add(s)
	}
	c := catalog.Default()
	f.Fuzz(func(t *testing.T, name string) {
		m, err := c.Model(name)
		if (m == nil) == (err == nil) {
			t.Fatalf("Model(%q) = %v, %v: want exactly one of model and error", name, m, err)
		}
		if err != nil && latchkey.ErrorCode(err) != latchkey.ENOTFOUND {
			t.Fatalf("Model(%q) error code %q", name, latchkey.ErrorCode(err))
		}
	})
}

// §3.2: where a model's keypad layout is unconfirmed, codes are compared the strict
// five-button way (a same-button twin of an existing code is refused and the refusal
// says the rule is assumed), whether the catalog leaves the layout open or guesses one.
func TestUnknownKeypadComparesFiveButtonWay(t *testing.T) {
	models := []*catalog.Model{}
	for _, m := range catalog.Default().Models {
		if _, known := m.Keypad.Get(""); !known {
			models = append(models, m)
		}
	}
	sources := []byte("K1: {class: official, title: t}\n")
	seqs := []byte("R1: {name: r, src: [K1], steps: [{do: x}]}\n")
	parsed, err := catalog.Parse([]byte(`models: [
  {id: open, name: Open, kind: electronic, keypad: {unconfirmed: "not stated", src: []}},
  {id: guessed, name: Guessed, kind: electronic, keypad: {unconfirmed: "not stated", src: [], assume: 10-button}}]`), seqs, sources)
	if err != nil {
		t.Fatal(err)
	}
	models = append(models, parsed.Models...)
	checked := 0
	for _, m := range models {
		if m.Rules().Capacity == 0 {
			continue // holds no codes at all
		}
		checked++
		check := m.Rules().Check("2468", []string{"1357"})
		i := slices.IndexFunc(check.Problems, func(f catalog.Finding) bool { return f.Rule == catalog.RuleSameButtons })
		if check.OK || i < 0 || !check.Problems[i].Assumed {
			t.Errorf("model %s (keypad unconfirmed): 2468 beside 1357 gave %+v; want the assumed five-button refusal", m.ID, check.Problems)
		}
	}
	if checked < 4 {
		t.Fatalf("only %d models with an unconfirmed keypad were checked", checked)
	}
}
