package latchkey_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
)

// TestPINRedacted tries every ordinary way a PIN could leak into text: formatting,
// JSON, structured logs. Only Reveal shows the digits.
func TestPINRedacted(t *testing.T) {
	const digits = "482913"
	pin := latchkey.PIN(digits)
	code := latchkey.Code{ID: 1, PersonID: 2, Label: "Guest", PIN: pin}

	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	logger.Info("code added", "pin", pin, "code", code)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("code added", "pin", pin)

	js, err := json.Marshal(code)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"%v": fmt.Sprintf("%v", pin),
		//lint:ignore S1025 the test checks what fmt itself does with a PIN
		"%s":   fmt.Sprintf("%s", pin),
		"%#v":  fmt.Sprintf("%#v", code),
		"%+v":  fmt.Sprintf("%+v", code),
		"json": string(js),
		"slog": logs.String(),
		"err":  fmt.Errorf("set %v failed", pin).Error(),
	}
	for name, out := range outputs {
		if strings.Contains(out, digits) {
			t.Errorf("%s leaks the PIN: %s", name, out)
		}
	}
	if got := pin.Reveal(); got != digits {
		t.Errorf("Reveal = %q, want %q", got, digits)
	}
}

func TestCodeValidate(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		c := latchkey.Code{PersonID: 1, Label: "Dog walker", UseLimit: 10}
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ErrNoPerson", func(t *testing.T) {
		c := latchkey.Code{Label: "x"}
		if code := latchkey.ErrorCode(c.Validate()); code != latchkey.EINVALID {
			t.Fatalf("code = %q, want invalid", code)
		}
	})
	t.Run("ErrOneTimeWithLimit", func(t *testing.T) {
		c := latchkey.Code{PersonID: 1, Label: "x", OneTime: true, UseLimit: 3}
		if code := latchkey.ErrorCode(c.Validate()); code != latchkey.EINVALID {
			t.Fatalf("code = %q, want invalid", code)
		}
	})
	t.Run("ErrControlCharacterInLabel", func(t *testing.T) {
		c := latchkey.Code{PersonID: 1, Label: "a\x1b[31mb"}
		if code := latchkey.ErrorCode(c.Validate()); code != latchkey.EINVALID {
			t.Fatalf("code = %q, want invalid", code)
		}
	})
}

func TestCodeValidity(t *testing.T) {
	weekdays, err := latchkey.ParseWeekly("mon-fri 09:00-17:00")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		c    latchkey.Code
		want string
	}{
		{"Always", latchkey.Code{}, "always"},
		{"OneTime", latchkey.Code{OneTime: true}, "always, one use only"},
		{"UseLimitOfOne", latchkey.Code{UseLimit: 1}, "always, one use only"},
		{"UseLimit", latchkey.Code{UseLimit: 5, Schedule: latchkey.Schedule{Kind: latchkey.ScheduleWeekly, Weekly: weekdays}}, "Mon–Fri 09:00–17:00, up to 5 uses"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.Validity(nil); got != tt.want {
				t.Errorf("Validity = %q, want %q", got, tt.want)
			}
		})
	}
}
