package webhook_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/latchkey/latchkey"
)

// BenchmarkOutbox measures what the outbox adds to recording a lock's event: the event
// alone (no webhook wants it), and written to 1 and to 5 subscriptions.
func BenchmarkOutbox(b *testing.B) {
	for _, hooks := range []int{0, 1, 5} {
		b.Run(fmt.Sprintf("webhooks=%d", hooks), func(b *testing.B) {
			h := newHome(b, "https://example.com/in")
			if err := h.svc.DeleteWebhook(owner, h.hook.ID); err != nil {
				b.Fatal(err)
			}
			for i := range hooks {
				if _, _, err := h.svc.CreateWebhook(owner, latchkey.NewWebhook{URL: fmt.Sprintf("https://example.com/%d", i), Events: []latchkey.WebhookKind{"all"}}); err != nil {
					b.Fatal(err)
				}
			}
			ev := latchkey.DeviceEvent{Driver: latchkey.DriverSim, Address: "front", Kind: latchkey.EventUnlocked, Source: latchkey.SourceKeypad, Slot: 1}
			b.ResetTimer()
			for range b.N {
				if _, err := h.svc.RecordDeviceEvent(context.Background(), ev); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
