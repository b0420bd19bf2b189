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
