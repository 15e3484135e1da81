package fakeoperator

import (
	"fmt"
	"net/url"
	"sync/atomic"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"k8s.io/utils/clock"
)

// harnessClock is the server's clock: the one its options gave, until a harness that keeps
// one operator for clients of different clocks sets another between them (SetClock, or
// POST /_opconform/reset?clock=…).
type harnessClock struct {
	current atomic.Pointer[clock.PassiveClock]
}

func newHarnessClock(c clock.PassiveClock) *harnessClock {
	h := &harnessClock{}
	h.set(c)
	return h
}

func (h *harnessClock) set(c clock.PassiveClock) { h.current.Store(&c) }

// Now is the current clock's now.
func (h *harnessClock) Now() time.Time { return (*h.current.Load()).Now() }

// Since is the time elapsed since t on the current clock.
func (h *harnessClock) Since(t time.Time) time.Duration { return h.Now().Sub(t) }

// SetClock makes the server issue and judge certificates, and date what it serves, on c from
// now on. The licence keeps the end date it started with.
func (s *Server) SetClock(c clock.PassiveClock) {
	if c == nil {
		c = clock.RealClock{}
	}
	s.clock.set(c)
}

// resetClock applies a reset's clock query parameter: an RFC 3339 instant (a clock that stays
// there), real (the machine's clock), or nothing (the clock stays as it is).
func (s *Server) resetClock(q url.Values) error {
	v := q.Get("clock")
	switch v {
	case "":
		return nil
	case "real":
		s.SetClock(clock.RealClock{})
		return nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return fmt.Errorf("query parameter clock %q: want an RFC 3339 instant or real", v)
	}
	s.SetClock(clocktesting.NewFakePassiveClock(t))
	return nil
}
