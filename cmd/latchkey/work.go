package main

import (
	"context"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/codesync"
	"github.com/latchkey/latchkey/jobs"
	"github.com/latchkey/latchkey/procedure"
	"github.com/latchkey/latchkey/webhook"
)

// startWork starts the background work: the sync engine over the drivers this process
// runs, the webhook sender, and the procedure engine with the virtual hands given (the
// demo's), their work queued as durable jobs beside the records (in PostgreSQL with
// --db, else in jobs.db in the data directory). stop ends them, waiting for the changes and
// attempts in flight: call it before the store closes.
func (m *Main) startWork(ctx context.Context, svc *latchkey.Service, drivers map[latchkey.Driver]latchkey.DeviceDriver, hands map[string]procedure.Hands, log *slog.Logger) (procs *procedure.Engine, stop func(), err error) {
	engine := &codesync.Engine{Service: svc, Drivers: drivers, Logger: log.With(slog.String("component", "sync"))}
	sender := &webhook.Sender{Service: svc, Logger: log.With(slog.String("component", "webhooks"))}
	procs = procedure.New(svc, m.Catalog)
	procs.Drivers, procs.Logger = drivers, log.With(slog.String("component", "procedures"))
	for name, h := range hands {
		procs.Hands[name] = h
	}
	cfg := jobs.Config{Sync: engine, Deliver: sender, Procedures: procs, Logger: log}
	var q *jobs.Queue
	if m.dbURL != "" {
		q, err = jobs.OpenPostgres(ctx, m.dbURL, cfg)
	} else {
		q, err = jobs.OpenSQLite(ctx, filepath.Join(m.dataDir, "jobs.db"), cfg)
	}
	if err != nil {
		return nil, nil, err
	}
	planCtx, stopPlanning := context.WithCancel(context.WithoutCancel(ctx))
	planned := make(chan struct{}, 3)
	go func() { engine.Plan(planCtx, q); planned <- struct{}{} }()
	go func() { sender.Plan(planCtx, q); planned <- struct{}{} }()
	go func() { procs.Plan(planCtx, q); planned <- struct{}{} }()
	return procs, func() {
		stopPlanning()
		<-planned
		<-planned
		<-planned
		// Changes in flight get a moment to finish and be recorded; one cut short is
		// made again when the server next starts.
		wait, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := q.Close(wait); err != nil {
			log.Warn("stopping the job queue", slog.String("error", err.Error()))
		}
	}, nil
}
