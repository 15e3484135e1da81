package contract

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
)

// What a refusal is, how a client received it, and what counts as a client naming it: the
// rules STOP-AFTER-REFUSAL, EARLY-REFUSAL and MIN-VERSION-NAMED share, written down once.

// Answer is an error answer as the client received it, read on the client's side of the wire
// (the recording transport under the reference client, the recording proxy in front of an
// operator), never from the operator's account of what it sent.
type Answer struct {
	// ContentType is the answer's Content-Type; "" for a refused WebSocket upgrade, whose
	// head client-go reads itself.
	ContentType string `json:"contentType,omitempty"`
	// Status is the body decoded as a Kubernetes Status (kind Status); nil when it was none.
	Status *AnswerStatus `json:"status,omitempty"`
	// Body is the start of a body that was no Status, at most MaxAnswerBody bytes.
	Body string `json:"body,omitempty"`
}

// AnswerStatus is what a client read of a Kubernetes Status.
type AnswerStatus struct {
	Code    int    `json:"code"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
}

// MaxAnswerBody bounds what a record keeps of an error answer that was no Status.
const MaxAnswerBody = 256

// NewAnswer reads an error answer: its content type and body (as much as was read). A body
// that decodes as a Kubernetes Status (kind Status) is kept as one; any other is kept in part.
func NewAnswer(contentType string, status *AnswerStatus, body []byte) *Answer {
	a := &Answer{ContentType: contentType, Status: status}
	if status == nil {
		a.Body = strings.ToValidUTF8(string(body[:min(len(body), MaxAnswerBody)]), "?")
	}
	return a
}

// ReadAnswer reads an error answer's body as a client would: a Kubernetes Status when it
// decodes as one (kind Status), else as much of it as an Answer keeps.
func ReadAnswer(contentType string, body []byte) *Answer {
	var st struct {
		Kind    string `json:"kind"`
		Code    int    `json:"code"`
		Reason  string `json:"reason"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &st) == nil && st.Kind == "Status" {
		return NewAnswer(contentType, &AnswerStatus{Code: st.Code, Reason: st.Reason, Message: st.Message}, nil)
	}
	return NewAnswer(contentType, nil, body)
}

// describe says what an answer was, for a finding: its Status, or the start of its body.
func (a *Answer) describe() string {
	switch {
	case a == nil:
		return "nothing of its answer was recorded"
	case a.Status != nil:
		return fmt.Sprintf("content type %q, Status reason %q, message %q", a.ContentType, a.Status.Reason, a.Status.Message)
	}
	return fmt.Sprintf("content type %q, body %q", a.ContentType, a.Body)
}

// jsonContent reports whether a content type is JSON, or was not seen (a refused upgrade).
func jsonContent(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	return ct == "" || strings.TrimSpace(strings.ToLower(mt)) == "application/json"
}

// namedHeader is the first of headers that message names (compared case-insensitively), or "".
func namedHeader(message string, headers []string) string {
	message = strings.ToLower(message)
	for _, h := range headers {
		if h != "" && strings.Contains(message, strings.ToLower(h)) {
			return strings.ToLower(h)
		}
	}
	return ""
}

// Refusal is a refusal because of the contract's headers, as the client received it: a 4xx
// Kubernetes Status (JSON) with a reason, whose message names one of the contract's headers.
type Refusal struct {
	Code           int
	Reason, Header string
	Message        string
}

// ReceivedRefusal returns the refusal e's answer was, or nil when it was none (a success, an
// answer that names no contract header, a body that is no Status). Where the harness has
// the client's side of the wire (e.Answer) that is what counts; an entry without it (the
// harness's own probes) is read from the operator's journal: its decision, reason and message.
func (e Entry) ReceivedRefusal(headers []string) *Refusal {
	var st AnswerStatus
	switch {
	case e.Answer != nil:
		if e.Answer.Status == nil || !jsonContent(e.Answer.ContentType) {
			return nil
		}
		st = *e.Answer.Status
		if st.Code == 0 {
			st.Code = e.Code
		}
	case e.Decision == DecisionRefused:
		st = AnswerStatus{Code: e.Code, Reason: e.Reason, Message: e.Message}
	default:
		return nil
	}
	header := namedHeader(st.Message, headers)
	if st.Code/100 != 4 || st.Reason == "" || header == "" {
		return nil
	}
	return &Refusal{Code: st.Code, Reason: st.Reason, Header: header, Message: st.Message}
}

// NamedBy reports whether a client's output (all it wrote of its error: the whole of its
// standard error, not a last line) names the refusal: the header the refusal is about, and
// the reason — the Status reason, or the operator's message whole, which for a well-formed
// refusal names the header and the problem. The released mirrord CLI prints the message of a
// 403 without its reason (`mirrord operator rejected finding operator: <message>`) and the
// message and reason of other codes (`… failed with ApiError: <message>: <reason> …`), then
// several lines of help: both name the refusal.
func (r Refusal) NamedBy(output string) bool {
	lower := strings.ToLower(output)
	if !strings.Contains(lower, r.Header) {
		return false
	}
	return strings.Contains(output, r.Reason) || (r.Message != "" && strings.Contains(squeeze(output), squeeze(r.Message)))
}

// NamesVersion reports whether a client's output passes on the minimum client version an
// operator's refusal named.
func NamesVersion(output, minimum string) bool {
	return minimum != "" && strings.Contains(output, minimum)
}

// squeeze folds runs of white space into one space: a client may wrap a long message.
func squeeze(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// MaxOutput bounds what is kept of a client's error output: its last MaxOutput bytes, where
// a command line client prints its error report.
const MaxOutput = 64 << 10

// Output keeps the last MaxOutput bytes written to it: a client's standard error, where a
// refusal it passes on is looked for. It is safe for concurrent use.
type Output struct {
	mu  sync.Mutex
	buf []byte
}

func (o *Output) Write(b []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.buf = append(o.buf, b...)
	if over := len(o.buf) - MaxOutput; over > 0 {
		o.buf = append(o.buf[:0], o.buf[over:]...)
	}
	return len(b), nil
}

// String returns what was kept.
func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return string(o.buf)
}

// ErrorLine is the line of a client's error output a report shows: the first that starts
// with "error" (as `Error: …` of the mirrord CLI, whose last lines are help text), else the
// last non-empty one.
func ErrorLine(output string) string {
	lines := strings.Split(strings.TrimSpace(output), "\n")
	for _, l := range lines {
		if l = strings.TrimSpace(l); len(l) >= 5 && strings.EqualFold(l[:5], "error") {
			return l
		}
	}
	return strings.TrimSpace(lines[len(lines)-1])
}
