package tier

import (
	"fmt"
	"net"
	"sync"
	"time"
)

// handoff keeps one listening socket for a sequence of servers: each cell's operator gets
// a sub-listener that receives the connections accepted while it is current. The address
// the aggregator dials never stops listening between cells.
type handoff struct {
	l    net.Listener
	mu   sync.Mutex
	cur  *subListener
	wake chan struct{}
	// wait bounds how long a connection waits for the next cell's operator.
	wait time.Duration
}

// newHandoff listens on addr; a connection waits at most wait for a current server.
func newHandoff(addr string, wait time.Duration) (*handoff, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", addr, err)
	}
	h := &handoff{l: l, wake: make(chan struct{}, 1), wait: wait}
	go h.loop()
	return h, nil
}

func (h *handoff) loop() {
	for {
		c, err := h.l.Accept()
		if err != nil {
			return
		}
		if !h.deliver(c) {
			_ = c.Close()
		}
	}
}

// deliver hands c to the current sub-listener, waiting (bounded) for one to exist.
func (h *handoff) deliver(c net.Conn) bool {
	deadline := time.After(h.wait)
	for {
		h.mu.Lock()
		cur := h.cur
		h.mu.Unlock()
		if cur != nil && cur.offer(c) {
			return true
		}
		select {
		case <-h.wake:
		case <-deadline:
			return false
		}
	}
}

// next returns a fresh sub-listener and makes it current.
func (h *handoff) next() net.Listener {
	s := &subListener{h: h, conns: make(chan net.Conn, 16), done: make(chan struct{})}
	h.mu.Lock()
	h.cur = s
	h.mu.Unlock()
	select {
	case h.wake <- struct{}{}:
	default:
	}
	return s
}

// Close stops listening.
func (h *handoff) Close() error { return h.l.Close() }

// subListener is one server's view of the handoff.
type subListener struct {
	h     *handoff
	conns chan net.Conn
	once  sync.Once
	done  chan struct{}
}

func (s *subListener) offer(c net.Conn) bool {
	select {
	case <-s.done:
		return false
	case s.conns <- c:
		return true
	}
}

func (s *subListener) Accept() (net.Conn, error) {
	select {
	case c := <-s.conns:
		return c, nil
	case <-s.done:
		return nil, net.ErrClosed
	}
}

// Close detaches the sub-listener; the socket keeps listening for the next one.
func (s *subListener) Close() error {
	s.once.Do(func() {
		close(s.done)
		s.h.mu.Lock()
		if s.h.cur == s {
			s.h.cur = nil
		}
		s.h.mu.Unlock()
		for {
			select {
			case c := <-s.conns: // accepted for this server, never served
				_ = c.Close()
			default:
				return
			}
		}
	})
	return nil
}

func (s *subListener) Addr() net.Addr { return s.h.l.Addr() }
