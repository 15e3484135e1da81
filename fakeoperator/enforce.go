package fakeoperator

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/Masterminds/semver/v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opconform/opconform/contract"
)

// enforce applies the profile's header checks to operator requests. It answers and returns
// false when the request is refused; the checks run before any other work, in this order:
// unknown headers, client version, certificate, session, connect parameters.
func (s *Server) enforce(c *call) bool {
	if !c.route.Class.IsOperator() {
		return true
	}
	checks := []func(*call) bool{s.checkKnownHeaders, s.checkVersion, s.checkCertificate, s.checkSession, s.checkConnectParams}
	for _, check := range checks {
		if !check(c) {
			return false
		}
	}
	return true
}

// roles pairs each header role with its name in the server's naming.
func (s *Server) roles() [][2]string {
	h := s.headers
	return [][2]string{
		{RoleVersion, h.Version}, {RoleCertificate, h.Certificate}, {RoleName, h.Name}, {RoleHostname, h.Hostname},
		{RoleInfo, h.Info}, {RoleSessionID, h.SessionID}, {RoleConnect, h.ConnectParams},
	}
}

// checkKnownHeaders is the broken behaviour of an operator that refuses headers it does
// not know.
func (s *Server) checkKnownHeaders(c *call) bool {
	if !s.profile.RejectUnknownHeaders {
		return true
	}
	for _, rn := range s.roles() {
		role, name := rn[0], rn[1]
		if name == "" || c.r.Header.Get(name) == "" {
			continue
		}
		known := false
		for _, k := range s.profile.KnownHeaders {
			known = known || k == role
		}
		if !known {
			s.refuse(c, http.StatusBadRequest, ReasonUnknownHeader, "header %s is not known to this operator (%s)", name, s.version)
			return false
		}
	}
	return true
}

// clientInfoPattern is the design-note X-Client-Info format.
var clientInfoPattern = regexp.MustCompile(`^version=([^;]+);platform=[a-z0-9]+/[a-z0-9]+$`)

// parsedVersion is a version header's value, parsed.
type parsedVersion struct {
	raw string
	v   *semver.Version
	err error
}

// parseVersion parses a version header's value, remembering the last one: a client sends
// the same on every request.
func (s *Server) parseVersion(raw string) (*semver.Version, error) {
	if p := s.lastVersion.Load(); p != nil && p.raw == raw {
		return p.v, p.err
	}
	v, err := semver.StrictNewVersion(raw)
	s.lastVersion.Store(&parsedVersion{raw: raw, v: v, err: err})
	return v, err
}

func (s *Server) checkVersion(c *call) bool {
	name := s.headers.Version
	values := c.r.Header.Values(s.keys.Version)
	var version *semver.Version
	var problem string
	switch {
	case len(values) == 0:
	case !allEqual(values):
		problem = "has different values on one request"
	default:
		v, err := s.parseVersion(values[0])
		if err != nil {
			problem = "value " + strconv.Quote(values[0]) + " is not SemVer: " + err.Error()
		}
		version = v
	}
	if problem != "" && (s.profile.ChecksVersion || s.minClient != nil) {
		s.refuse(c, http.StatusBadRequest, ReasonClientVersionInvalid, "header %s %s", name, problem)
		return false
	}
	if info := s.headers.Info; info != "" && s.profile.ChecksVersion {
		if v := c.r.Header.Get(s.keys.Info); v != "" {
			m := clientInfoPattern.FindStringSubmatch(v)
			if m == nil || !semverOK(m[1]) {
				s.refuse(c, http.StatusBadRequest, ReasonClientInfoInvalid, "header %s value %q is not version=<semver>;platform=<os>/<arch>", info, v)
				return false
			}
		}
	}
	// discovery stays open to every caller: kube-apiserver's availability checks of the
	// APIService carry no client version, and an unavailable APIService refuses everyone
	discovery := c.route.Class == contract.ClassOperatorDiscovery
	if s.profile.RequiresVersionHeader && !discovery && len(values) == 0 {
		s.refuse(c, http.StatusBadRequest, ReasonClientVersionInvalid, "header %s is required and was not sent", name)
		return false
	}
	if s.minClient != nil && !discovery && (version == nil || version.LessThan(s.minClient)) {
		if s.profile.SilentMinimumVersion {
			s.refuse(c, http.StatusForbidden, ReasonClientVersionTooOld, "header %s: this client is too old for this operator", name)
			return false
		}
		have := "sent no " + name + " header"
		if version != nil {
			have = "is version " + version.String()
		}
		st := newStatus(http.StatusForbidden, ReasonClientVersionTooOld,
			"header "+name+": the client "+have+"; this operator ("+s.version.String()+") serves clients from "+
				s.minClient.String()+" on: install mirrord "+s.minClient.String()+" or later")
		st.Details = &metav1.StatusDetails{Causes: []metav1.StatusCause{{Type: "MinimumClientVersion", Field: name, Message: s.minClient.String()}}}
		c.entry.Decision, c.entry.Reason, c.entry.Message = contract.DecisionRefused, string(st.Reason), st.Message
		writeStatusObject(c.w, st)
		return false
	}
	return true
}

func semverOK(v string) bool {
	_, err := semver.StrictNewVersion(v)
	return err == nil
}

func allEqual(values []string) bool {
	for _, v := range values[1:] {
		if v != values[0] {
			return false
		}
	}
	return true
}

func (s *Server) checkCertificate(c *call) bool {
	class := c.route.Class
	var applies, required bool
	switch s.profile.Certificates {
	case CertConnectOnly:
		applies, required = class.IsConnect(), class.IsConnect()
	case CertEveryRequest:
		applies, required = true, class.IsConnect() || class == contract.ClassPing
	}
	if !applies {
		return true
	}
	name := s.headers.Certificate
	if c.cert == nil {
		if required {
			s.refuse(c, http.StatusUnauthorized, ReasonCertificateMissing, "header %s is required on %s requests and was not sent", name, class)
			return false
		}
		return true
	}
	if reason, problem := c.cert.check(s.clock.Now()); reason != "" {
		s.refuse(c, http.StatusUnauthorized, reason, "header %s: certificate %s: %s", name, c.cert.fingerprint, problem)
		return false
	}
	return true
}

func (s *Server) checkSession(c *call) bool {
	if !s.profile.ChecksSession || !c.route.Class.IsConnect() {
		return true
	}
	name := s.headers.SessionID
	values := c.r.Header.Values(s.keys.SessionID)
	if len(values) == 0 {
		s.refuse(c, http.StatusBadRequest, ReasonSessionIDMissing, "header %s is required on %s requests", name, c.route.Class)
		return false
	}
	id, err := strconv.ParseUint(values[0], 10, 64)
	if err != nil || !allEqual(values) || strings.HasPrefix(values[0], "+") {
		s.refuse(c, http.StatusBadRequest, ReasonSessionIDInvalid, "header %s must be one decimal u64, got %q", name, values)
		return false
	}
	c.sessionID = id
	if s.state.hasEnded(id) {
		// what the mirrord CLI's reconnect loop stops at (RECONNECT_NOT_POSSIBLE_CODE/_REASON)
		s.fail(c, http.StatusGone, ReasonReconnectNotPossible, "session %X has ended: it cannot be reconnected to", id)
		return false
	}
	fingerprint := ""
	if c.cert != nil {
		fingerprint = c.cert.fingerprint
	}
	if owner, ok := s.state.bindSession(id, fingerprint); !ok {
		s.refuse(c, http.StatusForbidden, ReasonSessionCertificateMismatch,
			"header %s: session %d was opened with certificate %s, not %s", name, id, orNone(owner), orNone(fingerprint))
		return false
	}
	return true
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func (s *Server) checkConnectParams(c *call) bool {
	if !c.route.Class.IsConnect() {
		return true
	}
	if c.queryErr != nil {
		s.fail(c, http.StatusBadRequest, metav1.StatusReasonBadRequest, "query string: %v", c.queryErr)
		return false
	}
	c.params = c.query
	name := s.headers.ConnectParams
	v := c.r.Header.Get(s.keys.ConnectParams)
	if v == "" || !s.hasFeature(FeatureConnectParamsInHeader) {
		return true
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(v)
	if err != nil {
		s.refuse(c, http.StatusBadRequest, ReasonConnectParamsInvalid, "header %s is not padded standard base64: %v", name, err)
		return false
	}
	params, err := url.ParseQuery(string(raw))
	if err != nil || params.Get("connect") != "true" {
		s.refuse(c, http.StatusBadRequest, ReasonConnectParamsInvalid, "header %s must hold the connect query (connect=true&…): %q", name, truncate(string(raw), 80))
		return false
	}
	c.params = params
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func (s *Server) hasFeature(f Feature) bool {
	for _, have := range s.features {
		if have == f {
			return true
		}
	}
	return false
}
