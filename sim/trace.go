package sim

import (
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// Entry kinds in a trace.
const (
	KindAction = "action" // something a person or the hub did
	KindLED    = "led"    // the status LED or keypad lights
	KindBeep   = "beep"   // the buzzer (only with the audio switch on, facts §3.9)
	KindScreen = "screen" // touchscreen symbols
	KindBolt   = "bolt"   // the bolt moved, or could not
	KindKey    = "key"    // a mechanical key turned, or did not
	KindState  = "state"  // an internal change worth seeing (learn mode, reset, handing)
	KindRadio  = "radio"  // a frame on the air
	KindHub    = "hub"    // what the hub saw or did
	KindEvent  = "event"  // an unsolicited report the lock sends its hub
	KindRefuse = "refuse" // an input the twin ignored or refused, with why
	KindExpect = "expect" // a scenario assertion that held
)

// Entry is one observable happening: what a person at the door, or the hub, could see.
type Entry struct {
	At     time.Duration `json:"t"` // since the world started
	Twin   string        `json:"twin,omitempty"`
	Kind   string        `json:"kind"`
	Detail string        `json:"detail"`
}

// Trace collects entries. A nil Trace drops them (for benchmarks).
type Trace struct {
	entries []Entry
	sink    func(Entry)
}

// Entries returns what was recorded.
func (t *Trace) Entries() []Entry { return t.entries }

func (t *Trace) add(e Entry) {
	if t == nil {
		return
	}
	t.entries = append(t.entries, e)
	if t.sink != nil {
		t.sink(e)
	}
}

// WriteText writes entries one a line: elapsed time, twin, kind, detail.
func WriteText(w io.Writer, entries []Entry) error {
	for _, e := range entries {
		if _, err := fmt.Fprintln(w, FormatEntry(e)); err != nil {
			return err
		}
	}
	return nil
}

// FormatEntry renders one entry for people.
func FormatEntry(e Entry) string {
	return fmt.Sprintf("%s  %-10s %-6s %s", clockText(e.At), e.Twin, e.Kind, e.Detail)
}

// WriteJSON writes one JSON object a line, with the elapsed time in milliseconds.
func WriteJSON(w io.Writer, entries []Entry) error {
	enc := json.NewEncoder(w)
	for _, e := range entries {
		if err := enc.Encode(struct {
			Ms     int64  `json:"t_ms"`
			Twin   string `json:"twin,omitempty"`
			Kind   string `json:"kind"`
			Detail string `json:"detail"`
		}{e.At.Milliseconds(), e.Twin, e.Kind, e.Detail}); err != nil {
			return err
		}
	}
	return nil
}

// clockText renders elapsed time as h:mm:ss.mmm.
func clockText(d time.Duration) string {
	ms := d.Milliseconds()
	return fmt.Sprintf("%d:%02d:%02d.%03d", ms/3600000, ms/60000%60, ms/1000%60, ms%1000)
}
