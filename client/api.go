package client

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opconform/opconform/contract"
	"github.com/opconform/opconform/credentials"
)

const operatorBase = "/apis/" + contract.GroupVersion

// Operator is what the client reads of the MirrordOperator object.
type Operator struct {
	Spec struct {
		OperatorVersion   string   `json:"operator_version"`
		ProtocolVersion   string   `json:"protocol_version"`
		DefaultNamespace  string   `json:"default_namespace"`
		SupportedFeatures []string `json:"supported_features"`
		Features          []string `json:"features"`
		CopyTargetEnabled *bool    `json:"copy_target_enabled"`
		License           struct {
			Name           string `json:"name"`
			Organization   string `json:"organization"`
			ExpireAt       string `json:"expire_at"`
			Fingerprint    string `json:"fingerprint"`
			SubscriptionID string `json:"subscription_id"`
		} `json:"license"`
	} `json:"spec"`
	Status *struct {
		Sessions []json.RawMessage `json:"sessions"`
	} `json:"status"`
	// reads is which of the feature fields the client's version reads.
	reads Behaviours
}

// Has reports whether the operator advertises feature, as the client's version reads it: no
// feature before spec.features (3.51.1); from it, the deprecated features (only ProxyApi)
// and copy_target_enabled; from 3.114.0 supported_features, and the deprecated two only when
// an operator sends no supported_features (MirrordOperatorSpec::supported_features).
func (o *Operator) Has(feature string) bool {
	switch {
	case o.reads[SupportedFeatures] && o.Spec.SupportedFeatures != nil:
		return slices.Contains(o.Spec.SupportedFeatures, feature)
	case !o.reads[LegacyFeatures]:
		return false
	case feature == "CopyTarget":
		return o.Spec.CopyTargetEnabled != nil && *o.Spec.CopyTargetEnabled
	}
	return slices.Contains(o.Spec.Features, feature)
}

// Features lists what the operator advertises, as the client's version reads it.
func (o *Operator) Features() []string {
	if o.reads[SupportedFeatures] && o.Spec.SupportedFeatures != nil {
		return o.Spec.SupportedFeatures
	}
	if !o.reads[LegacyFeatures] {
		return nil
	}
	out := slices.Clone(o.Spec.Features)
	if o.Has("CopyTarget") {
		out = append(out, "CopyTarget")
	}
	return out
}

// decode reads the operator object as the client's version does: its features, and the
// deprecated features list, whose enum held only ProxyApi (any other value fails the
// whole object, as serde's derive does).
func (o *Operator) decode(b Behaviours) error {
	o.reads = b
	if !b[LegacyFeatures] {
		return nil
	}
	for _, f := range o.Spec.Features {
		if f != "ProxyApi" {
			return fmt.Errorf("decoding the operator object: spec.features: unknown variant `%s`, expected `ProxyApi`", f)
		}
	}
	return nil
}

// call sends one request through the client's (certified or not) HTTP client and decodes a
// 2xx JSON answer into out. A non-2xx answer becomes an apierrors.StatusError.
func (c *Client) call(ctx context.Context, method, path string, body []byte, contentType string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.host+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("%s %s: reading answer: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		var st metav1.Status
		if json.Unmarshal(data, &st) != nil || st.Kind != "Status" {
			st = metav1.Status{Status: metav1.StatusFailure, Code: int32(resp.StatusCode), Message: strings.TrimSpace(string(data))}
		}
		return &apierrors.StatusError{ErrStatus: st}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: decoding answer: %w", method, path, err)
		}
	}
	return nil
}

// guard turns a refusal into a RefusalError; other errors pass unchanged.
func (c *Client) guard(err error, method, path string) error {
	if err == nil {
		return nil
	}
	names := headerNames{version: c.layer.cfg.Headers.Version, certificate: c.layer.cfg.Headers.Certificate, sentCertificate: c.layer.certificate.Load() != nil}
	if r := refusal(err, method+" "+path, names); r != nil {
		c.refused = true
		if c.opts.Build.Defect == DefectDropMinimumVersion {
			r.MinimumVersion = ""
		}
		r.unclear = c.opts.Build.Defect == DefectUnclearRefusal
		return r
	}
	return err
}

// GetOperator reads the MirrordOperator object. After an API error on that GET (a refusal
// included) a client from 3.109.0 asks discovery whether the operator is installed at all
// (GET /apis/operator.metalbear.co/v1, as the mirrord CLI's OperatorApi::try_new does), and
// fails with the GET's error when it is; exec does so from 3.107.0. A 404 of either says the
// operator is not installed.
func (c *Client) GetOperator(ctx context.Context) (*Operator, error) {
	return c.getOperator(ctx, c.layer.Behaviours()[DiscoveryAfterError])
}

func (c *Client) getOperator(ctx context.Context, discover bool) (*Operator, error) {
	path := operatorBase + "/mirrordoperators/" + contract.OperatorName
	var op Operator
	err := c.guard(c.call(ctx, http.MethodGet, path, nil, "", &op), http.MethodGet, path)
	if err == nil {
		if err := op.decode(c.layer.Behaviours()); err != nil {
			return nil, err
		}
		if c.opts.Build.Defect == DefectRequiresSupportedFeatures && op.Spec.SupportedFeatures == nil {
			return nil, errors.New("decoding the operator object: spec: missing field `supported_features`")
		}
		return &op, nil
	}
	if !isStatus(err) {
		return nil, err // no API answer: nothing to ask discovery about
	}
	notFound := apierrors.IsNotFound(err)
	if discover {
		derr := c.call(ctx, http.MethodGet, operatorBase, nil, "", nil)
		notFound = apierrors.IsNotFound(derr)
	}
	var refused *RefusalError
	switch {
	case errors.As(err, &refused):
		return nil, err
	case notFound:
		return nil, ErrOperatorNotInstalled
	}
	return nil, fmt.Errorf("getting the mirrord operator: %w", err)
}

// isStatus reports whether err is an API answer: a Status, or a refusal made of one.
func isStatus(err error) bool {
	var se *apierrors.StatusError
	var refused *RefusalError
	return errors.As(err, &se) || errors.As(err, &refused)
}

// requestCertificate is the Issuer the store calls: a CSR for key, sent to the endpoint the
// client version and the operator's features select. It never carries a certificate.
func (c *Client) requestCertificate(op *Operator) Issuer {
	return func(ctx context.Context, key ed25519.PrivateKey) ([]byte, error) {
		csrPEM, err := credentials.NewCSR(key, strings.ToLower(c.identityHost()), credentials.CSROptions{})
		if err != nil {
			return nil, err
		}
		var pemCert string
		if c.layer.Behaviours()[ExtendableCredentials] && op.Has("ExtendableUserCredentials") {
			path := operatorBase + "/" + contract.ResourceCredentials
			body, _ := json.Marshal(map[string]any{
				"apiVersion": contract.GroupVersion, "kind": "MirrordClusterOperatorUserCredential",
				"metadata": map[string]string{"generateName": "mirrord-operator-regular-cred-"},
				"spec":     map[string]string{"csr": string(csrPEM), "kind": "regular"},
			})
			var obj struct {
				Status *struct {
					Certificate string `json:"certificate"`
				} `json:"status"`
			}
			if err := c.guard(c.call(ctx, http.MethodPost, path, body, "application/json", &obj), http.MethodPost, path); err != nil {
				return nil, fmt.Errorf("requesting a certificate: %w", err)
			}
			if obj.Status == nil {
				return nil, fmt.Errorf("requesting a certificate: the answer has no status")
			}
			pemCert = obj.Status.Certificate
		} else {
			path := operatorBase + "/mirrordoperators/" + contract.OperatorName + "/certificate"
			body := csrPEM
			if !c.layer.Behaviours()[LegacyRawPEM] {
				body, _ = json.Marshal(string(csrPEM))
			}
			if err := c.guard(c.call(ctx, http.MethodPost, path, body, "application/json", &pemCert), http.MethodPost, path); err != nil {
				return nil, fmt.Errorf("requesting a certificate (legacy endpoint): %w", err)
			}
		}
		der, err := credentials.ParseCertificatePEM([]byte(pemCert))
		if err != nil {
			return nil, fmt.Errorf("requesting a certificate: %w", err)
		}
		return der, nil
	}
}
