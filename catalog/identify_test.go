package catalog_test

import (
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/catalog"
)

func TestIdentify(t *testing.T) {
	c := catalog.Default()
	tests := []struct {
		name    string
		answers catalog.Answers
		top     []string // the best candidates, in any order among equals
		absent  []string // models that must not be offered
	}{
		// §3.1: the connected five-button models are the 910 (deadbolt) and 912 (lever).
		{"FiveButtonZigbee", catalog.Answers{Keypad: "5-button", Radio: "zigbee"}, []string{"910", "912"}, []string{"914", "888"}},
		{"FiveButtonZigbeeLever", catalog.Answers{Keypad: "5-button", Radio: "zigbee", Handle: "lever"}, []string{"912"}, []string{"910"}},
		// §3.1: touchscreen deadbolt on Z-Wave is the 916.
		{"TouchscreenZWaveDeadbolt", catalog.Answers{Keypad: "touchscreen", Radio: "zwave", Handle: "deadbolt"}, []string{"916"}, []string{"halo-touchscreen"}},
		// §1.1: a slot beside the keyway and no keypad is a SmartKey cylinder.
		{"SmartKeyKnob", catalog.Answers{Keypad: "none", Radio: "none", SmartKeyHole: "yes", Handle: "knob"}, []string{"smartkey"}, []string{"914c"}},
		// §3.1: a conversion kit is the Convert.
		{"ConversionKit", catalog.Answers{Handle: "conversion-kit", Radio: "zigbee"}, []string{"914c"}, []string{"smartkey"}},
		// §3.1: the Kwikset-logo button marks the menu keypads; the 955 programs that way too.
		{"KwiksetMenuZWave", catalog.Answers{Keypad: "kwikset-menu", Radio: "zwave"}, []string{"620"}, []string{"955", "264"}},
		// Keyway-free Obsidian locks have no SmartKey slot.
		{"HoleExcludesObsidian", catalog.Answers{Keypad: "touchscreen", SmartKeyHole: "yes"}, nil, []string{"955", "954"}},
		// The Halo Keypad's layout is unconfirmed: it stays a lower-ranked candidate.
		{"WiFiFingerprint", catalog.Answers{Keypad: "fingerprint", Radio: "wifi"}, []string{"halo-touch"}, []string{"halo-touchscreen", "aura", "916"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cands, err := c.Identify(tt.answers)
			if err != nil {
				t.Fatal(err)
			}
			if len(cands) < len(tt.top) {
				t.Fatalf("got %d candidates, want at least %d", len(cands), len(tt.top))
			}
			for i, want := range tt.top {
				found := false
				for _, cand := range cands[:len(tt.top)] {
					found = found || cand.ID == want
				}
				if !found {
					t.Errorf("top %d = %v, want %s among them", len(tt.top), candIDs(cands[:len(tt.top)]), tt.top[i])
				}
			}
			if len(tt.top) > 0 && len(cands) > len(tt.top) && cands[len(tt.top)].Score >= cands[0].Score {
				t.Errorf("%s ties with the best candidates", cands[len(tt.top)].ID)
			}
			for _, no := range tt.absent {
				for _, cand := range cands {
					if cand.ID == no {
						t.Errorf("%s offered although its facts contradict the answers", no)
					}
				}
			}
			for _, cand := range cands {
				if len(cand.Reasons) == 0 {
					t.Errorf("%s has no reason", cand.ID)
				}
			}
		})
	}
	t.Run("ErrUnknownAnswer", func(t *testing.T) {
		_, err := c.Identify(catalog.Answers{Keypad: "12-button"})
		if latchkey.ErrorCode(err) != latchkey.EINVALID {
			t.Fatalf("got %v, want invalid", err)
		}
	})
}

func candIDs(cs []catalog.Candidate) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

// Every identify question offers every answer the catalog takes, each in words, and
// nothing else.
func TestQuestions(t *testing.T) {
	qs := catalog.Questions()
	if len(qs) != 4 {
		t.Fatalf("%d questions, want keypad, radio, SmartKey hole and handle", len(qs))
	}
	for _, q := range qs {
		if q.Text == "" || q.Prompt == "" || len(q.Values()) != len(q.Choices) {
			t.Errorf("question %s: text %q, prompt %q, values %v", q.Name, q.Text, q.Prompt, q.Values())
		}
		for _, c := range q.Choices {
			if c.Label == "" {
				t.Errorf("%s answer %q has no words", q.Name, c.Value)
			}
			a := catalog.Answers{}
			switch q.Name {
			case "keypad":
				a.Keypad = c.Value
			case "radio":
				a.Radio = c.Value
			case "smartkey_hole":
				a.SmartKeyHole = c.Value
			case "handle":
				a.Handle = c.Value
			default:
				t.Fatalf("unknown question %q", q.Name)
			}
			if err := a.Validate(); err != nil {
				t.Errorf("%s answer %q: %v", q.Name, c.Value, err)
			}
		}
	}
}
