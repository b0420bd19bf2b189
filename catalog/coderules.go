package catalog

import (
	"crypto/rand"
	"fmt"
	"io"
	"math/big"
	"strings"

	"github.com/latchkey/latchkey"
)

// Fallbacks for rules a model's facts leave open and the data gives no assumption for.
// Every documented Kwikset keypad takes 4 to 8 digits (facts §3.2).
const (
	fallbackCodeMin = 4
	fallbackCodeMax = 8
)

// Rule names used in findings.
const (
	RuleNoCodes         = "no-codes"
	RuleDigits          = "digits"
	RuleLength          = "length"
	RuleForbiddenPrefix = "forbidden-prefix"
	RuleCapacity        = "capacity"
	RuleDuplicate       = "duplicate"
	RuleSameButtons     = "same-buttons"
	RuleUniquePrefix    = "unique-prefix"
	RuleGuessable       = "guessable"
)

// Finding is one rule's verdict on a code. Messages never contain the code's digits or
// those of existing codes: an existing code is named by its position in the list given.
type Finding struct {
	Rule    string   `json:"rule"`
	Message string   `json:"message"`
	Facts   string   `json:"facts"`             // the section of docs/kwikset-facts.md it follows
	Sources []string `json:"sources,omitempty"` // source tags
	Assumed bool     `json:"assumed,omitempty"` // the rule is unconfirmed for this model and applied to be safe
}

// CodeCheck is the verdict on a proposed code for one model.
type CodeCheck struct {
	Model    string    `json:"model"`
	OK       bool      `json:"ok"`
	Problems []Finding `json:"problems"` // rules the code breaks; any one refuses it
	Notes    []Finding `json:"notes"`    // rules applied conservatively, and advice
}

// Err returns nil for an acceptable code, and otherwise an invalid error whose message
// lists every problem.
func (c CodeCheck) Err() error {
	if c.OK {
		return nil
	}
	msgs := make([]string, len(c.Problems))
	for i, p := range c.Problems {
		msgs[i] = p.Message
	}
	return latchkey.Errorf(latchkey.EINVALID, "%s", strings.Join(msgs, " "))
}

// CodeRules are the effective code rules of a model: confirmed facts where the catalog
// has them, conservative values where it does not.
type CodeRules struct {
	Model             *Model
	Capacity          int // -1: no limit known and none assumed
	MinLen, MaxLen    int
	UniquePrefix      int // 0: no rule
	ForbiddenPrefixes []string
	SameButtons       bool // five-button keypad: codes compare by buttons pressed
	assumed           map[string]bool
}

// Rules returns the effective code rules of m.
func (m *Model) Rules() CodeRules {
	r := CodeRules{Model: m, assumed: map[string]bool{}}
	var known bool
	r.Capacity, known = m.MaxUserCodes.Get(-1)
	r.assumed[RuleCapacity] = !known
	r.MinLen, known = m.CodeMin.Get(fallbackCodeMin)
	r.assumed[RuleLength] = !known
	r.MaxLen, known = m.CodeMax.Get(fallbackCodeMax)
	r.assumed[RuleLength] = r.assumed[RuleLength] || !known
	r.UniquePrefix, known = m.UniquePrefix.Get(0)
	r.assumed[RuleUniquePrefix] = !known
	r.ForbiddenPrefixes, known = m.ForbiddenPrefixes.Get(nil)
	r.assumed[RuleForbiddenPrefix] = !known
	// Same-button collisions are physics on a five-button keypad (facts §3.2). Where the
	// keypad layout is unknown, the stricter five-button comparison holds, whatever the
	// catalog guesses the layout to be.
	keypad, known := m.Keypad.Get("")
	r.SameButtons = keypad == KeypadFiveButton || !known
	r.assumed[RuleSameButtons] = !known
	// A lock with no keypad takes no code, whatever its memory (facts §3.1): a SmartKey
	// cylinder or knob, a keypad-less deadbolt.
	if m.Kind == Mechanical || (known && keypad == KeypadNone) {
		r.Capacity, r.assumed[RuleCapacity] = 0, false
	}
	return r
}

// fiveButton maps each digit to its button on a five-button keypad: 1-2, 3-4, 5-6, 7-8,
// 9-0 (facts §8).
var fiveButton = [10]byte{'5', '1', '1', '2', '2', '3', '3', '4', '4', '5'}

// Buttons returns the buttons a code presses on a five-button keypad.
func Buttons(code string) string {
	b := []byte(code)
	for i, c := range b {
		if c >= '0' && c <= '9' {
			b[i] = fiveButton[c-'0']
		}
	}
	return string(b)
}

// CheckCode checks a proposed code against the model's rules and the codes already on
// the lock. It never returns the digits of any code in its findings.
func (c *Catalog) CheckCode(m *Model, code string, existing []string) CodeCheck {
	return m.Rules().Check(code, existing)
}

// Check checks a proposed code against the rules and the codes already on the lock.
func (r CodeRules) Check(code string, existing []string) CodeCheck {
	m := r.Model
	out := CodeCheck{Model: m.ID, Problems: []Finding{}, Notes: []Finding{}}
	add := func(problem bool, f Finding) {
		if f.Assumed && !problem {
			return
		}
		if f.Assumed {
			f.Message += fmt.Sprintf(" (This rule is unconfirmed for the %s; Latchkey applies it to be safe.)", m.ID)
		}
		if problem {
			out.Problems = append(out.Problems, f)
		} else {
			out.Notes = append(out.Notes, f)
		}
	}

	if r.Capacity == 0 {
		add(true, Finding{Rule: RuleNoCodes, Facts: "§3.1",
			Message: fmt.Sprintf("The %s takes no user codes (it has no keypad, or codes are not supported on it).", m.Name),
			Sources: m.MaxUserCodes.Sources, Assumed: r.assumed[RuleCapacity]})
		return out
	}
	if code == "" || strings.Trim(code, "0123456789") != "" {
		add(true, Finding{Rule: RuleDigits, Facts: "§3.2",
			Message: "A keypad code is made of the digits 0 to 9 only; remove any other characters."})
		return out
	}
	if len(code) < r.MinLen || len(code) > r.MaxLen {
		add(true, Finding{Rule: RuleLength, Facts: "§3.2",
			Message: fmt.Sprintf("The %s takes codes of %d to %d digits; this one has %d.", m.ID, r.MinLen, r.MaxLen, len(code)),
			Sources: append(append([]string{}, m.CodeMin.Sources...), m.CodeMax.Sources...), Assumed: r.assumed[RuleLength]})
	}
	for _, p := range r.ForbiddenPrefixes {
		if strings.HasPrefix(code, p) {
			add(true, Finding{Rule: RuleForbiddenPrefix, Facts: "§3.2",
				Message: fmt.Sprintf("Codes may not start with %s on the %s; choose other leading digits.", p, m.ID),
				Sources: m.ForbiddenPrefixes.Sources, Assumed: r.assumed[RuleForbiddenPrefix]})
		}
	}
	if r.Capacity > 0 && len(existing) >= r.Capacity {
		add(true, Finding{Rule: RuleCapacity, Facts: "§3.2",
			Message: fmt.Sprintf("The %s holds at most %d user codes and already has %d; remove a code first.", m.ID, r.Capacity, len(existing)),
			Sources: m.MaxUserCodes.Sources, Assumed: r.assumed[RuleCapacity]})
	}
	for i, e := range existing {
		n := i + 1
		switch {
		case e == code:
			add(true, Finding{Rule: RuleDuplicate, Facts: "§3.2",
				Message: fmt.Sprintf("The code is the same as existing code no. %d; the lock rejects duplicates.", n)})
		case r.SameButtons && len(e) == len(code) && Buttons(e) == Buttons(code):
			add(true, Finding{Rule: RuleSameButtons, Facts: "§3.2", Sources: []string{"STC", "ALM"},
				Message: fmt.Sprintf("On the %s's five-button keypad each button carries two digits (1-2, 3-4, 5-6, 7-8, 9-0), so this code presses the same buttons as existing code no. %d and the lock treats them as the same code; change at least one digit to one on another button.", m.ID, n),
				Assumed: r.assumed[RuleSameButtons]})
		case r.UniquePrefix > 0 && len(e) >= r.UniquePrefix && len(code) >= r.UniquePrefix && e[:r.UniquePrefix] == code[:r.UniquePrefix]:
			add(true, Finding{Rule: RuleUniquePrefix, Facts: "§3.2",
				Message: fmt.Sprintf("The first %d digits must differ from every other code's on the %s, and they match existing code no. %d; change one of the first %d digits.", r.UniquePrefix, m.ID, n, r.UniquePrefix),
				Sources: m.UniquePrefix.Sources, Assumed: r.assumed[RuleUniquePrefix]})
		}
	}
	if reason := guessable(code); reason != "" {
		add(false, Finding{Rule: RuleGuessable, Facts: "performance §4",
			Message: fmt.Sprintf("The code %s and is among the first a stranger tries; the lock accepts it, but a generated code is safer.", reason)})
	}
	if len(code) < 6 && len(existing) >= 10 && r.MaxLen >= 6 {
		add(false, Finding{Rule: RuleGuessable, Facts: "performance §4",
			Message: "With ten or more codes on one lock, a 4- or 5-digit code can be guessed within hours at the keypad; use 6 digits or more."})
	}
	// Say which rules rest on assumptions even when the code passes them.
	for _, rule := range []string{RuleLength, RuleCapacity, RuleSameButtons, RuleUniquePrefix, RuleForbiddenPrefix} {
		if r.assumed[rule] && r.applies(rule) && !out.breaks(rule) {
			out.Notes = append(out.Notes, Finding{Rule: rule, Facts: "§3.2", Assumed: true,
				Message: fmt.Sprintf("%s: unconfirmed for the %s; Latchkey applies %s to be safe.", ruleTitle[rule], m.ID, r.describe(rule))})
		}
	}
	out.OK = len(out.Problems) == 0
	return out
}

func (c CodeCheck) breaks(rule string) bool {
	for _, p := range c.Problems {
		if p.Rule == rule {
			return true
		}
	}
	return false
}

var ruleTitle = map[string]string{
	RuleLength:          "Code length",
	RuleCapacity:        "Code capacity",
	RuleSameButtons:     "Same-button collisions",
	RuleUniquePrefix:    "Unique first digits",
	RuleForbiddenPrefix: "Forbidden prefixes",
}

func (r CodeRules) applies(rule string) bool {
	switch rule {
	case RuleCapacity:
		return r.Capacity > 0
	case RuleSameButtons:
		return r.SameButtons
	case RuleUniquePrefix:
		return r.UniquePrefix > 0
	case RuleForbiddenPrefix:
		return len(r.ForbiddenPrefixes) > 0
	}
	return true
}

func (r CodeRules) describe(rule string) string {
	switch rule {
	case RuleLength:
		return fmt.Sprintf("%d to %d digits", r.MinLen, r.MaxLen)
	case RuleCapacity:
		return fmt.Sprintf("a limit of %d codes", r.Capacity)
	case RuleSameButtons:
		return "the five-button comparison"
	case RuleUniquePrefix:
		return fmt.Sprintf("unique first %d digits", r.UniquePrefix)
	default:
		return "no codes starting with " + strings.Join(r.ForbiddenPrefixes, " or ")
	}
}

// guessable says why a code is easy to guess, or "" when it is not: one repeated digit,
// or a straight run up or down.
func guessable(code string) string {
	if len(code) < 2 {
		return ""
	}
	same, up, down := true, true, true
	for i := 1; i < len(code); i++ {
		d := (int(code[i]) - int(code[i-1]) + 10) % 10
		same = same && d == 0
		up = up && d == 1
		down = down && d == 9
	}
	switch {
	case same:
		return "repeats one digit"
	case up || down:
		return "is a straight run of digits"
	}
	return ""
}

// GenerateCode returns a random code that the model accepts beside the existing codes,
// that is not easy to guess, and whose digits come from crypto/rand (or from random, for
// tests). length 0 picks 6 digits where the model allows it (performance §4: six digits
// turn hours of guessing into weeks), else the model's longest.
func (r CodeRules) GenerateCode(length int, existing []string, random io.Reader) (string, error) {
	if random == nil {
		random = rand.Reader
	}
	m := r.Model
	if r.Capacity == 0 {
		return "", r.Check("0", nil).Err()
	}
	if length == 0 {
		length = min(max(6, r.MinLen), r.MaxLen)
	}
	if length < r.MinLen || length > r.MaxLen {
		return "", latchkey.Errorf(latchkey.EINVALID, "The %s takes codes of %d to %d digits; ask for a length in that range.", m.ID, r.MinLen, r.MaxLen)
	}
	if r.Capacity > 0 && len(existing) >= r.Capacity {
		return "", latchkey.Errorf(latchkey.ECONFLICT, "The %s holds at most %d user codes and already has %d; remove a code first.", m.ID, r.Capacity, len(existing))
	}
	ten := big.NewInt(10)
	digits := make([]byte, length)
	// Even a full 4-digit lock leaves thousands of free codes, so a few hundred draws
	// find one unless the rules leave none.
	for range 1000 {
		for i := range digits {
			n, err := rand.Int(random, ten)
			if err != nil {
				return "", fmt.Errorf("generate code: %w", err)
			}
			digits[i] = byte('0' + n.Int64())
		}
		code := string(digits)
		if guessable(code) != "" || distinctDigits(code) < min(3, length) {
			continue
		}
		if r.Check(code, existing).OK {
			return code, nil
		}
	}
	return "", latchkey.Errorf(latchkey.ECONFLICT, "No free %d-digit code fits the %s's rules beside the existing codes; try a longer code or remove codes.", length, m.ID)
}

func distinctDigits(code string) int {
	var seen [10]bool
	n := 0
	for _, c := range code {
		if !seen[c-'0'] {
			seen[c-'0'] = true
			n++
		}
	}
	return n
}
