package http_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	lkhttp "github.com/latchkey/latchkey/http"
)

// SPEC §7: the HTTP API on 2 cores serves at least 10,000 reads/s and 3,000 durable
// writes/s, with p99 at most 20 ms. Each benchmark drives a real server on port 0 with
// 32 keep-alive clients (the load generator shares the machine's cores, so the numbers
// are conservative) and reports requests/s, p99 and the ratio to the bound.
const (
	readBound  = 10000.0
	writeBound = 3000.0
	p99Bound   = 20 * time.Millisecond
	clients    = 32
)

func BenchmarkAPI(b *testing.B) {
	for _, kind := range []string{"sqlite", "postgres"} {
		for _, op := range []string{"read", "write"} {
			b.Run(kind+"/"+op, func(b *testing.B) { benchAPI(b, kind, op) })
		}
	}
}

func benchAPI(b *testing.B, kind, op string) {
	srv, svc := openBenchServer(b, kind)
	hash, _ := lkhttp.HashPassword("a long enough password")
	ctx := latchkey.NewContextWithActor(context.Background(), "bench")
	owner := &latchkey.User{Name: "bench", Role: latchkey.UserOwner, PasswordHash: hash}
	if err := svc.CreateUser(ctx, owner); err != nil {
		b.Fatal(err)
	}
	plain, tokHash := lkhttp.NewTokenSecret()
	if _, err := svc.CreateToken(latchkey.NewContextWithPrincipal(ctx, latchkey.Principal{UserID: owner.ID, Name: "bench", Role: latchkey.UserOwner}),
		latchkey.NewToken{UserID: owner.ID, Name: "bench", Hash: tokHash}); err != nil {
		b.Fatal(err)
	}
	site := &latchkey.Site{Name: "Bench", TimeZone: "UTC"}
	must(b, svc.CreateSite(ctx, site))
	door := &latchkey.Door{SiteID: site.ID, Name: "Front"}
	must(b, svc.CreateDoor(ctx, door))
	lock := &latchkey.Lock{DoorID: door.ID, Name: "Deadbolt", ModelID: "916"}
	must(b, svc.CreateLock(ctx, lock))

	transport := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
	hc := &http.Client{Transport: transport}
	request := func(i int) (*http.Request, error) {
		if op == "read" {
			req, err := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/locks/%d", srv.URL(), lock.ID), nil)
			if req != nil {
				req.Header.Set("Authorization", "Bearer "+plain)
			}
			return req, err
		}
		body := fmt.Sprintf(`{"name":"Person %d","role":"guest"}`, i)
		req, err := http.NewRequest("POST", srv.URL()+"/api/v1/people", bytes.NewBufferString(body))
		if req != nil {
			req.Header.Set("Authorization", "Bearer "+plain)
			req.Header.Set("Content-Type", "application/json")
		}
		return req, err
	}
	var mu sync.Mutex
	var latencies []time.Duration
	var failures int
	b.SetParallelism((clients + 1) / 2) // GOMAXPROCS is 2 on CI: 16×2 = 32 clients
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		i := 0
		for pb.Next() {
			i++
			req, err := request(i)
			if err != nil {
				panic(err)
			}
			t0 := time.Now()
			resp, err := hc.Do(req)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			mine = append(mine, time.Since(t0))
			if err != nil || resp.StatusCode >= 300 {
				mu.Lock()
				failures++
				mu.Unlock()
			}
		}
		mu.Lock()
		latencies = append(latencies, mine...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if failures > 0 {
		b.Fatalf("%d of %d requests failed", failures, len(latencies))
	}
	slices.Sort(latencies)
	p99 := latencies[len(latencies)*99/100]
	rate := float64(len(latencies)) / elapsed.Seconds()
	bound := readBound
	if op == "write" {
		bound = writeBound
	}
	b.ReportMetric(rate, "req/s")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99_ms")
	b.ReportMetric(rate/bound, "rate/bound")
	b.ReportMetric(float64(p99)/float64(p99Bound), "p99/bound")
}

func openBenchServer(b *testing.B, kind string) (*lkhttp.Server, *latchkey.Service) {
	store := openStoreTB(b, kind)
	svc := newBenchService(b, store)
	s := &lkhttp.Server{Service: svc, Addr: "127.0.0.1:0"}
	if err := s.Open(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close(context.Background()) })
	return s, svc
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}
