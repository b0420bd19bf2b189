// Package sim holds Latchkey's digital twins of Kwikset locks: SmartKey cylinders and
// electronic locks that behave as docs/kwikset-facts.md describes, on a virtual clock,
// with seeded randomness and faults to inject, so that procedures, the sync engine, the
// demo and the tests run with no hardware. The same seed and inputs always give the same
// trace. A World is not safe for concurrent use; callers serialise access to it.
package sim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/catalog"
)

// Config sets up a World.
type Config struct {
	Seed    uint64
	Start   time.Time        // virtual time at the start; zero means 2026-01-01 09:00 UTC
	Radio   RadioConfig      // the latency and loss model
	Catalog *catalog.Catalog // nil means catalog.Default()
	NoTrace bool             // drop the trace (benchmarks of many twins)
}

// DefaultStart is the virtual time a World starts at unless told otherwise.
var DefaultStart = time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)

// World holds twins, the hubs they pair with, a virtual clock and a seeded source of
// randomness.
type World struct {
	Clock   *Clock
	Catalog *catalog.Catalog
	Radio   RadioConfig

	rand  *rand.Rand
	start time.Time
	trace *Trace
	twins map[string]Twin
	names []string
	hubs  map[string]*Hub // by name
	// hubOrder is the hubs' names in the order they were made; hubListeners hear them all.
	hubOrder     []string
	hubListeners []func(h *Hub, addr string, r Report)
}

// Twin is a simulated lock or cylinder.
type Twin interface {
	// Name is the twin's name in its world.
	Name() string
	// Field reads one piece of the twin's observable state by name, for scenario
	// assertions and the console ("bolt", "state", "codes", ...).
	Field(name string) (string, bool)
	// Fields lists the names Field answers to.
	Fields() []string
}

// NewWorld returns an empty world.
func NewWorld(cfg Config) *World {
	if cfg.Start.IsZero() {
		cfg.Start = DefaultStart
	}
	if cfg.Catalog == nil {
		cfg.Catalog = catalog.Default()
	}
	w := &World{
		Clock:   NewClock(cfg.Start),
		Catalog: cfg.Catalog,
		Radio:   cfg.Radio.withDefaults(),
		rand:    rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		start:   cfg.Start,
		twins:   map[string]Twin{},
		hubs:    map[string]*Hub{},
	}
	if !cfg.NoTrace {
		w.trace = &Trace{}
	}
	return w
}

// Now returns the virtual time.
func (w *World) Now() time.Time { return w.Clock.Now() }

// Elapsed returns the virtual time since the world started.
func (w *World) Elapsed() time.Duration { return w.Clock.Now().Sub(w.start) }

// Advance moves virtual time forward, running everything that falls due.
func (w *World) Advance(d time.Duration) { w.Clock.Advance(d) }

// Trace returns the entries recorded so far.
func (w *World) Trace() []Entry {
	if w.trace == nil {
		return nil
	}
	return w.trace.Entries()
}

// OnEntry calls f with every entry as it is recorded (the console prints them live).
func (w *World) OnEntry(f func(Entry)) {
	if w.trace != nil {
		w.trace.sink = f
	}
}

// Twin returns the twin with the given name.
func (w *World) Twin(name string) (Twin, error) {
	t, ok := w.twins[name]
	if !ok {
		return nil, latchkey.Errorf(latchkey.ENOTFOUND, "No twin named %q; the twins are: %v.", name, w.names)
	}
	return t, nil
}

// Names returns the twins' names in the order they were added.
func (w *World) Names() []string { return slices.Clone(w.names) }

func (w *World) add(name string, t Twin) error {
	if name == "" {
		return latchkey.Errorf(latchkey.EINVALID, "A twin needs a name.")
	}
	if _, dup := w.twins[name]; dup {
		return latchkey.Errorf(latchkey.ECONFLICT, "A twin named %q already exists.", name)
	}
	switch {
	case name == "hub" || strings.HasSuffix(name, "-hub"):
		return latchkey.Errorf(latchkey.EINVALID, "The name %s is reserved for the hubs.", name)
	case name == "seen" || name == "unseen" || name == "order" || name == "*":
		return latchkey.Errorf(latchkey.EINVALID, "The name %s is reserved for trace assertions (expect %s ...).", name, name)
	}
	w.twins[name] = t
	w.names = append(w.names, name)
	return nil
}

// log records an entry.
func (w *World) log(twin, kind, format string, args ...any) {
	if w.trace == nil {
		return
	}
	w.trace.add(Entry{At: w.Elapsed(), Twin: twin, Kind: kind, Detail: fmt.Sprintf(format, args...)})
}

// between draws a duration uniformly from [lo, hi].
func (w *World) between(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(w.rand.Int64N(int64(hi-lo)+1))
}

// chance reports true with probability p.
func (w *World) chance(p float64) bool { return p > 0 && w.rand.Float64() < p }
