package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"
)

// Headers of every delivery (docs/webhooks.md).
const (
	HeaderTimestamp = "X-Latchkey-Timestamp" // Unix seconds when the attempt was made
	HeaderDelivery  = "X-Latchkey-Delivery"  // the delivery's id: the same in every attempt at it
	HeaderEvent     = "X-Latchkey-Event"     // the event's kind, such as code.revoked_used
	HeaderSignature = "X-Latchkey-Signature" // hex HMAC-SHA256 of timestamp + "." + body
)

// Sign returns the signature of a delivery: the hex HMAC-SHA256, keyed with the
// subscription's secret (its text, as shown when it was made), of the timestamp in
// decimal Unix seconds, a full stop, and the body exactly as sent.
func Sign(secret string, timestamp int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(timestamp, 10)))
	mac.Write([]byte("."))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// Verify checks a delivery as a receiver would: the signature matches the timestamp and
// body under secret, and the timestamp is within tolerance of now (so that a captured
// delivery cannot be played again later).
func Verify(secret, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) bool {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return false
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return false
	}
	want := Sign(secret, ts, body)
	return hmac.Equal([]byte(want), []byte(signature))
}
