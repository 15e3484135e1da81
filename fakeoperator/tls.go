package fakeoperator

import (
	"crypto/tls"

	"github.com/opconform/opconform/pki"
)

// servingCA is a throwaway CA and a leaf it signed for the server's addresses.
type servingCA struct {
	certPEM []byte
	leaf    tls.Certificate
}

// newServingCA creates a CA and a serving certificate for loopback and hosts.
func newServingCA(hosts []string) (*servingCA, error) {
	ca, err := pki.NewCA("opconform fake operator CA")
	if err != nil {
		return nil, err
	}
	kp, err := ca.IssueServer("mirrord-operator", append([]string{"127.0.0.1", "::1", "localhost"}, hosts...)...)
	if err != nil {
		return nil, err
	}
	leaf, err := kp.TLS()
	if err != nil {
		return nil, err
	}
	return &servingCA{certPEM: ca.PEM, leaf: leaf}, nil
}
