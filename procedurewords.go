package latchkey

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// attestationTexts say what each attestation a plan asks for confirms, for whoever shows
// a step to a person (the command line, the web runner): a person confirms a sentence,
// not an identifier.
var attestationTexts = map[string]string{
	AttestDoorOpen:    "The door is open, and stays open",
	AttestWorkingKey:  "The key that opens the lock today is at hand",
	AttestTool:        "The SmartKey tool is at hand",
	AttestNewKey:      "The new key is at hand",
	AttestBatteries:   "Fresh batteries are at hand",
	AttestOldKeyFails: "The old key no longer turns the lock",
	AttestBoltMoved:   "The bolt moved by itself (the lock learned the door's handing)",
	AttestCodeWorks:   "The code opens the lock at the keypad",
	AttestCodeFails:   "The old code no longer opens the lock",
	AttestHubReady:    "The hub is on and within reach of the lock",
	"guests_out":      "The guests have left and the keys lent to them are back",
	"lock_works":      "The lock locks and unlocks, and its LED does not blink red",
}

// AttestationText says in a sentence what an attestation confirms. The tests of a new
// key are numbered (test_outside_2: the second try from outside); a name it does not
// know is given back in words.
func AttestationText(name string) string {
	if t, ok := attestationTexts[name]; ok {
		return t
	}
	for side, where := range map[string]string{AttestTestOutside: "outside", AttestTestInside: "inside"} {
		if n, ok := strings.CutPrefix(name, side+"_"); ok && n != "" {
			return "Try " + n + " from " + where + ": the new key locks and unlocks the door"
		}
	}
	words := strings.ReplaceAll(name, "_", " ")
	first, size := utf8.DecodeRuneInString(words)
	if size == 0 {
		return ""
	}
	return string(unicode.ToUpper(first)) + words[size:]
}
