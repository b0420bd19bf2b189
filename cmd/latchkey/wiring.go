package main

import (
	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/catalog"
	"github.com/latchkey/latchkey/keying"
)

// rules gives the service what it needs of the catalog and the key rules; wiring them
// together here keeps the catalog and keying packages independent of each other.
type rules struct {
	*catalog.Catalog
}

var _ latchkey.Models = rules{}

// CheckCode checks a PIN under the model's code rules beside the lock's other codes.
func (r rules) CheckCode(modelID, pin string, existing []string) error {
	m, err := r.Model(modelID)
	if err != nil {
		return err
	}
	return m.Rules().Check(pin, existing).Err()
}

// GenerateCode returns a PIN the model accepts beside the existing codes.
func (r rules) GenerateCode(modelID string, existing []string) (string, error) {
	m, err := r.Model(modelID)
	if err != nil {
		return "", err
	}
	return m.Rules().GenerateCode(0, existing, nil)
}

// smallestCapacity is used where a model's capacity is neither known nor assumed: the
// smallest any Kwikset keypad is said to hold (facts §3.2, the 909's lower report).
const smallestCapacity = 4

// CodeCapacity is how many user codes the model holds.
func (r rules) CodeCapacity(modelID string) int {
	m, err := r.Model(modelID)
	if err != nil {
		return 0
	}
	if c := m.Rules().Capacity; c >= 0 {
		return c
	}
	return smallestCapacity
}

// CheckBitting validates a bitting for its keyway and returns it normalised.
func (r rules) CheckBitting(keyway, bitting string) (string, error) {
	if keyway != keying.KW1.Keyway {
		return "", latchkey.Errorf(latchkey.EINVALID, "Latchkey knows the KW1 keyway only; %q is not one it can check.", keyway)
	}
	b, err := keying.KW1.Parse(bitting)
	return string(b), err
}

// Rules returns the rules the program wires into the service (tests use it too).
func Rules() latchkey.Models { return rules{catalog.Default()} }
