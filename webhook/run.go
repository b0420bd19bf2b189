package webhook

import (
	"context"
	"log/slog"
	"time"
)

// DefaultInterval is how often Plan looks for due deliveries when nothing wakes it.
const DefaultInterval = 5 * time.Second

// Scheduler is the durable job queue (package jobs, on River) that makes the attempts:
// one job per delivery, which calls Attempt and sleeps until the next attempt is due.
type Scheduler interface {
	// ScheduleDeliveries queues each delivery once; one already queued is not queued
	// twice.
	ScheduleDeliveries(ctx context.Context, deliveryIDs []int64) error
}

// Plan hands the due deliveries to q until ctx ends: whenever the domain says
// deliveries were written (Service.WebhooksDue), and at least every Interval, for those
// whose job was lost (a queue file removed, a power cut on the embedded store).
func (s *Sender) Plan(ctx context.Context, q Scheduler) {
	interval := s.Interval
	if interval <= 0 {
		interval = DefaultInterval
	}
	for {
		ids, err := s.Due(ctx, s.Service.Clock.Now())
		if err == nil && len(ids) > 0 {
			err = q.ScheduleDeliveries(ctx, ids)
		}
		if err != nil && ctx.Err() == nil {
			s.log().Error("webhook deliveries not queued", slog.String("error", err.Error()))
		}
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

// Attempt is Deliver for the job queue: nil when delivered; otherwise the error, and
// when the next attempt is due (zero when there is none: failed for good, or nothing
// left to send).
func (s *Sender) Attempt(ctx context.Context, deliveryID int64) (retryAt time.Time, err error) {
	err = s.Deliver(ctx, deliveryID)
	if err == nil {
		return time.Time{}, nil
	}
	at, retry := Retryable(err)
	switch {
	case !retry:
		return time.Time{}, err
	case at.IsZero():
		at = s.Service.Clock.Now().Add(DefaultInterval) // not recorded (the store did not answer): soon
	}
	return at, err
}

func (s *Sender) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}
