package http

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/latchkey/latchkey"
)

// statusByCode is the one table from Latchkey's error codes to HTTP statuses.
var statusByCode = map[string]int{
	latchkey.EINVALID:      http.StatusBadRequest,
	latchkey.ENOTFOUND:     http.StatusNotFound,
	latchkey.ECONFLICT:     http.StatusConflict,
	latchkey.EUNSAFE:       http.StatusUnprocessableEntity,
	latchkey.EUNAUTHORIZED: http.StatusUnauthorized,
	latchkey.EFORBIDDEN:    http.StatusForbidden,
	latchkey.EUNAVAILABLE:  http.StatusServiceUnavailable,
	latchkey.EINTERNAL:     http.StatusInternalServerError,
}

// codeByStatus turns an HTTP status back into an error code, for the client.
func codeByStatus(status int) string {
	for code, s := range statusByCode {
		if s == status {
			return code
		}
	}
	if status == http.StatusTooManyRequests {
		return latchkey.EUNAVAILABLE
	}
	return latchkey.EINTERNAL
}

// ErrorBody is the JSON form of every error: {"error":{"code","message"}}.
type ErrorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// throttled is a refusal to try again too soon: unavailable, with how long to wait.
type throttled struct {
	retry time.Duration
}

func (t throttled) Error() string { return t.Unwrap().Error() }

// Unwrap gives the refusal as Latchkey's error, so that every page and answer shows it.
func (t throttled) Unwrap() error {
	return latchkey.Errorf(latchkey.EUNAVAILABLE, "Too many failed sign-ins; wait %s and try again.", t.retry.Round(time.Second))
}

// tooLarge is a request body over its route's limit: 413, with the refusal's words.
type tooLarge struct{ refusal error }

func (t tooLarge) Error() string { return t.refusal.Error() }

// Unwrap gives the refusal as Latchkey's error (EINVALID), for every page and answer.
func (t tooLarge) Unwrap() error { return t.refusal }

// statusOf is the HTTP status of an error, setting Retry-After for a refusal to try again
// too soon.
func statusOf(w http.ResponseWriter, err error) int {
	var t throttled
	if errors.As(err, &t) {
		w.Header().Set("Retry-After", strconv.Itoa(int(t.retry.Seconds())+1))
		return http.StatusTooManyRequests
	}
	if errors.As(err, new(tooLarge)) {
		return http.StatusRequestEntityTooLarge
	}
	return statusByCode[latchkey.ErrorCode(err)]
}

// writeError writes err as JSON. Only coded errors' messages reach the client; anything
// else is logged with the request id and reported as "Internal error."
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	code, msg, status := latchkey.ErrorCode(err), latchkey.ErrorMessage(err), statusOf(w, err)
	if code == latchkey.EINTERNAL {
		logger(r).Error("request failed", slog.String("error", err.Error()))
	}
	var body ErrorBody
	body.Error.Code, body.Error.Message = code, msg
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
