package webhook

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// DefaultInterval is how often Run looks for due deliveries when nothing wakes it.
const DefaultInterval = 5 * time.Second

// maxInFlight bounds the deliveries Run sends at once, so that one slow receiver holds
// up no more than its own.
const maxInFlight = 8

// Run is the plain delivery loop, used until a durable job queue calls Deliver instead:
// it sends what is due whenever the domain says deliveries were written
// (Service.WebhooksDue), and at least every Interval for retries. It works until ctx
// ends, and returns once the attempts under way are recorded.
func (s *Sender) Run(ctx context.Context) {
	interval := s.Interval
	if interval <= 0 {
		interval = DefaultInterval
	}
	log := s.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	for {
		s.pass(ctx, log)
		timer := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-s.Service.WebhooksDue():
		case <-timer.C:
		}
		timer.Stop()
	}
}

// pass sends every delivery due now, a few at a time.
func (s *Sender) pass(ctx context.Context, log *slog.Logger) {
	ids, err := s.Due(ctx, s.Service.Clock.Now())
	if err != nil {
		if ctx.Err() == nil {
			log.Error("webhook deliveries not listed", slog.String("error", err.Error()))
		}
		return
	}
	var wg sync.WaitGroup
	slots := make(chan struct{}, maxInFlight)
	for _, id := range ids {
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			// An attempt under way is finished and recorded even as the loop stops.
			err := s.Deliver(context.WithoutCancel(ctx), id)
			if _, retry := Retryable(err); err != nil {
				level := slog.LevelWarn
				if retry {
					level = slog.LevelInfo
				}
				log.Log(ctx, level, "webhook not delivered", slog.Int64("delivery_id", id), slog.String("error", err.Error()))
			}
		}()
	}
	wg.Wait()
}
