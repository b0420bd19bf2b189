// Package http serves Latchkey's JSON API (and, later, its web UI) over net/http, and
// holds the client the command line uses to work against a server.
package http

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/latchkey/latchkey"
)

// Server is Latchkey's HTTP server.
type Server struct {
	Service *latchkey.Service
	// Procedures starts and drives procedure runs (the procedure engine); without it the
	// procedure routes answer that no engine runs on this server.
	Procedures latchkey.ProcedureService
	Logger     *slog.Logger
	Addr       string // "127.0.0.1:8080"; ":0" picks a free port
	// Ready reports whether the server's dependencies answer (for /readyz).
	Ready func(ctx context.Context) error
	// SecureCookies marks cookies Secure (set when serving TLS or behind a TLS proxy).
	SecureCookies bool
	// Catalog gives the web UI model names, key drawings, warranty and record sheets.
	Catalog Catalog
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names the client, for
	// sign-in throttling; without them the header is ignored.
	TrustedProxies []netip.Prefix
	// PasswordChecks bounds the password hashes run at once (DefaultPasswordChecks when 0).
	PasswordChecks int
	// Hubs reports how the hub drivers this server runs are doing, for the dashboard,
	// the settings page, /api/v1/hubs/status and /metrics; nil when it runs none.
	Hubs latchkey.HubHealth

	ln         net.Listener
	srv        *http.Server
	routes     []route
	throttle   *throttle
	hashes     *hashGate
	metrics    *metrics
	principals principalCache
	assets     map[string]asset
	pages      map[string]*template.Template
	oneTime    oneTime
	stopping   chan struct{} // closed when shutdown begins: live streams end then
}

// route is one API operation: what the OpenAPI document says and what the router serves.
type route struct {
	Method, Pattern, Summary string
	Perm                     latchkey.Permission // "" for routes open to anyone
	Request, Response        any                 // example values for the document's schemas
	handler                  http.HandlerFunc
}

// Open starts listening and serving; Close stops.
func (s *Server) Open() error {
	if s.Logger == nil {
		s.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s.throttle = newThrottle()
	s.hashes = newHashGate(s.PasswordChecks)
	s.metrics = newMetrics(s.Hubs)
	s.stopping = make(chan struct{})
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return latchkey.Errorf(latchkey.EUNAVAILABLE, "Cannot listen on %s: %v. Choose another address with --addr.", s.Addr, err)
	}
	s.ln = ln
	s.srv = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second, // receipts of up to 10 MiB on a slow phone connection
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.Logger.Handler(), slog.LevelWarn),
	}
	// Shutdown waits for handlers to return, and a live stream only returns when told.
	s.srv.RegisterOnShutdown(sync.OnceFunc(func() { close(s.stopping) }))
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.Logger.Error("server stopped", slog.String("error", err.Error()))
		}
	}()
	return nil
}

// URL returns the server's base URL.
func (s *Server) URL() string {
	return "http://" + s.ln.Addr().String()
}

// Close stops accepting requests and waits for those in flight, up to ctx's deadline.
func (s *Server) Close(ctx context.Context) error {
	if s.srv == nil {
		return nil
	}
	return s.srv.Shutdown(ctx)
}

// Handler returns the whole HTTP handler: health, readiness and metrics outside
// authentication, the API inside it, and cross-site protection on every request that
// changes state.
func (s *Server) Handler() http.Handler {
	if s.throttle == nil {
		s.throttle = newThrottle()
	}
	if s.hashes == nil {
		s.hashes = newHashGate(s.PasswordChecks)
	}
	if s.metrics == nil {
		s.metrics = newMetrics(s.Hubs)
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, map[string]string{"status": "ok"}) })
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{}))
	s.routes = s.allRoutes()
	for _, rt := range s.routes {
		mux.Handle(rt.Method+" "+rt.Pattern, s.instrument(rt, s.authorize(rt, rt.handler)))
	}
	s.assets, s.pages = loadAssets(), parsePages()
	for _, a := range s.assets {
		mux.HandleFunc("GET "+a.path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", a.contentType)
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
			w.Write(a.data)
		})
	}
	if s.Catalog != nil {
		for _, rt := range s.uiRoutes() {
			mux.Handle(rt.Method+" "+rt.Pattern, s.uiAuthorize(rt, rt.handler))
		}
	}
	if s.Catalog != nil {
		// Any other page: the icon browsers ask for, and a page that says what is missing.
		mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, s.assets["icon.svg"].path, http.StatusMovedPermanently)
		})
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			if p, err := s.principal(r); err == nil {
				r = r.WithContext(latchkey.NewContextWithPrincipal(r.Context(), p))
			}
			s.renderError(w, r, latchkey.Errorf(latchkey.ENOTFOUND, "There is no such page here. The dashboard lists every lock."))
		})
	}
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, latchkey.Errorf(latchkey.ENOTFOUND, "No such API route: %s %s. The routes are listed at /api/v1/openapi.json.", r.Method, r.URL.Path))
	})
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.Catalog != nil && !strings.HasPrefix(r.URL.Path, "/api/") {
			// A page's form answers as the other pages' errors do, as a page.
			s.renderError(w, r, latchkey.Errorf(latchkey.EFORBIDDEN, "Cross-site request refused: a page of another site tried to send this form. Open Latchkey's own page and submit it there."))
			return
		}
		writeError(w, r, latchkey.Errorf(latchkey.EFORBIDDEN, "Cross-site request refused; use Latchkey from its own pages or with an API token."))
	}))
	return s.requestID(s.securityHeaders(csrf.Handler(mux)))
}

// allRoutes is every API route, in the order the document lists them.
func (s *Server) allRoutes() []route {
	return slices.Concat(s.apiRoutes(), s.accountRoutes(), s.webhookRoutes(), s.procedureRoutes(), s.hubRoutes())
}

// pageCSP is the content security policy of every response unless a handler narrows it:
// Latchkey's own scripts and styles only, no framing, forms that post only to Latchkey.
const pageCSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; " +
	"object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"

// securityHeaders sets, on every response, the headers that keep a browser from
// sniffing types, framing pages, leaking a one-time link through the Referer, or caching
// records; a handler may replace them (assets are cached for good, the record sheet has
// a policy of its own).
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", pageCSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
		h.Set("Cache-Control", "no-store")
		if s.SecureCookies || r.TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.Ready != nil {
		if err := s.Ready(r.Context()); err != nil {
			writeError(w, r, latchkey.Errorf(latchkey.EUNAVAILABLE, "Not ready: %s", latchkey.ErrorMessage(err)))
			return
		}
	}
	writeJSON(w, 200, map[string]string{"status": "ready"})
}

type ctxKey int

const (
	loggerKey ctxKey = iota
)

// logger returns the request's logger, which carries its request id.
func logger(r *http.Request) *slog.Logger {
	if l, ok := r.Context().Value(loggerKey).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

// requestID gives every request an id (or keeps a sane one the caller sent), returns it
// in X-Request-Id, logs the request once it is done, and puts a logger carrying the id
// in the request's context.
func (s *Server) requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if len(id) == 0 || len(id) > 64 {
			b := make([]byte, 8)
			rand.Read(b)
			id = hex.EncodeToString(b)
		}
		w.Header().Set("X-Request-Id", id)
		l := s.Logger.With(slog.String("request_id", id))
		rec := &statusRecorder{ResponseWriter: w, status: 200}
		start := time.Now()
		r = r.WithContext(context.WithValue(r.Context(), loggerKey, l))
		defer func() {
			if p := recover(); p != nil {
				l.Error("handler panicked", slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
				writeError(rec, r, fmt.Errorf("panic: %v", p))
			}
		}()
		next.ServeHTTP(rec, r)
		l.Info("request", slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", rec.status), slog.Duration("duration", time.Since(start)))
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

// Flush lets streaming responses through the recorder.
func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// metrics are the server's Prometheus metrics, on a registry of its own.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// newMetrics makes the registry, with the hubs' health when the server runs hub drivers.
func newMetrics(hubs latchkey.HubHealth) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "latchkey_http_requests_total", Help: "HTTP API requests by route and status."}, []string{"route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "latchkey_http_request_duration_seconds", Help: "HTTP API request latency by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .02, .05, .1, .25, 1}}, []string{"route"}),
	}
	m.registry.MustRegister(m.requests, m.duration, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if hubs != nil {
		m.registry.MustRegister(hubCollector{hubs})
	}
	return m
}

func (s *Server) instrument(rt route, next http.Handler) http.Handler {
	name := rt.Method + " " + rt.Pattern
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec, ok := w.(*statusRecorder)
		if !ok {
			rec = &statusRecorder{ResponseWriter: w, status: 200}
		}
		start := time.Now()
		next.ServeHTTP(rec, r)
		s.metrics.requests.WithLabelValues(name, strconv.Itoa(rec.status)).Inc()
		s.metrics.duration.WithLabelValues(name).Observe(time.Since(start).Seconds())
	})
}
