package runner

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"runtime"
	"strconv"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/rest"
	wsclient "k8s.io/client-go/transport/websocket"
	"k8s.io/streaming/pkg/httpstream"

	"github.com/opconform/opconform/contract"
	"github.com/opconform/opconform/credentials"
)

// unknownProbeHeader is a header no operator knows, which the probe sends with the contract's.
const unknownProbeHeader = "X-Opconform-Probe"

// probePaths are one request of every class an operator serves to clients, below
// /apis/operator.metalbear.co/v1; the last is the target connect (a WebSocket).
var probePaths = []string{
	"",
	"/mirrordoperators/" + contract.OperatorName,
	"/namespaces/default/targets",
	"/namespaces/default/targets/" + target,
	"/namespaces/default/copytargets",
	"/namespaces/default/sessions",
}

// probeOperator sends the operator every request class twice, independent of any client:
// bare, and with every contract header (well-formed values) and one header it cannot know.
// How the two were answered, not why, says whether the operator ignores headers it does not
// know (COMPAT-UNKNOWN-HEADERS, COMPAT-OLD-OPERATOR).
func (r *run) probeOperator(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, r.opts.ScenarioTimeout)
	defer cancel()
	headed, err := r.probeHeaders()
	if err != nil {
		return err
	}
	hc, err := rest.HTTPClientFor(r.ep.Config)
	if err != nil {
		return fmt.Errorf("operator probe: %w", err)
	}
	base := r.ep.Config.Host + "/apis/" + contract.GroupVersion
	mark := r.journalMark()
	o := contract.Observation{Kind: contract.ScenarioProbe, Name: "probe", Injected: true}
	for _, path := range probePaths {
		pair := contract.ProbeAnswer{Path: "/apis/" + contract.GroupVersion + path}
		for i, h := range []http.Header{{}, headed} {
			code, err := probeGet(ctx, hc, base+path, h)
			if err != nil {
				return fmt.Errorf("operator probe: GET %s: %w", pair.Path, err)
			}
			pair.Codes[i] = code
		}
		o.Probes = append(o.Probes, pair)
	}
	connect := contract.ProbeAnswer{Path: "/apis/" + contract.GroupVersion + probePaths[3] + "?connect=true", Connect: true}
	for i, h := range []http.Header{{}, headed} {
		h = h.Clone()
		if i == 1 {
			h.Set(r.cell.Contract.Headers.SessionID, strconv.FormatUint(rand.Uint64(), 10)) // a session of its own
		}
		if connect.Codes[i], err = r.probeConnect(ctx, base+probePaths[3]+"?connect=true", h); err != nil {
			return fmt.Errorf("operator probe: connect: %w", err)
		}
	}
	o.Probes = append(o.Probes, connect)
	o.Entries = r.journalSince(mark)
	r.result.Observations = append(r.result.Observations, o)
	return nil
}

// probeHeaders are every contract header of the cell's naming with a well-formed value, and
// the unknown one.
func (r *run) probeHeaders() (http.Header, error) {
	h := r.cell.Contract.Headers.OrDefault()
	out := http.Header{}
	set := func(name, value string) {
		if name != "" {
			out.Set(name, value)
		}
	}
	set(h.Version, r.cell.Client.Version)
	set(h.Name, "Opconform Probe")
	set(h.Hostname, "probe-host")
	set(h.Info, "version="+r.cell.Client.Version+";platform="+runtime.GOOS+"/"+runtime.GOARCH)
	set(h.SessionID, "1")
	set(h.ConnectParams, base64.StdEncoding.EncodeToString([]byte("connect=true")))
	if r.ep.Authority != nil {
		now := r.now()
		_, der, err := r.issue(now.Add(-time.Minute), now.Add(time.Hour))
		if err != nil {
			return nil, err
		}
		set(h.Certificate, credentials.EncodeHeader(der))
	}
	out.Set(unknownProbeHeader, "1")
	return out, nil
}

func probeGet(ctx context.Context, hc *http.Client, url string, h http.Header) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	req.Header = h.Clone()
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// probeConnect opens a WebSocket connect with h and returns its answer's code (101 when it
// was established, and closed at once; 0 when the answer said nothing the probe can read).
func (r *run) probeConnect(ctx context.Context, url string, h http.Header) (int, error) {
	rt, holder, err := wsclient.RoundTripperFor(r.ep.Config)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	req.Header = h.Clone()
	conn, err := wsclient.Negotiate(rt, holder, req, contract.Subprotocol)
	if err == nil {
		_ = conn.Close()
		return http.StatusSwitchingProtocols, nil
	}
	return upgradeCode(err), nil
}

// upgradeCode is the status code of a failed WebSocket upgrade, 0 when the answer was no
// Kubernetes Status (or there was none).
func upgradeCode(err error) int {
	var upgrade *httpstream.UpgradeFailureError
	if errors.As(err, &upgrade) {
		err = upgrade.Cause
	}
	var se *apierrors.StatusError
	if errors.As(err, &se) {
		return int(se.ErrStatus.Code)
	}
	return 0
}
