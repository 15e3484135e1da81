package runner

import (
	"context"
	"fmt"
	"net/http"
	"time"

	wsclient "k8s.io/client-go/transport/websocket"

	"github.com/opconform/opconform/contract"
	"github.com/opconform/opconform/credentials"
)

// issue returns a key and a certificate of the operator's licence, valid from nb to na.
func (r *run) issue(nb, na time.Time) ([]byte, []byte, error) {
	if r.ep.Authority == nil {
		return nil, nil, fmt.Errorf("the operator's licence authority is out of reach")
	}
	key, err := credentials.GenerateKey()
	if err != nil {
		return nil, nil, err
	}
	der, err := r.ep.Authority.IssueFor(key, "laptop-7", nb, na)
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err := credentials.MarshalKeyPEM(key)
	return keyPEM, der, err
}

// seedExpired puts a certificate of the operator's licence that expired an hour ago into
// the client's store: a sound client refreshes it, one that sends it breaks CERT-VALID.
func (r *run) seedExpired(ctx context.Context) error {
	if r.ep.Authority == nil {
		return nil
	}
	now := r.now()
	keyPEM, der, err := r.issue(now.Add(-48*time.Hour), now.Add(-time.Hour))
	if err != nil {
		return err
	}
	key, err := credentials.ParseKeyPEM(keyPEM)
	if err != nil {
		return err
	}
	return r.store.Put(ctx, r.ep.LicenseFingerprint, key, der)
}

// takeover probes the operator with a connect that reuses the exec scenario's session id
// under another valid certificate: the operator must refuse it.
func (r *run) takeover(ctx context.Context) error {
	var session, path string
	for _, o := range r.result.Observations {
		if o.Kind != contract.ScenarioExec {
			continue
		}
		for _, e := range o.Entries {
			if e.Class.IsConnect() && e.Code == http.StatusSwitchingProtocols && e.SessionID != "" {
				session, path = e.SessionID, e.Path
				break
			}
		}
	}
	if session == "" || r.ep.Authority == nil {
		return nil // nothing to take over
	}
	now := r.now()
	_, der, err := r.issue(now.Add(-time.Minute), now.Add(time.Hour))
	if err != nil {
		return err
	}
	mark := r.journalMark()
	rt, holder, err := wsclient.RoundTripperFor(r.ep.Config)
	if err != nil {
		return fmt.Errorf("takeover probe: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, r.opts.ScenarioTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.ep.Config.Host+path+"?connect=true", nil)
	if err != nil {
		return fmt.Errorf("takeover probe: %w", err)
	}
	h := r.cell.Contract.Headers
	req.Header.Set(h.Version, r.cell.Client.Version)
	req.Header.Set(h.Certificate, credentials.EncodeHeader(der))
	req.Header.Set(h.SessionID, session)
	conn, err := wsclient.Negotiate(rt, holder, req, contract.Subprotocol)
	o := contract.Observation{Kind: contract.ScenarioTakeover, Name: "takeover", Entries: r.journalSince(mark), Injected: true}
	if err == nil {
		_ = conn.Close()
	} else {
		o.Err = err.Error()
	}
	r.result.Observations = append(r.result.Observations, o)
	return nil
}
