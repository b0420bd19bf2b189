package http

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"runtime"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/latchkey/latchkey"
)

// argon2id parameters (RFC 9106's second recommended option, memory-constrained).
const (
	argonTime    = 3
	argonMemory  = 64 * 1024 // KiB
	argonThreads = 2
	argonKeyLen  = 32
	minPassword  = 10
	maxPassword  = 1024
)

// DefaultPasswordChecks is how many password hashes run at once unless the server is
// told otherwise: each takes argonMemory (64 MiB) while it runs, so two keep a sign-in
// flood to a couple of hundred MiB (SPEC §7: 64 parallel sign-ins under 512 MiB; measured
// by TestSignInFloodMemory).
const DefaultPasswordChecks = 2

// hashGate bounds the password hashes running at once, and the sign-ins waiting for
// one: past those, a sign-in is told to try again shortly rather than queued without
// end.
type hashGate struct {
	slots   chan struct{}
	waiting chan struct{}
}

func newHashGate(n int) *hashGate {
	if n < 1 {
		n = DefaultPasswordChecks
	}
	return &hashGate{slots: make(chan struct{}, n), waiting: make(chan struct{}, 64*n)}
}

// maxHashWait is how long a sign-in waits for a free hash before it is told to retry.
const maxHashWait = 10 * time.Second

// run runs f, which hashes a password, once a slot is free.
func (g *hashGate) run(ctx context.Context, f func()) error {
	busy := latchkey.Errorf(latchkey.EUNAVAILABLE, "Latchkey is busy checking other sign-ins; try again in a few seconds.")
	select {
	case g.waiting <- struct{}{}:
		defer func() { <-g.waiting }()
	default:
		return busy
	}
	timer := time.NewTimer(maxHashWait)
	defer timer.Stop()
	select {
	case g.slots <- struct{}{}:
		defer func() { <-g.slots }()
	case <-ctx.Done():
		return busy
	case <-timer.C:
		return busy
	}
	f()
	// The hash's 64 MiB are garbage now. Collected at once they are reused by the next
	// hash; left to the collector's own pace, a flood of sign-ins stacks up several
	// blocks before it runs (measured: 347 MiB peak for 64 sign-ins without this, 219
	// with). A collection costs little beside a hash.
	runtime.GC()
	return nil
}

// HashPassword returns an argon2id hash of password in the PHC string format.
func HashPassword(password string) (string, error) {
	if len(password) < minPassword {
		return "", latchkey.Errorf(latchkey.EINVALID, "A password has at least %d characters; a few words in a row make a good one.", minPassword)
	}
	if len(password) > maxPassword {
		return "", latchkey.Errorf(latchkey.EINVALID, "A password has at most %d characters.", maxPassword)
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding.EncodeToString
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads, b64(salt), b64(key)), nil
}

// CheckPassword reports whether password matches an argon2id hash, in constant time.
func CheckPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m > 1<<20 || t > 16 || p == 0 {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 || len(want) > 64 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}
