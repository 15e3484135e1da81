package fakeoperator

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"time"

	"github.com/Masterminds/semver/v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opconform/opconform/contract"
)

// The operator endpoints that are no stored objects, which the mirrord CLI calls beside the
// resources: the branch-credential and preview-secret requests of exec and preview, the
// queue-splitting status (`mirrord queues`), the event stream (`mirrord subscribe`) and the
// v1alpha1 preview status API. The operator is closed source: each is served from the client
// release that started to call it (metalbear-co/mirrord, the first tag whose source has the
// route), the earliest an operator can have served it; an older operator answers 404, as
// clients expect of an operator without the route.
var endpointHistory = map[contract.Class]*semver.Version{
	contract.ClassBranchCredentials: semver.MustParse("3.204.0"), // operator/src/client.rs create_credential_secret
	contract.ClassPreviewSecrets:    semver.MustParse("3.232.0"), // create_preview_secret_mounts
	contract.ClassEventWatch:        semver.MustParse("3.219.0"), // cli/src/subscribe.rs
	contract.ClassQueueSplitList:    semver.MustParse("3.227.0"), // operator/src/crd/queue_split.rs, cli/src/queues.rs
	contract.ClassQueueSplitGet:     semver.MustParse("3.227.0"),
	contract.ClassPreviewList:       semver.MustParse("3.247.0"), // operator/src/crd/preview/view.rs
	contract.ClassPreviewGet:        semver.MustParse("3.247.0"),
}

// serves reports whether the operator's version serves an endpoint of class.
func (s *Server) serves(class contract.Class) bool {
	since, ok := endpointHistory[class]
	return !ok || !s.version.LessThan(since)
}

// serveEndpoint answers the endpoints of endpointHistory.
func (s *Server) serveEndpoint(c *call) {
	if !s.serves(c.route.Class) {
		s.notFound(c, "the server could not find the requested resource "+c.route.Resource)
		return
	}
	switch c.route.Class {
	case contract.ClassBranchCredentials:
		s.serveSecretRequest(c, "branch_id", func(body map[string]json.RawMessage) string {
			var id string
			_ = json.Unmarshal(body["branch_id"], &id)
			return "mirrord-branch-" + id
		})
	case contract.ClassPreviewSecrets:
		s.serveSecretRequest(c, "owner_ref", func(body map[string]json.RawMessage) string {
			var owner struct {
				Name string `json:"name"`
			}
			_ = json.Unmarshal(body["owner_ref"], &owner)
			return owner.Name + "-secret-mounts"
		})
	case contract.ClassQueueSplitList:
		writeJSON(c.w, http.StatusOK, newList("QueueSplit", nil))
	case contract.ClassQueueSplitGet:
		s.notFound(c, "queuesplits.operator.metalbear.co \""+c.route.Name+"\"")
	case contract.ClassPreviewList:
		list := newList("PreviewEnv", nil)
		list.APIVersion = contract.Group + "/" + contract.AlphaVersion
		writeJSON(c.w, http.StatusOK, list)
	case contract.ClassPreviewGet:
		s.notFound(c, "previews.operator.metalbear.co \""+c.route.Name+"\"")
	case contract.ClassEventWatch:
		s.serveEvents(c)
	}
}

// secretName is what a name derived from the request may hold (a Secret's name).
var secretName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`)

// serveSecretRequest answers POST branchcredentials and previewsecretmounts: a JSON body with
// namespace, values and the field that names the Secret, answered with the Secret's name
// (the operator creates it with its own service account; the fake keeps nothing).
func (s *Server) serveSecretRequest(c *call, field string, name func(map[string]json.RawMessage) string) {
	var body map[string]json.RawMessage
	if err := json.NewDecoder(io.LimitReader(c.r.Body, maxBody)).Decode(&body); err != nil {
		s.fail(c, http.StatusBadRequest, metav1.StatusReasonBadRequest, "%s body: %v", c.route.Resource, err)
		return
	}
	for _, required := range []string{"namespace", field, "values"} {
		if _, ok := body[required]; !ok {
			s.fail(c, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid, "%s body: %s: required", c.route.Resource, required)
			return
		}
	}
	secret := name(body)
	if !secretName.MatchString(secret) || len(secret) > 253 {
		s.fail(c, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid, "%s body: %s does not make a Secret name (%q)", c.route.Resource, field, secret)
		return
	}
	writeJSON(c.w, http.StatusOK, map[string]string{"secret_name": secret})
}

// eventKeepAlive is how often the event stream sends a keep-alive comment.
const eventKeepAlive = 15 * time.Second

// serveEvents answers GET events?watch=true&session_key=K with a server-sent event stream:
// a comment at once and one every eventKeepAlive (the fake intercepts nothing, so it has no
// event to send), until the client goes, the server closes, or idleTimeout passes.
func (s *Server) serveEvents(c *call) {
	if c.query.Get("watch") != "true" || c.query.Get("session_key") == "" {
		s.fail(c, http.StatusBadRequest, metav1.StatusReasonBadRequest, "events: watch=true and session_key are required")
		return
	}
	c.w.Header().Set("Content-Type", "text/event-stream")
	c.w.Header().Set("Cache-Control", "no-cache")
	c.w.WriteHeader(http.StatusOK)
	flush := func(line string) bool {
		if _, err := fmt.Fprintf(c.w, "%s\n\n", line); err != nil {
			return false
		}
		return http.NewResponseController(c.w.ResponseWriter).Flush() == nil
	}
	if !flush(": subscribed to events of session key " + c.query.Get("session_key")) {
		return
	}
	tick := time.NewTicker(eventKeepAlive)
	defer tick.Stop()
	idle := time.NewTimer(idleTimeout)
	defer idle.Stop()
	for {
		select {
		case <-c.r.Context().Done():
			return
		case <-s.closing:
			return
		case <-idle.C:
			return
		case <-tick.C:
			if !flush(": keep-alive") {
				return
			}
		}
	}
}
