package fakeoperator

import (
	"crypto/x509"
	"errors"
	"net/http"

	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/request/headerrequest"
	x509request "k8s.io/apiserver/pkg/authentication/request/x509"
)

// newFrontProxyAuthenticator builds k8s.io/apiserver's request-header authenticator behind a
// verifier of the front-proxy client certificate, as an aggregated API server uses it.
func newFrontProxyAuthenticator(fp FrontProxy) (authenticator.Request, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(fp.ClientCA) {
		return nil, errors.New("ClientCA holds no PEM certificate")
	}
	users, groups, extras := fp.UsernameHeaders, fp.GroupHeaders, fp.ExtraHeaderPrefixes
	if len(users) == 0 {
		users = []string{"X-Remote-User"}
	}
	if len(groups) == 0 {
		groups = []string{"X-Remote-Group"}
	}
	if len(extras) == 0 {
		extras = []string{"X-Remote-Extra-"}
	}
	headers, err := headerrequest.New(users, nil, groups, extras)
	if err != nil {
		return nil, err
	}
	opts := x509request.DefaultVerifyOptions()
	opts.Roots = pool
	return x509request.NewVerifier(opts, headers, sets.NewString(fp.AllowedNames...)), nil
}

// authenticate trusts the X-Remote-* identity only from a verified front proxy; without a
// FrontProxy configuration every request passes.
func (s *Server) authenticate(c *call) bool {
	if s.frontProxy == nil {
		return true
	}
	resp, ok, err := s.frontProxy.AuthenticateRequest(c.r)
	switch {
	case err != nil:
		s.refuse(c, http.StatusUnauthorized, ReasonFrontProxyUnauthenticated, "front-proxy authentication failed: %v", err)
		return false
	case !ok:
		s.refuse(c, http.StatusUnauthorized, ReasonFrontProxyUnauthenticated, "no front-proxy client certificate with a user header: requests must come through the aggregator")
		return false
	}
	c.entry.RemoteUser = resp.User.GetName()
	c.entry.RemoteGroups = resp.User.GetGroups()
	return true
}
