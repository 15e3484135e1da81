package tier

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/opconform/opconform/fakeoperator"
	"github.com/opconform/opconform/matrix"
)

// The kind tier keeps every operator it deploys: one Deployment, Service and TLS secret per
// operator configuration (a slot: a hash of the operator image's ID and the operator's
// flags), and points the APIService at the one a cell needs. A rollout costs seconds of the
// node's CPU; a switch is one update of the APIService. A kept cluster keeps its operators
// too, so a second run rolls out nothing that has not changed.

// Labels of a kept operator's objects, beside SlotLabel: its generation (a hash of the
// operator image's ID, deploy/'s manifests and the licence, whose operators collect deletes
// when any of them changed) and when a run last used it (Unix seconds, for evicting the
// least recently used).
const (
	generationLabel = "opconform.dev/generation"
	usedLabel       = "opconform.dev/used"
)

// keptOperators bounds the operators a cluster keeps: deploying one more evicts the least
// recently used. The default matrix needs 14 per Kubernetes version.
const keptOperators = 24

// shortHash is the first 10 hex digits of the SHA-256 of parts, each ended by a NUL.
func shortHash(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:10]
}

// slotFor names the kept operator of args on this cluster's operator image: a new image or
// new flags make a new one, the same ones find the one kept.
func (k *KindTier) slotFor(args []string) string {
	return shortHash(append([]string{k.imageID}, args...)...)
}

// setImage reads the operator image's ID and derives the generation of the operators kept.
func (k *KindTier) setImage(ctx context.Context) error {
	out, err := Docker(ctx, k.timeouts.Preflight.Duration, "image", "inspect", "--format", "{{.Id}}", k.image)
	if err != nil {
		return fmt.Errorf("the ID of image %s: %w: %s", k.image, err, strings.TrimSpace(out))
	}
	k.imageID = strings.TrimSpace(out)
	k.generation, err = generationOf(k.imageID, k.manifests)
	return err
}

// generationOf is the generation of the operators deployed from imageID with manifests (the
// files' contents count, in order) and this run's licence: a change to deploy/ makes the
// operators kept before it stale, as a new image does.
func generationOf(imageID string, manifests []string) (string, error) {
	parts := []string{imageID, licenseEnd.Format(time.DateOnly)}
	for _, f := range manifests {
		data, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("the operator's manifests: %w", err)
		}
		parts = append(parts, string(data))
	}
	return shortHash(parts...), nil
}

// collect deletes the operators an earlier run kept that are of another generation (another
// operator image or licence), and any deploy/ made under its own names.
func (k *KindTier) collect(ctx context.Context, cs kubernetes.Interface) error {
	list, err := cs.AppsV1().Deployments(deployNamespace).List(ctx, metav1.ListOptions{LabelSelector: "app=" + deployName + "," + generationLabel + "!=" + k.generation})
	if err != nil {
		return fmt.Errorf("listing the operators kept: %w", err)
	}
	var names []string
	for _, d := range list.Items {
		if err := deleteOperator(ctx, cs, d.Name); err != nil {
			return err
		}
		names = append(names, d.Name)
	}
	if len(names) > 0 {
		fmt.Fprintf(k.progress, "%s: deleted %d operators kept from another operator image or licence: %s\n", k.Name, len(names), strings.Join(names, ", "))
	}
	return nil
}

// evict deletes the least recently used kept operators, so that room more operators still
// leave the cluster with no more than keptOperators.
func (k *KindTier) evict(ctx context.Context, cs kubernetes.Interface, room int) error {
	list, err := cs.AppsV1().Deployments(deployNamespace).List(ctx, metav1.ListOptions{LabelSelector: SlotLabel})
	if err != nil {
		return fmt.Errorf("listing the operators kept: %w", err)
	}
	items := list.Items
	excess := len(items) + room - keptOperators
	if excess <= 0 {
		return nil
	}
	used := func(labels map[string]string) int64 {
		n, _ := strconv.ParseInt(labels[usedLabel], 10, 64) // none: the oldest
		return n
	}
	slices.SortFunc(items, func(a, b appsv1.Deployment) int { return cmp.Compare(used(a.Labels), used(b.Labels)) })
	for _, d := range items[:min(excess, len(items))] {
		if err := deleteOperator(ctx, cs, d.Name); err != nil {
			return err
		}
		fmt.Fprintf(k.progress, "%s: deleted the least recently used of the %d operators kept, %s\n", k.Name, keptOperators, d.Name)
	}
	return nil
}

// deleteOperator deletes a kept operator's Deployment (its pods with it), Service and TLS
// secret; what is gone already is no error.
func deleteOperator(ctx context.Context, cs kubernetes.Interface, name string) error {
	background := metav1.DeletePropagationBackground
	opts := metav1.DeleteOptions{PropagationPolicy: &background}
	err := utilerrors.FilterOut(utilerrors.NewAggregate([]error{
		cs.AppsV1().Deployments(deployNamespace).Delete(ctx, name, opts),
		cs.CoreV1().Services(deployNamespace).Delete(ctx, name, opts),
		cs.CoreV1().Secrets(deployNamespace).Delete(ctx, name+"-tls", opts),
	}), apierrors.IsNotFound)
	if err != nil {
		return fmt.Errorf("deleting operator %s/%s: %w", deployNamespace, name, err)
	}
	return nil
}

// kept returns the Deployment of the operator of slot when the cluster keeps it (of this
// generation), else nil: then it is deployed (again).
func (k *KindTier) kept(ctx context.Context, cs kubernetes.Interface, slot string) *appsv1.Deployment {
	d, err := cs.AppsV1().Deployments(deployNamespace).Get(ctx, SlotName(slot), metav1.GetOptions{})
	if err != nil || d.Labels[generationLabel] != k.generation {
		return nil
	}
	return d
}

// fresh returns the operators of operators (their flags, one entry a cell) that the cluster
// does not keep, by slot, up to keptOperators. What the cluster keeps is read in one list:
// the cells of a run name the same few operators many times over, and a read per cell
// (client-go's client limits itself to five a second) took 15 s of a warm run.
func (k *KindTier) fresh(ctx context.Context, cs kubernetes.Interface, operators [][]string) (map[string][]string, error) {
	list, err := cs.AppsV1().Deployments(deployNamespace).List(ctx, metav1.ListOptions{LabelSelector: SlotLabel + "," + generationLabel + "=" + k.generation})
	if err != nil {
		return nil, fmt.Errorf("listing the operators kept: %w", err)
	}
	kept := map[string]bool{}
	for _, d := range list.Items {
		kept[d.Labels[SlotLabel]] = true
	}
	fresh := map[string][]string{}
	for _, args := range operators {
		slot := k.slotFor(args)
		if _, seen := fresh[slot]; seen || kept[slot] || len(fresh) == keptOperators {
			continue
		}
		fresh[slot] = args
	}
	return fresh, nil
}

// predeploy deploys, without waiting, each operator of operators (their flags) that the
// cluster does not keep, up to keptOperators, a few at a time: they start side by side
// while the first cells run, and serve waits for each that a cell needs before it is up.
func (k *KindTier) predeploy(ctx context.Context, cs kubernetes.Interface, operators [][]string) error {
	start := time.Now()
	fresh, err := k.fresh(ctx, cs, operators)
	if err != nil {
		return fmt.Errorf("kind cluster %s: %w", k.Name, err)
	}
	if len(fresh) == 0 {
		return nil
	}
	if err := k.evict(ctx, cs, len(fresh)); err != nil {
		return fmt.Errorf("kind cluster %s: %w", k.Name, err)
	}
	if err := k.ensureServingCA(); err != nil {
		return err
	}
	used := strconv.FormatInt(time.Now().Unix(), 10)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	slots := make(chan struct{}, predeployAtOnce)
	for slot, args := range fresh {
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			if err := k.deploy(ctx, slot, args, used, 0); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for slot := range fresh {
		k.predeployed[slot] = true
	}
	fmt.Fprintf(k.progress, "%s: deployed the %d operators its cells need that it did not keep, side by side, in %s\n", k.Name, len(fresh), time.Since(start).Round(100*time.Millisecond))
	return nil
}

// replaceFailing deletes d, a kept operator's Deployment, when an earlier run left it and it
// is not available (its pods crash, say), and returns nil: then serve deploys it anew,
// rather than wait the rollout's timeout for pods that may never be ready. One that this
// run deployed when the cluster was ready may still be starting: it is returned, as is an
// available one.
func (k *KindTier) replaceFailing(ctx context.Context, cs kubernetes.Interface, cell matrix.Cell, d *appsv1.Deployment) (*appsv1.Deployment, error) {
	if d == nil || deploymentAvailable(d) || k.predeployed[d.Labels[SlotLabel]] {
		return d, nil
	}
	fmt.Fprintf(k.progress, "%s: operator %s: the one kept, %s, is not available (%d of %d pods available, %d unavailable): deploying it anew\n",
		k.Name, cell.Operator.Name, d.Name, d.Status.AvailableReplicas, d.Status.Replicas, d.Status.UnavailableReplicas)
	if err := deleteOperator(ctx, cs, d.Name); err != nil {
		return nil, fmt.Errorf("kind cluster %s: %w", k.Name, err)
	}
	return nil, nil
}

// predeployAtOnce bounds the deploys predeploy makes at once.
const predeployAtOnce = 4

// serve makes the operator of slot the one the APIService points at: the one kept when it
// is available, else a rollout; then it waits, bounded, until the aggregator reaches it.
func (k *KindTier) serve(ctx context.Context, cell matrix.Cell, slot string, args []string, hc *http.Client) error {
	start := time.Now()
	k.serving, k.installed = "", "" // whatever served, the APIService changes
	cs, err := kubernetes.NewForConfig(k.admin)
	if err != nil {
		return fmt.Errorf("kind cluster %s: the cluster's client: %w", k.Name, err)
	}
	name := SlotName(slot)
	used := strconv.FormatInt(time.Now().Unix(), 10)
	d, err := k.replaceFailing(ctx, cs, cell, k.kept(ctx, cs, slot))
	if err != nil {
		return err
	}
	switch {
	case d != nil && deploymentAvailable(d):
		patch := fmt.Sprintf(`{"metadata":{"labels":{%q:%q}}}`, usedLabel, used)
		if _, err := cs.AppsV1().Deployments(deployNamespace).Patch(ctx, name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
			return fmt.Errorf("kind cluster %s: marking operator %s used: %w", k.Name, name, err)
		}
		if err := PointAPIService(ctx, k.admin, k.manifests, slot); err != nil {
			return fmt.Errorf("kind cluster %s: %w", k.Name, err)
		}
		if err := k.await(ctx, hc, slot); err != nil {
			return err
		}
		k.switches++
		fmt.Fprintf(k.progress, "%s: operator %s: switched to the one kept, %s (switch %d, %s)\n", k.Name, cell.Operator.Name, name, k.switches, time.Since(start).Round(100*time.Millisecond))
	case d != nil: // deployed when the cluster was ready, still starting
		if err := PointAPIService(ctx, k.admin, k.manifests, slot); err != nil {
			return fmt.Errorf("kind cluster %s: %w", k.Name, err)
		}
		if err := waitDeployed(ctx, k.admin, cs, name, k.timeouts.Rollout.Duration, k.timeouts.Probe.Duration); err != nil {
			return fmt.Errorf("kind cluster %s: %w", k.Name, err)
		}
		if err := k.await(ctx, hc, slot); err != nil {
			return err
		}
		fmt.Fprintf(k.progress, "%s: operator %s: waited %s for %s, deployed when the cluster was ready\n", k.Name, cell.Operator.Name, time.Since(start).Round(100*time.Millisecond), name)
	default:
		if err := k.evict(ctx, cs, 1); err != nil {
			return fmt.Errorf("kind cluster %s: %w", k.Name, err)
		}
		if err := k.deploy(ctx, slot, args, used, k.timeouts.Rollout.Duration); err != nil {
			return err
		}
		if err := k.await(ctx, hc, slot); err != nil {
			return err
		}
		k.rollouts++
		fmt.Fprintf(k.progress, "%s: operator %s rolled out for its cells as %s (rollout %d, %s)\n", k.Name, cell.Operator.Name, name, k.rollouts, time.Since(start).Round(100*time.Millisecond))
	}
	k.serving = slot
	return nil
}

// await polls the operator's reset through the aggregator until the operator of slot
// answers it, bounded by the rollout's timeout: after the APIService changed, the aggregator
// may still reach the operator it pointed at before.
func (k *KindTier) await(ctx context.Context, hc *http.Client, slot string) error {
	var why string
	err := wait.PollUntilContextTimeout(ctx, deployPoll, k.timeouts.Rollout.Duration, true, func(ctx context.Context) (bool, error) {
		h, err := k.harnessRequest(ctx, hc, http.MethodPost, resetPath, nil)
		if err != nil {
			why = err.Error()
			return false, nil
		}
		if got := h.Get(fakeoperator.InstanceHeader); got != slot {
			why = fmt.Sprintf("the aggregator reaches operator instance %q, not %s", got, slot)
			return false, nil
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("kind cluster %s: waiting for operator %s to answer: %s (%w)", k.Name, SlotName(slot), why, err)
	}
	return nil
}
