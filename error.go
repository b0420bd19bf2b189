package latchkey

import (
	"errors"
	"fmt"
)

// Error codes. They are the whole vocabulary callers branch on; the HTTP API and the
// CLI each translate them in one place (SPEC §5).
const (
	EINVALID      = "invalid"      // the input is malformed or breaks a rule
	ENOTFOUND     = "not_found"    // the thing asked for does not exist
	ECONFLICT     = "conflict"     // the change collides with existing state
	EUNSAFE       = "unsafe"       // the change would break a safety invariant (SPEC §3)
	EUNAUTHORIZED = "unauthorized" // the caller is not authenticated
	EFORBIDDEN    = "forbidden"    // the caller may not do this
	EUNAVAILABLE  = "unavailable"  // a device, hub or store cannot be reached now
	EINTERNAL     = "internal"     // a bug or an unexpected failure
)

// Error is the application error: a code from the list above and a message written for
// the person who will read it, saying what was wrong and what to do. Only Message is
// ever shown to users; anything that is not an *Error is reported as an internal error.
type Error struct {
	Code    string
	Message string
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("latchkey error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code string, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for any other
// non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of the first *Error in err's chain, or
// "Internal error." for any other error, so that internal details never reach a user.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// Exit statuses of the latchkey command (SPEC §5).
const (
	ExitOK     = 0 // done
	ExitFailed = 1 // refused or failed; the reason is printed
	ExitUsage  = 2 // bad usage: unknown command or flag, wrong number of arguments
	ExitUnsafe = 3 // refused because it would break a safety invariant
)

// ExitStatus maps an error to the exit status of the latchkey command. Usage errors are
// recognised by the command-line layer itself, which knows its own flags.
func ExitStatus(err error) int {
	switch ErrorCode(err) {
	case "":
		return ExitOK
	case EUNSAFE:
		return ExitUnsafe
	default:
		return ExitFailed
	}
}
