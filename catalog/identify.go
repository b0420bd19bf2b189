package catalog

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/latchkey/latchkey"
)

// Answers are what a person can tell about a lock by looking at it. Empty fields are
// unanswered ("don't know").
type Answers struct {
	// Keypad is none, 5-button (two digits per button), 10-button, touchscreen,
	// kwikset-menu (digits plus a button with the Kwikset logo) or fingerprint.
	Keypad string `json:"keypad,omitempty"`
	// Radio is the radio named on the label or the box: zwave, zigbee, wifi, ble,
	// matter, or none.
	Radio string `json:"radio,omitempty"`
	// SmartKeyHole is "yes" when there is a small slot beside the keyway, "no" when there
	// is none, "" when unanswered.
	SmartKeyHole string `json:"smartkey_hole,omitempty"`
	// Handle is deadbolt, lever, knob or conversion-kit (a motor unit on the inside of
	// an existing deadbolt).
	Handle string `json:"handle,omitempty"`
}

// Answer choices, for prompts and validation.
var (
	KeypadChoices = []string{KeypadNone, KeypadFiveButton, KeypadTenButton, KeypadTouchscreen, KeypadMenu, KeypadFingerprint}
	RadioChoices  = []string{"none", RadioZWave, RadioZigbee, RadioWiFi, RadioBLE, RadioMatter}
	HandleChoices = []string{"deadbolt", "lever", "knob", "conversion-kit"}
	YesNoChoices  = []string{"yes", "no"}
)

// Question is one of the things a person can tell about a lock by looking at it, with
// the answers to choose from, for the command line's prompts and the web runner's
// identify step: the one table both ask from.
type Question struct {
	Name string // the answer's name in a report: keypad, radio, smartkey_hole, handle
	// Text asks it where the answers are shown in words to tap; Prompt asks it on a
	// terminal, where an answer is typed as its value.
	Text, Prompt string
	Choices      []Answer
}

// Values are the question's answers as typed.
func (q Question) Values() []string {
	out := make([]string, len(q.Choices))
	for i, c := range q.Choices {
		out[i] = c.Value
	}
	return out
}

// Answer is one answer to a question: its value and what it looks like.
type Answer struct {
	Value, Label string
}

// Questions are the identify questions, in the order they are asked; their answers are
// the choices above, each in words.
func Questions() []Question {
	ask := func(name, text, prompt string, values []string, labels map[string]string) Question {
		q := Question{Name: name, Text: text, Prompt: prompt}
		for _, v := range values {
			q.Choices = append(q.Choices, Answer{Value: v, Label: labels[v]})
		}
		return q
	}
	return []Question{
		ask("keypad", "What is on the outside, besides a keyway?",
			"Keypad? (5-button: two digits on each button; kwikset-menu: digits plus a Kwikset-logo button)", KeypadChoices, map[string]string{
				KeypadNone: "No keypad", KeypadFiveButton: "5 buttons, two digits on each", KeypadTenButton: "10 buttons, one digit on each",
				KeypadTouchscreen: "A touchscreen", KeypadMenu: "Digits and a button with the Kwikset logo", KeypadFingerprint: "A fingerprint reader"}),
		ask("radio", "Which radio do the label or the box name?", "Radio named on the label or box?", RadioChoices, map[string]string{
			"none": "None", RadioZWave: "Z-Wave", RadioZigbee: "Zigbee", RadioWiFi: "Wi-Fi", RadioBLE: "Bluetooth", RadioMatter: "Matter"}),
		ask("smartkey_hole", "Is there a small slot beside the keyway?", "Is there a small slot beside the keyway (SmartKey)?", YesNoChoices, map[string]string{
			"yes": "Yes: a SmartKey cylinder", "no": "No"}),
		ask("handle", "What does it look like?", "Handle?", HandleChoices, map[string]string{
			"deadbolt": "A deadbolt", "lever": "A lever handle", "knob": "A knob", "conversion-kit": "A motor unit on the inside of an existing deadbolt"}),
	}
}

// Validate reports an answer outside its choices.
func (a Answers) Validate() error {
	check := func(what, v string, choices []string) error {
		if v != "" && !slices.Contains(choices, v) {
			return latchkey.Errorf(latchkey.EINVALID, "Unknown %s %q; choose one of: %s.", what, v, strings.Join(choices, ", "))
		}
		return nil
	}
	for _, err := range []error{
		check("keypad", a.Keypad, KeypadChoices),
		check("radio", a.Radio, RadioChoices),
		check("SmartKey hole answer", a.SmartKeyHole, YesNoChoices),
		check("handle", a.Handle, HandleChoices),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

// Candidate is a model that fits the answers, with a score (higher fits better) and the
// reasons for it, one per answer.
type Candidate struct {
	Model   *Model   `json:"-"`
	ID      string   `json:"model"`
	Name    string   `json:"name"`
	Score   int      `json:"score"`
	Reasons []string `json:"reasons"`
}

// Points for an answer the model's confirmed facts match, and for one the catalog cannot
// confirm either way.
const (
	matchPoints   = 3
	unknownPoints = 1
)

// Identify ranks the models that fit the answers, best first. A model whose confirmed
// facts contradict an answer is left out; an unconfirmed fact neither counts for nor
// against a model, and the reason says so.
func (c *Catalog) Identify(a Answers) ([]Candidate, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	var out []Candidate
	for _, m := range c.Models {
		if cand, ok := match(m, a); ok {
			out = append(out, cand)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Score > out[j].Score })
	return out, nil
}

func match(m *Model, a Answers) (Candidate, bool) {
	cand := Candidate{Model: m, ID: m.ID, Name: m.Name}
	// judge scores one answer: fits is nil when the catalog cannot tell.
	judge := func(what, answer string, fits *bool, sources []string) bool {
		switch {
		case answer == "":
			return true
		case fits == nil && what == "SmartKey hole" && answer == "yes":
			cand.Score += unknownPoints
			cand.Reasons = append(cand.Reasons, "SmartKey hole yes: this lock also carries a SmartKey cylinder; record it with the lock")
			return true
		case fits == nil:
			cand.Score += unknownPoints
			cand.Reasons = append(cand.Reasons, fmt.Sprintf("%s %s: not confirmed for this model", what, answer))
			return true
		case *fits:
			cand.Score += matchPoints
			cand.Reasons = append(cand.Reasons, fmt.Sprintf("%s %s: matches (%s)", what, answer, strings.Join(sources, ", ")))
			return true
		default:
			return false
		}
	}
	ok := judge("keypad", a.Keypad, keypadFits(m, a.Keypad), m.Keypad.Sources) &&
		judge("radio", a.Radio, radioFits(m, a.Radio), m.Radios.Sources) &&
		judge("SmartKey hole", a.SmartKeyHole, holeFits(m, a.SmartKeyHole), append(m.SmartKeyHole.Sources, m.KeywayFree.Sources...)) &&
		judge("handle", a.Handle, handleFits(m, a.Handle), m.Form.Sources)
	return cand, ok
}

func boolp(b bool) *bool { return &b }

func keypadFits(m *Model, answer string) *bool {
	if !m.Keypad.Known {
		return nil
	}
	if answer == KeypadMenu {
		// The 955 has a touchscreen but programs through the Kwikset-button menu.
		return boolp(m.Keypad.Value == KeypadMenu || (m.Programming.Known && m.Programming.Value == ProgramMenu))
	}
	return boolp(m.Keypad.Value == answer)
}

func radioFits(m *Model, answer string) *bool {
	if !m.Radios.Known {
		return nil
	}
	if answer == "none" {
		return boolp(len(m.Radios.Value) == 0)
	}
	return boolp(slices.Contains(m.Radios.Value, answer))
}

// holeFits: the slot marks a SmartKey cylinder (facts §1.1). Electronic locks may or may
// not carry one, except keyway-free models, which have no cylinder at all.
func holeFits(m *Model, answer string) *bool {
	if m.Kind == Mechanical {
		return boolp(answer == "yes")
	}
	if m.KeywayFree.Known && m.KeywayFree.Value {
		return boolp(answer == "no")
	}
	return nil
}

func handleFits(m *Model, answer string) *bool {
	if !m.Form.Known {
		return nil
	}
	if m.Form.Value == "cylinder" { // a SmartKey cylinder sits in any handle but a kit
		return boolp(answer != "conversion-kit")
	}
	return boolp(m.Form.Value == answer)
}
