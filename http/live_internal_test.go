package http

import (
	"testing"

	"github.com/latchkey/latchkey"
)

// What people read of each event: an unlock by a code's slot names the code's person.
func TestEventText(t *testing.T) {
	for _, tt := range []struct {
		e      latchkey.Event
		person string
		want   string
	}{
		{latchkey.Event{Kind: latchkey.EventUnlocked, Source: latchkey.SourceKeypad, Slot: 2, PersonID: 7}, "Sam Chen", "Unlocked by Sam Chen's code"},
		{latchkey.Event{Kind: latchkey.EventUnlocked, Source: latchkey.SourceKeypad, Slot: 5}, "", "Unlocked by the code in slot 5"},
		{latchkey.Event{Kind: latchkey.EventLocked, Source: latchkey.SourceKeypad}, "", "Locked at the keypad"},
		{latchkey.Event{Kind: latchkey.EventLocked, Source: latchkey.SourceAuto}, "", "Locked automatically"},
		{latchkey.Event{Kind: latchkey.EventUnlocked, Source: latchkey.SourceManual, Detail: "ignored for bolt moves"}, "", "Unlocked by hand"},
		{latchkey.Event{Kind: latchkey.EventLowBattery, Detail: "low: charge battery soon (alarm 167)"}, "", "Battery low: replace the batteries before programming (low: charge battery soon (alarm 167))"},
		{latchkey.Event{Kind: latchkey.EventOffline}, "", "Stopped answering: check its batteries and the hub's range"},
		{latchkey.Event{Kind: latchkey.EventCodeAdded, Slot: 4}, "", "A code was added at the lock itself, not through Latchkey"},
		{latchkey.Event{Kind: latchkey.EventRunStatus, Run: &latchkey.RunProgress{ID: 3, Title: "Rekey Side", Status: latchkey.RunActive, Current: 3, Steps: 9}}, "", "Procedure run 3 (Rekey Side): step 4 of 9"},
		{latchkey.Event{Kind: latchkey.EventRunStatus, Run: &latchkey.RunProgress{ID: 3, Title: "Rekey Side", Status: latchkey.RunDone, Steps: 9}}, "", "Procedure run 3 (Rekey Side): done"},
	} {
		if got := eventText(&tt.e, tt.person); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.e, got, tt.want)
		}
	}
}
