package client

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
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
	fmt.Fprintf(c.opts.Out, "features: %v\nsessions: %d\n", op.Features(), len(op.Status.Sessions))
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
	list := c.listOptions()
	deps, err := kube.apps.Deployments(c.opts.Namespace).List(ctx, list)
	if err != nil {
		return fmt.Errorf("listing deployments: %w", err)
	}
	if c.layer.Behaviours()[RunningPods] {
		list.FieldSelector = "status.phase=Running"
	}
	pods, err := kube.core.Pods(c.opts.Namespace).List(ctx, list)
	if err != nil {
		return fmt.Errorf("listing pods: %w", err)
	}
	var targets []string
	for _, d := range deps.Items {
		targets = append(targets, "deployment/"+d.Name)
	}
	for _, p := range pods.Items {
		if c.layer.Behaviours()[RunningPods] && !podReady(p) {
			continue
		}
		targets = append(targets, "pod/"+p.Name)
	}
	slices.Sort(targets)
	for _, t := range targets {
		fmt.Fprintln(c.opts.Out, t)
	}
	return nil
}

// listOptions are how the client's version lists targets: without mirrord's own pods
// (app!=mirrord), from 3.116.1 without the operator's either and at most 500.
func (c *Client) listOptions() metav1.ListOptions {
	if c.layer.Behaviours()[OwnedExcluded] {
		return metav1.ListOptions{LabelSelector: "app!=mirrord,!operator.metalbear.co/owner", Limit: 500}
	}
	return metav1.ListOptions{LabelSelector: "app!=mirrord"}
}

// podReady reports whether a pod has the Ready condition the CLI keeps a pod for.
func podReady(p corev1.Pod) bool {
	return slices.ContainsFunc(p.Status.Conditions, func(c corev1.PodCondition) bool {
		return c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue
	})
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
