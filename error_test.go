package latchkey_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/latchkey/latchkey"
)

func TestErrorCodeAndMessage(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		code     string
		message  string
		exitCode int
	}{
		{"Nil", nil, "", "", latchkey.ExitOK},
		{"Invalid", latchkey.Errorf(latchkey.EINVALID, "bad %s", "bitting"), latchkey.EINVALID, "bad bitting", latchkey.ExitFailed},
		{"Wrapped", fmt.Errorf("check: %w", latchkey.Errorf(latchkey.ENOTFOUND, "no such lock")), latchkey.ENOTFOUND, "no such lock", latchkey.ExitFailed},
		{"Unsafe", latchkey.Errorf(latchkey.EUNSAFE, "last way in"), latchkey.EUNSAFE, "last way in", latchkey.ExitUnsafe},
		{"ErrInternal", errors.New("disk on fire at /var/lib/x"), latchkey.EINTERNAL, "Internal error.", latchkey.ExitFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := latchkey.ErrorCode(tt.err); got != tt.code {
				t.Errorf("ErrorCode = %q, want %q", got, tt.code)
			}
			if got := latchkey.ErrorMessage(tt.err); got != tt.message {
				t.Errorf("ErrorMessage = %q, want %q", got, tt.message)
			}
			if got := latchkey.ExitStatus(tt.err); got != tt.exitCode {
				t.Errorf("ExitStatus = %d, want %d", got, tt.exitCode)
			}
		})
	}
}
