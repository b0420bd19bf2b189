package latchkey_test

import (
	"testing"

	"github.com/latchkey/latchkey"
)

func TestAttestationText(t *testing.T) {
	for name, want := range map[string]string{
		latchkey.AttestDoorOpen: "The door is open, and stays open",
		"test_outside_2":        "Try 2 from outside: the new key locks and unlocks the door",
		"test_inside_3":         "Try 3 from inside: the new key locks and unlocks the door",
		"hinges_oiled":          "Hinges oiled",
		"école":                 "École",
		"":                      "",
	} {
		if got := latchkey.AttestationText(name); got != want {
			t.Errorf("AttestationText(%q) = %q, want %q", name, got, want)
		}
	}
}
