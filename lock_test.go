package latchkey_test

import (
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

func TestLockValidate(t *testing.T) {
	bought := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	installed := bought.AddDate(0, 0, -1)
	tests := []struct {
		name string
		lock latchkey.Lock
		ok   bool
	}{
		{"OK", latchkey.Lock{DoorID: 1, Name: "Front deadbolt", ModelID: "916",
			Connection: latchkey.Connection{Driver: latchkey.DriverZWaveJS, Address: "7"}}, true},
		{"OK/NotConnected", latchkey.Lock{DoorID: 1, Name: "Side knob", ModelID: "smartkey"}, true},
		{"ErrNoDoor", latchkey.Lock{Name: "x"}, false},
		{"ErrNoName", latchkey.Lock{DoorID: 1, Name: "  "}, false},
		{"ErrInstalledBeforePurchase", latchkey.Lock{DoorID: 1, Name: "x", PurchasedAt: &bought, InstalledAt: &installed}, false},
		{"ErrDriverWithoutAddress", latchkey.Lock{DoorID: 1, Name: "x", Connection: latchkey.Connection{Driver: latchkey.DriverSim}}, false},
		{"ErrAddressWithoutDriver", latchkey.Lock{DoorID: 1, Name: "x", Connection: latchkey.Connection{Address: "7"}}, false},
		{"ErrUnknownDriver", latchkey.Lock{DoorID: 1, Name: "x", Connection: latchkey.Connection{Driver: "bluetooth", Address: "a"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.lock.Validate()
			if tt.ok != (err == nil) {
				t.Fatalf("Validate() = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && latchkey.ErrorCode(err) != latchkey.EINVALID {
				t.Fatalf("code = %q, want invalid", latchkey.ErrorCode(err))
			}
		})
	}
}

func TestSiteAndPersonValidate(t *testing.T) {
	if err := (&latchkey.Site{Name: "Maple St", TimeZone: "America/Chicago"}).Validate(); err != nil {
		t.Errorf("site: %v", err)
	}
	for _, zone := range []string{"Mars/Olympus", "Local", "Factory", "posixrules"} {
		if err := (&latchkey.Site{Name: "Maple St", TimeZone: zone}).Validate(); latchkey.ErrorCode(err) != latchkey.EINVALID {
			t.Errorf("site in zone %q: %v, want invalid", zone, err)
		}
	}
	if err := (&latchkey.Person{Name: "Ana", Role: latchkey.RoleTenant}).Validate(); err != nil {
		t.Errorf("person: %v", err)
	}
	if err := (&latchkey.Person{Name: "Ana", Role: "landlord"}).Validate(); latchkey.ErrorCode(err) != latchkey.EINVALID {
		t.Errorf("person with unknown role: %v, want invalid", err)
	}
	if err := (&latchkey.Door{SiteID: 1, Name: "Garage"}).Validate(); err != nil {
		t.Errorf("door: %v", err)
	}
}

// Text that hides, reorders or rewrites what is shown is refused in names and notes;
// line feeds and tabs are kept in notes only.
func TestTextRules(t *testing.T) {
	for name, tt := range map[string]struct {
		text  string
		notes bool // in the notes (several lines) rather than the name
		ok    bool
	}{
		"OK/Name":               {"Front door", false, true},
		"OK/Accents":            {"Porte d'entrée", false, true},
		"OK/NotesLines":         {"line one\nline two\tend", true, true},
		"ErrZeroWidthSpace":     {"A\u200bna", false, false},
		"ErrRightToLeft":        {"Front\u202edoor", false, false},
		"ErrLineSeparator":      {"Front\u2028door", false, false},
		"ErrLineFeedInName":     {"Front\ndoor", false, false},
		"ErrCarriageReturn":     {"line one\rOVERWRITE", true, false},
		"ErrC1Control":          {"Front\u0085door", false, false},
		"ErrParagraphSeparator": {"a\u2029b", true, false},
		"ErrHangulFiller":       {"Ana\u3164Ruiz", false, false},
		"ErrBrailleBlank":       {"\u2800", false, false},
		"ErrChoseongFiller":     {"\u115f", false, false},
		"OK/Hangul":             {"김민준", false, true},
		"OK/CombiningAccent":    {"Ana Ruiz\u0301", false, true},
	} {
		t.Run(name, func(t *testing.T) {
			l := latchkey.Lock{DoorID: 1, Name: "Deadbolt"}
			if tt.notes {
				l.Notes = tt.text
			} else {
				l.Name = tt.text
			}
			if err := l.Validate(); (err == nil) != tt.ok {
				t.Fatalf("Validate(%q) = %v, want ok=%v", tt.text, err, tt.ok)
			}
		})
	}
}

// One rule says what a lock needs, most urgent first; nothing is "ok" beside a problem,
// and each reason says what to do.
func TestLockNeeds(t *testing.T) {
	ok := latchkey.Lock{ID: 4, ModelID: "916", Status: latchkey.LockOK}
	with := func(f func(*latchkey.Lock)) latchkey.Lock { l := ok; f(&l); return l }
	tests := []struct {
		name  string
		lock  latchkey.Lock
		facts latchkey.LockFacts
		level string
		label string
		says  []string // in the reason
		not   []string // not in it
	}{
		{"OK", ok, latchkey.LockFacts{Known: true}, "ok", "ok", nil, nil},
		{"Exposed", with(func(l *latchkey.Lock) { l.Status = latchkey.LockExposed; l.State.BatteryMV = 6000 }), latchkey.LockFacts{}, "bad", "exposed: rekey",
			[]string{"rekey it to a new key", "on the lock's page (Record a rekey or a new cylinder)", "latchkey lock rekey"}, []string{"battery"}},
		// The battery does not vanish behind the exposure.
		{"ExposedLowBattery", with(func(l *latchkey.Lock) { l.Status = latchkey.LockExposed; l.State.BatteryMV = 4500 }), latchkey.LockFacts{}, "bad", "exposed: rekey",
			[]string{"rekey it to a new key", "its battery is also low", "replace the batteries"}, nil},
		{"Quarantined", with(func(l *latchkey.Lock) { l.Status = latchkey.LockQuarantined }), latchkey.LockFacts{}, "bad", "reset: re-provision", nil, nil},
		{"Jammed", with(func(l *latchkey.Lock) { l.State.Bolt = "jammed"; l.State.BatteryMV = 4500 }), latchkey.LockFacts{}, "bad", "bolt jammed",
			[]string{"its battery is also low"}, nil},
		{"LowBattery", with(func(l *latchkey.Lock) { l.State.BatteryMV = 4700 }), latchkey.LockFacts{Known: true, Pending: 2}, "warn", "battery low",
			[]string{"replace the batteries"}, []string{"also low"}},
		{"Unidentified", latchkey.Lock{Status: latchkey.LockUnidentified}, latchkey.LockFacts{}, "warn", "model unknown", nil, nil},
		// Nothing confirms a change by itself: the reason says to make it, then confirm it.
		{"Pending", ok, latchkey.LockFacts{Known: true, Pending: 1}, "warn", "changes pending",
			[]string{"1 code change to make at the lock", "program or remove it at the keypad", "then confirm it on the lock's page", "latchkey code confirm CODE --lock 4"},
			[]string{"wait"}},
		{"PendingTwo", ok, latchkey.LockFacts{Known: true, Pending: 2}, "warn", "changes pending",
			[]string{"2 code changes to make at the lock", "program or remove each at the keypad"}, []string{"wait"}},
		// A connected lock's changes are the sync engine's to make: no one is sent to the keypad.
		{"PendingConnected", ok, latchkey.LockFacts{Known: true, Pending: 2, Connected: true}, "warn", "changes pending",
			[]string{"2 code changes are on the way to the lock", "sync engine", "latchkey code show"}, []string{"keypad", "confirm"}},
		{"NoWayIn", ok, latchkey.LockFacts{Known: true, NoWayIn: true}, "warn", "no way in", []string{"add a code or record its key"}, nil},
		// A lock with no keypad takes no code: the reason does not offer one.
		{"NoWayInNoKeypad", with(func(l *latchkey.Lock) { l.ModelID = "smartkey" }), latchkey.LockFacts{Known: true, NoWayIn: true, NoKeypad: true}, "warn", "no way in",
			[]string{"record its key", "latchkey lock set 4 --key KEY"}, []string{"add a code"}},
		{"FactsUnknown", ok, latchkey.LockFacts{Pending: 3, NoWayIn: true}, "ok", "ok", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.lock.Needs(tt.facts)
			if got.Level != tt.level || got.Label != tt.label || (tt.level != "ok" && got.Why == "") {
				t.Fatalf("Needs = %+v, want %s %q with a reason", got, tt.level, tt.label)
			}
			for _, want := range tt.says {
				if !strings.Contains(got.Why, want) {
					t.Errorf("reason %q does not say %q", got.Why, want)
				}
			}
			for _, unwanted := range tt.not {
				if strings.Contains(got.Why, unwanted) {
					t.Errorf("reason %q says %q", got.Why, unwanted)
				}
			}
		})
	}
}

func TestLockStatusValidate(t *testing.T) {
	for _, st := range []latchkey.LockStatus{latchkey.LockOK, latchkey.LockExposed, latchkey.LockNeedsLocksmith,
		latchkey.LockNeedsSupport, latchkey.LockQuarantined, latchkey.LockUnidentified} {
		if err := st.Validate(); err != nil {
			t.Errorf("%s: %v", st, err)
		}
	}
	for _, st := range []latchkey.LockStatus{"bogus", "", "OK"} {
		err := st.Validate()
		if latchkey.ErrorCode(err) != latchkey.EINVALID || !strings.Contains(latchkey.ErrorMessage(err), "needs_locksmith") {
			t.Errorf("%q: %v, want invalid with the list of statuses", st, err)
		}
	}
}

func TestSiteCodeLead(t *testing.T) {
	for minutes, want := range map[int]string{0: "an hour", 1: "a minute", 45: "45 minutes", 60: "an hour", 90: "an hour and 30 minutes", 180: "3 hours", 121: "2 hours and a minute"} {
		s := latchkey.Site{CodeLeadMinutes: minutes}
		if got := s.CodeLeadText(); got != want {
			t.Errorf("%d minutes: %q, want %q", minutes, got, want)
		}
	}
	for _, bad := range []int{-1, latchkey.MaxCodeLeadMinutes + 1} {
		s := latchkey.Site{Name: "Home", TimeZone: "UTC", CodeLeadMinutes: bad}
		if err := s.Validate(); latchkey.ErrorCode(err) != latchkey.EINVALID {
			t.Errorf("lead %d: %v", bad, err)
		}
	}
}
