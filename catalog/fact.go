package catalog

import (
	"encoding/json"
	"fmt"

	"go.yaml.in/yaml/v3"
)

// Confidence is how far a fact can be trusted, as labelled in docs/kwikset-facts.md.
type Confidence string

// Confidence labels, best first.
const (
	Official    Confidence = "official"  // Kwikset's own text
	DeviceDB    Confidence = "device-db" // device definitions in open-source stacks
	Secondary   Confidence = "secondary" // locksmith press, blogs, how-to pages
	Unconfirmed Confidence = "unconfirmed"
)

func (c Confidence) rank() int {
	switch c {
	case Official:
		return 3
	case DeviceDB:
		return 2
	case Secondary:
		return 1
	default:
		return 0
	}
}

// Fact is one catalog value with where it comes from. A fact the sources do not settle
// is not Known; its Value is then the zero value and must not be used. Assumed, when
// set, is the conservative value Latchkey's rules fall back on for an unknown fact: not
// a claim about the lock, and every answer that rests on it says so.
type Fact[T any] struct {
	Value      T
	Known      bool
	Assumed    *T
	Sources    []string
	Confidence Confidence
	Note       string
}

// Get returns the value the rules should use: the known value, else the conservative
// assumption, else fallback. The second result is false when the value is not a
// confirmed fact.
func (f Fact[T]) Get(fallback T) (T, bool) {
	switch {
	case f.Known:
		return f.Value, true
	case f.Assumed != nil:
		return *f.Assumed, false
	default:
		return fallback, false
	}
}

// IsZero reports whether the catalog says nothing at all about this fact for a model
// (a keyway on a keypad-only lock), as opposed to saying it is unconfirmed.
func (f Fact[T]) IsZero() bool { return !f.Known && f.Confidence == "" }

// factYAML is the on-disk form of a Fact: {v, src, conf, note} for a known value and
// {unconfirmed, src, assume} for an unknown one.
type factYAML[T any] struct {
	V           *T       `yaml:"v"`
	Src         []string `yaml:"src"`
	Conf        string   `yaml:"conf"`
	Note        string   `yaml:"note"`
	Unconfirmed *string  `yaml:"unconfirmed"`
	Assume      *T       `yaml:"assume"`
}

// UnmarshalYAML reads a fact, refusing one that is both known and unconfirmed, or
// neither.
func (f *Fact[T]) UnmarshalYAML(node *yaml.Node) error {
	var raw factYAML[T]
	if err := node.Decode(&raw); err != nil {
		return err
	}
	switch {
	case raw.V != nil && raw.Unconfirmed != nil:
		return fmt.Errorf("line %d: a fact is either v or unconfirmed, not both", node.Line)
	case raw.V == nil && raw.Unconfirmed == nil:
		return fmt.Errorf("line %d: a fact needs v or unconfirmed", node.Line)
	case raw.V != nil && raw.Assume != nil:
		return fmt.Errorf("line %d: assume is only for unconfirmed facts", node.Line)
	}
	*f = Fact[T]{Sources: raw.Src, Confidence: Confidence(raw.Conf), Assumed: raw.Assume}
	if raw.V != nil {
		f.Value, f.Known, f.Note = *raw.V, true, raw.Note
	} else {
		f.Note = *raw.Unconfirmed
		f.Confidence = Unconfirmed
	}
	return nil
}

// MarshalJSON writes {"value","sources","confidence","note"} for a known fact and
// {"unconfirmed":true,"note","assumed"} for an unknown one, so that no consumer can
// mistake an assumption for a fact.
func (f Fact[T]) MarshalJSON() ([]byte, error) {
	if f.Known {
		return json.Marshal(struct {
			Value      T          `json:"value"`
			Sources    []string   `json:"sources"`
			Confidence Confidence `json:"confidence"`
			Note       string     `json:"note,omitempty"`
		}{f.Value, nonNil(f.Sources), f.Confidence, f.Note})
	}
	return json.Marshal(struct {
		Unconfirmed bool     `json:"unconfirmed"`
		Note        string   `json:"note,omitempty"`
		Sources     []string `json:"sources"`
		Assumed     *T       `json:"assumed,omitempty"`
	}{true, f.Note, nonNil(f.Sources), f.Assumed})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
