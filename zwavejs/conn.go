package zwavejs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/latchkey/latchkey"
)

// session is one WebSocket connection to the server, initialised and listening. It ends
// when the connection drops; the driver then dials a new one.
type session struct {
	ws      *websocket.Conn
	schema  int
	version versionMsg
	done    chan struct{} // closed when the connection has ended

	mu      sync.Mutex
	pending map[string]chan *resultMsg
	nextID  uint64
	err     error // why it ended
}

func newSession(ws *websocket.Conn) *session {
	return &session{ws: ws, done: make(chan struct{}), pending: map[string]chan *resultMsg{}}
}

// end closes the session for the reason given; commands waiting on it fail.
func (s *session) end(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.done:
		return
	default:
	}
	s.err = err
	close(s.done)
	_ = s.ws.Close(websocket.StatusGoingAway, "")
}

// call sends a command and waits for its answer, the connection's end, or ctx.
func (s *session) call(ctx context.Context, command string, params map[string]any) (json.RawMessage, error) {
	s.mu.Lock()
	select {
	case <-s.done:
		s.mu.Unlock()
		return nil, errDropped
	default:
	}
	s.nextID++
	id := fmt.Sprintf("lk-%d", s.nextID)
	ch := make(chan *resultMsg, 1)
	s.pending[id] = ch
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.pending, id)
		s.mu.Unlock()
	}()

	msg := map[string]any{}
	for k, v := range params {
		msg[k] = v
	}
	msg["messageId"], msg["command"] = id, command
	b, err := json.Marshal(msg)
	if err != nil {
		return nil, err
	}
	// coder/websocket closes the connection when a write's context ends mid-frame: the
	// write gets a deadline of its own, and the caller stops waiting at its deadline.
	wrote := make(chan error, 1)
	go func() {
		wctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
		defer cancel()
		wrote <- s.ws.Write(wctx, websocket.MessageText, b)
	}()
	select {
	case err := <-wrote:
		if err != nil {
			s.end(err)
			return nil, errDropped
		}
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case r := <-ch:
		if !r.Success {
			return nil, resultError(command, r)
		}
		return r.Result, nil
	case <-s.done:
		return nil, errDropped
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// deliver hands an answer to the command waiting for it. An answer nobody waits for (a
// duplicate, or one for a command given up on) is dropped.
func (s *session) deliver(r *resultMsg) {
	s.mu.Lock()
	ch, ok := s.pending[r.MessageID]
	delete(s.pending, r.MessageID)
	s.mu.Unlock()
	if ok {
		ch <- r
	}
}

// errDropped is a command whose connection ended before it was answered: it may or may
// not have reached the lock.
var errDropped = errors.New("connection dropped")

// serverError is a command the server answered with a failure.
type serverError struct {
	command     string
	code        string // the server's errorCode
	zwaveCode   int    // zwave-js's error code, for zwave_error
	zwaveReason string
}

func (e *serverError) Error() string {
	if e.code == "zwave_error" {
		return fmt.Sprintf("%s: zwave-js error ZW%04d: %s", e.command, e.zwaveCode, e.zwaveReason)
	}
	return fmt.Sprintf("%s: %s", e.command, e.code)
}

func resultError(command string, r *resultMsg) error {
	reason := r.ZWaveErrorMessage
	if reason == "" {
		reason = r.Message
	}
	return &serverError{command: command, code: truncate(r.ErrorCode, 60), zwaveCode: r.ZWaveErrorCode, zwaveReason: truncate(reason, 200)}
}

// dial connects, reads the greeting, negotiates the schema and starts listening.
func (d *Driver) dial(ctx context.Context) (*session, *listenState, error) {
	ctx, cancel := context.WithTimeout(ctx, d.dialTimeout())
	defer cancel()
	ws, _, err := websocket.Dial(ctx, d.URL, nil)
	if err != nil {
		return nil, nil, err
	}
	ws.SetReadLimit(maxMessage)
	s := newSession(ws)
	// The greeting comes first, before anything is asked.
	_, b, err := ws.Read(ctx)
	if err != nil {
		_ = ws.CloseNow()
		return nil, nil, fmt.Errorf("reading the server's greeting: %w", err)
	}
	m, err := parseMessage(b)
	if err != nil || m.version == nil {
		_ = ws.CloseNow()
		if err == nil {
			err = errors.New("the first message was not the version greeting")
		}
		return nil, nil, fmt.Errorf("not a zwave-js-server: %w", err)
	}
	s.version = *m.version
	schema, err := negotiate(*m.version)
	if err != nil {
		_ = ws.CloseNow()
		return nil, nil, err
	}
	s.schema = schema
	go d.read(s)
	if _, err := s.call(ctx, "initialize", map[string]any{"schemaVersion": schema,
		"additionalUserAgentComponents": map[string]string{"latchkey": "1"}}); err != nil {
		s.end(err)
		return nil, nil, fmt.Errorf("initialize: %w", err)
	}
	raw, err := s.call(ctx, "start_listening", nil)
	if err != nil {
		s.end(err)
		return nil, nil, fmt.Errorf("start_listening: %w", err)
	}
	st, err := parseListenState(raw)
	if err != nil {
		s.end(err)
		return nil, nil, err
	}
	return s, st, nil
}

// negotiate picks the highest schema both ends speak, or refuses a server too old (or
// too new) for this driver.
func negotiate(v versionMsg) (int, error) {
	schema := min(v.MaxSchema, maxSchema)
	if schema < minSchema || schema < v.MinSchema {
		return 0, latchkey.Errorf(latchkey.EUNAVAILABLE,
			"The Z-Wave JS server (zwave-js-server %s) speaks API schemas %d to %d; Latchkey needs one from %d to %d: update Z-Wave JS (zwave-js-ui or the Home Assistant add-on) to a release from 2023 or later.",
			truncate(v.ServerVersion, 20), v.MinSchema, v.MaxSchema, minSchema, maxSchema)
	}
	return schema, nil
}

// read takes messages off the connection until it ends: answers go to their commands,
// events to the driver.
func (d *Driver) read(s *session) {
	unreadable := 0
	for {
		_, b, err := s.ws.Read(context.Background())
		if err != nil {
			s.end(err)
			return
		}
		m, err := parseMessage(b)
		if err != nil {
			// Said once, then every hundredth time: a server sending garbage does not flood the log.
			if unreadable++; unreadable%100 == 1 {
				d.logger().Warn("zwave-js-server sent a message Latchkey cannot read; skipped", slog.String("error", err.Error()), slog.Int("count", unreadable))
			}
			continue
		}
		switch {
		case m.result != nil:
			s.deliver(m.result)
		case m.event != nil:
			d.handleEvent(s, m.event, b)
		}
	}
}

// run keeps a session up until the driver closes: dial, serve, and when the connection
// drops dial again, backing off from 100 ms doubling to 10 s while the server is away.
func (d *Driver) run(ctx context.Context) {
	defer d.wg.Done()
	wait := firstRetry
	failures := 0
	for ctx.Err() == nil {
		s, st, err := d.dial(ctx)
		if err != nil {
			failures++
			if latchkey.ErrorCode(err) == latchkey.EUNAVAILABLE && errors.As(err, new(*latchkey.Error)) {
				d.setRefusal(err) // a server this driver cannot speak to: say so on every call
			}
			if failures == 1 || failures%30 == 0 {
				d.logger().Warn("cannot reach zwave-js-server; retrying", slog.String("url", d.safeURL()), slog.Int("tries", failures), slog.String("error", err.Error()))
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			wait = min(wait*2, maxRetry)
			continue
		}
		failures, wait = 0, firstRetry
		d.setRefusal(nil)
		d.connected(s, st)
		select {
		case <-ctx.Done():
			s.end(ctx.Err())
		case <-s.done:
			d.logger().Warn("connection to zwave-js-server dropped; reconnecting", slog.String("url", d.safeURL()), slog.String("error", fmt.Sprint(s.err)))
		}
		d.disconnected(s)
	}
}

// writeTimeout bounds one message's write: a server that takes none for this long is
// gone, and its connection is closed.
const writeTimeout = 10 * time.Second

// Reconnection backoff.
const (
	firstRetry = 100 * time.Millisecond
	maxRetry   = 10 * time.Second
)
