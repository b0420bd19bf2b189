package zwavejs_test

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// proxy sits between the driver and zwave-js-server and misbehaves as a network might:
// it drops every connection, repeats frames, or delivers them out of order.
type proxy struct {
	upstream string
	URL      string

	mu        sync.Mutex
	conns     []*websocket.Conn
	accepted  int           // connections the driver made
	duplicate bool          // every frame from the server twice
	reorder   bool          // each frame from the server held until the next one passes it
	dropOn    string        // drop every connection when the client sends a frame containing this
	dropped   chan struct{} // signalled when dropOn fired
}

func newProxy(t *testing.T, upstream string) *proxy {
	p := &proxy{upstream: upstream, dropped: make(chan struct{}, 16)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(p.serve), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close(); p.dropAll() })
	p.URL = "ws://" + ln.Addr().String()
	return p
}

func (p *proxy) set(f func(p *proxy)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(p)
}

// dropAll closes every connection through the proxy, as a network failure would.
func (p *proxy) dropAll() {
	p.mu.Lock()
	conns := p.conns
	p.conns = nil
	p.mu.Unlock()
	for _, c := range conns {
		_ = c.CloseNow()
	}
}

func (p *proxy) serve(w http.ResponseWriter, r *http.Request) {
	down, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	down.SetReadLimit(64 << 20)
	ctx := context.Background()
	up, _, err := websocket.Dial(ctx, p.upstream, nil)
	if err != nil {
		_ = down.CloseNow()
		return
	}
	up.SetReadLimit(64 << 20)
	p.mu.Lock()
	p.conns = append(p.conns, down, up)
	p.accepted++
	p.mu.Unlock()
	defer func() { _ = down.CloseNow(); _ = up.CloseNow() }()

	go func() { // client to server
		defer func() { _ = up.CloseNow() }()
		for {
			typ, b, err := down.Read(ctx)
			if err != nil {
				return
			}
			p.mu.Lock()
			drop := p.dropOn != "" && strings.Contains(string(b), p.dropOn)
			p.mu.Unlock()
			if err := up.Write(ctx, typ, b); err != nil {
				return
			}
			if drop {
				// The command has left for the server; its answer never comes back.
				p.dropAll()
				p.dropped <- struct{}{}
				return
			}
		}
	}()
	// Server to client. (A read with a deadline would close the connection: frames come
	// through a channel, so that a held frame can go on late when no other follows.)
	frames := make(chan []byte, 64)
	go func() {
		defer close(frames)
		for {
			_, b, err := up.Read(ctx)
			if err != nil {
				return
			}
			frames <- b
		}
	}()
	var held []byte
	send := func(m []byte) bool {
		p.mu.Lock()
		dup := p.duplicate
		p.mu.Unlock()
		n := 1
		if dup {
			n = 2
		}
		for range n {
			if down.Write(ctx, websocket.MessageText, m) != nil {
				return false
			}
		}
		return true
	}
	for {
		select {
		case b, ok := <-frames:
			if !ok {
				return
			}
			p.mu.Lock()
			reorder := p.reorder
			p.mu.Unlock()
			switch {
			case reorder && held == nil:
				held = b
			case held != nil:
				if !send(b) || !send(held) {
					return
				}
				held = nil
			default:
				if !send(b) {
					return
				}
			}
		case <-time.After(50 * time.Millisecond):
			if held != nil {
				if !send(held) {
					return
				}
				held = nil
			}
		}
	}
}

// connections returns how many connections the driver has made through the proxy.
func (p *proxy) connections() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepted
}
