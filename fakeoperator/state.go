package fakeoperator

import (
	"cmp"
	"crypto/sha1"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// session is one mirrord session: the connections that share an x-session-id.
type session struct {
	ID          uint64
	Fingerprint string
	UserID      string
	User        string
	Namespace   string
	Target      string
	// Key is the session key of its connect (the key parameter), "" when it gave none.
	Key     string
	Started time.Time
	// Open counts the session's open WebSocket connections; Connections counts all.
	Open        int
	Connections int
	// conns are the open connections, closed when the session is deleted.
	conns []io.Closer
}

// copyTarget is a created CopyTarget object.
type copyTarget struct {
	Namespace      string
	Name           string
	Spec           map[string]any
	Created        time.Time
	CreatorSession uint64
	UserID         string
	// User and Target are the creator session's, as status.creator_session shows them.
	User, Target string
}

// state is the server's mutable operator state: sessions and copy targets.
type state struct {
	mu          sync.Mutex
	sessions    map[uint64]*session
	copyTargets map[string]*copyTarget
	// ended are the ids of sessions that were deleted: a connect to one cannot continue it.
	ended map[uint64]bool
}

func newState() *state {
	return &state{sessions: map[uint64]*session{}, copyTargets: map[string]*copyTarget{}, ended: map[uint64]bool{}}
}

// reset forgets every session, copy target and ended session.
func (st *state) reset() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.sessions, st.copyTargets, st.ended = map[uint64]*session{}, map[string]*copyTarget{}, map[uint64]bool{}
}

// hasEnded reports whether session id was deleted.
func (st *state) hasEnded(id uint64) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.ended[id]
}

// bindSession ties session id to the certificate fingerprint of its first connect. It
// returns the owner's fingerprint and false when id is already bound to another one.
func (st *state) bindSession(id uint64, fingerprint string) (string, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if s, ok := st.sessions[id]; ok {
		return s.Fingerprint, s.Fingerprint == fingerprint
	}
	st.sessions[id] = &session{ID: id, Fingerprint: fingerprint}
	return fingerprint, true
}

// openConn records an accepted connection of session id.
func (st *state) openConn(id uint64, conn io.Closer, fill func(*session)) {
	st.mu.Lock()
	defer st.mu.Unlock()
	s, ok := st.sessions[id]
	if !ok {
		s = &session{ID: id}
		st.sessions[id] = s
	}
	if s.Connections == 0 {
		fill(s)
	}
	s.Open++
	s.Connections++
	s.conns = append(s.conns, conn)
}

// abortConn takes back an openConn whose upgrade failed: the connection never was (the
// session's certificate binding stays, as after a refused connect).
func (st *state) abortConn(id uint64, conn io.Closer) {
	st.mu.Lock()
	defer st.mu.Unlock()
	s, ok := st.sessions[id]
	if !ok {
		return
	}
	if i := slices.Index(s.conns, conn); i >= 0 {
		s.conns = slices.Delete(s.conns, i, i+1)
		s.Open--
		s.Connections--
	}
}

// closeConn records the end of a connection of session id.
func (st *state) closeConn(id uint64, conn io.Closer) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if s, ok := st.sessions[id]; ok {
		if i := slices.Index(s.conns, conn); i >= 0 {
			s.conns = slices.Delete(s.conns, i, i+1)
			s.Open--
		}
	}
}

// listSessions returns the sessions that had a connection, in namespace ("" for all),
// ordered by id.
func (st *state) listSessions(namespace string) []session {
	st.mu.Lock()
	defer st.mu.Unlock()
	var out []session
	for _, s := range st.sessions {
		if s.Connections > 0 && (namespace == "" || s.Namespace == namespace) {
			out = append(out, *s)
		}
	}
	slices.SortFunc(out, func(a, b session) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// deleteSessions removes the sessions match selects, in namespace ("" for all), closes
// their connections, and returns how many it removed.
func (st *state) deleteSessions(namespace string, match func(*session) bool) int {
	st.mu.Lock()
	var closing []io.Closer
	n := 0
	for id, s := range st.sessions {
		if s.Connections > 0 && (namespace == "" || s.Namespace == namespace) && match(s) {
			delete(st.sessions, id)
			st.ended[id] = true
			closing = append(closing, s.conns...)
			n++
		}
	}
	st.mu.Unlock()
	for _, c := range closing {
		_ = c.Close()
	}
	return n
}

func (st *state) addCopyTarget(ct *copyTarget) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	key := ct.Namespace + "/" + ct.Name
	if _, ok := st.copyTargets[key]; ok {
		return false
	}
	st.copyTargets[key] = ct
	return true
}

func (st *state) copyTarget(namespace, name string) (copyTarget, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	ct, ok := st.copyTargets[namespace+"/"+name]
	if !ok {
		return copyTarget{}, false
	}
	return *ct, true
}

func (st *state) listCopyTargets(namespace string) []copyTarget {
	st.mu.Lock()
	defer st.mu.Unlock()
	var out []copyTarget
	for _, ct := range st.copyTargets {
		if ct.Namespace == namespace {
			out = append(out, *ct)
		}
	}
	slices.SortFunc(out, func(a, b copyTarget) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// uid derives a stable object UID from a kind and a name.
func uid(kind, name string) types.UID {
	sum := sha1.Sum([]byte(kind + "/" + name))
	return types.UID(fmt.Sprintf("%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16]))
}
