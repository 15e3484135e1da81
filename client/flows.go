package client

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opconform/opconform/credentials"
)

// Status is `mirrord operator status`: one GET of the operator object, no certificate.
func (c *Client) Status(ctx context.Context) error {
	op, err := c.GetOperator(ctx)
	if err != nil {
		return err
	}
	if op.Status == nil {
		return errors.New("the operator object has no status")
	}
	s := op.Spec
	fmt.Fprintf(c.opts.Out, "operator %s (protocol %s), licence %q of %s, expires %s\n", s.OperatorVersion, s.ProtocolVersion, s.License.Name, s.License.Organization, s.License.ExpireAt)
	fmt.Fprintf(c.opts.Out, "features: %v\nsessions: %d\n", append(s.SupportedFeatures, s.Features...), len(op.Status.Sessions))
	return nil
}

// Ls is `mirrord ls`: the operator GET, a certificate request only when the store has no
// valid certificate (a failure is only reported), then targets listed from kube-apiserver
// with a plain client, which carries none of the contract's headers.
func (c *Client) Ls(ctx context.Context) error {
	op, err := c.GetOperator(ctx)
	if err != nil {
		return err
	}
	if _, err := c.prepareCertificate(ctx, op); err != nil {
		var refused *RefusalError
		if errors.As(err, &refused) && c.opts.Build.Defect != DefectIgnoreRefusal {
			return err
		}
		fmt.Fprintf(c.opts.Out, "warning: no client certificate: %v\n", err)
	}
	kube, err := c.kube(false)
	if err != nil {
		return err
	}
	deps, err := kube.AppsV1().Deployments(c.opts.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("listing deployments: %w", err)
	}
	pods, err := kube.CoreV1().Pods(c.opts.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("listing pods: %w", err)
	}
	var targets []string
	for _, d := range deps.Items {
		targets = append(targets, "deployment/"+d.Name)
	}
	for _, p := range pods.Items {
		targets = append(targets, "pod/"+p.Name)
	}
	slices.Sort(targets)
	for _, t := range targets {
		fmt.Fprintln(c.opts.Out, t)
	}
	return nil
}

// prepareCertificate gets a valid certificate for the operator's licence from the store,
// or from the operator, and sets it on the layer.
func (c *Client) prepareCertificate(ctx context.Context, op *Operator) (*Credential, error) {
	if !c.layer.Behaviours()[CertificateOnConnect] {
		return nil, nil // before client certificates
	}
	if c.opts.Store == nil {
		return nil, errors.New("no credential store")
	}
	lic := op.Spec.License
	cred, err := c.opts.Store.GetOrInit(ctx, lic.Fingerprint, lic.SubscriptionID, c.opts.Now, c.requestCertificate(op), c.opts.Build.Defect == DefectNoRefresh)
	if err != nil {
		return nil, err
	}
	if c.opts.Build.Defect == DefectSwitchCertificate && c.opts.CertificateHeader == nil {
		// asked for before any certificate is set, so the request carries none
		if c.switchTo, err = c.requestCertificate(op)(ctx, cred.Key); err != nil {
			return nil, err
		}
	}
	c.layer.SetCertificate(cred.DER)
	if c.opts.CertificateHeader != nil {
		c.layer.SetCertificateHeader(*c.opts.CertificateHeader)
	}
	c.userID = credentials.UserID(cred.Key.Public().(ed25519.PublicKey))
	return cred, nil
}

// checkLicense is the client's local licence check: a past expiry date is no licence.
func (c *Client) checkLicense(op *Operator) error {
	exp, err := time.Parse("2006-01-02", op.Spec.License.ExpireAt)
	if err != nil {
		return fmt.Errorf("operator licence: expire_at %q is not YYYY-MM-DD", op.Spec.License.ExpireAt)
	}
	if c.opts.Now().After(exp.Add(24 * time.Hour)) {
		return fmt.Errorf("operator licence %q expired on %s", op.Spec.License.Name, op.Spec.License.ExpireAt)
	}
	return nil
}
