package fakeoperator

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/opconform/opconform/contract"
)

// faultSet holds the injected faults and how often each has fired.
type faultSet struct {
	mu     sync.Mutex
	faults []Fault
	fired  []int
}

func newFaultSet(faults []Fault) (*faultSet, error) {
	for i, f := range faults {
		if f.Class != "" && !slices.Contains(contract.Classes, f.Class) {
			return nil, fmt.Errorf("Faults[%d].Class: unknown request class %q", i, f.Class)
		}
		if f.Status != 0 && (f.Status < 100 || f.Status > 599) {
			return nil, fmt.Errorf("Faults[%d].Status: %d is not an HTTP status code", i, f.Status)
		}
		if f.Count < 0 || f.Latency < 0 {
			return nil, fmt.Errorf("Faults[%d]: Count and Latency must not be negative", i)
		}
	}
	return &faultSet{faults: faults, fired: make([]int, len(faults))}, nil
}

// match returns the first fault for class that has not used up its count.
func (fs *faultSet) match(class contract.Class, upgrade bool) (Fault, bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for i, f := range fs.faults {
		if !f.appliesTo(class, upgrade) || (f.Count > 0 && fs.fired[i] >= f.Count) {
			continue
		}
		fs.fired[i]++
		return f, true
	}
	return Fault{}, false
}

// appliesTo reports whether f is for requests of class; a fault that only refuses upgrades
// is for upgrade requests only.
func (f Fault) appliesTo(class contract.Class, upgrade bool) bool {
	if f.Class != "" && f.Class != class {
		return false
	}
	onlyRefusesUpgrades := f.RefuseUpgrade && f.Status == 0 && !f.Drop && f.Latency == 0
	return upgrade || !onlyRefusesUpgrades
}

// applyFault runs an injected fault; it returns true when the fault answered the request.
func (s *Server) applyFault(c *call) bool {
	f, ok := s.faults.match(c.route.Class, c.entry.Upgrade)
	if !ok {
		return false
	}
	if f.Latency > 0 {
		t := time.NewTimer(f.Latency)
		select {
		case <-t.C:
		case <-c.r.Context().Done():
			t.Stop()
		}
	}
	switch {
	case f.Drop:
		c.entry.Decision, c.entry.Reason = contract.DecisionFault, "ConnectionDropped"
		if conn, _, err := http.NewResponseController(c.w.ResponseWriter).Hijack(); err == nil {
			_ = conn.Close()
		}
		return true
	case f.Status != 0:
		c.entry.Decision, c.entry.Reason = contract.DecisionFault, string(ReasonInjectedFault)
		writeStatus(c.w, f.Status, ReasonInjectedFault, fmt.Sprintf("injected fault: status %d on %s requests", f.Status, c.route.Class))
		return true
	case f.RefuseUpgrade && websocket.IsWebSocketUpgrade(c.r):
		c.entry.Decision, c.entry.Reason = contract.DecisionFault, string(ReasonUpgradeRefused)
		writeStatus(c.w, http.StatusBadRequest, ReasonUpgradeRefused, "injected fault: upgrade refused")
		return true
	}
	return false
}
