package tier

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	aggregator "k8s.io/kube-aggregator/pkg/client/clientset_generated/clientset"
	"k8s.io/utils/clock"
	"sigs.k8s.io/kind/pkg/cluster"
	"sigs.k8s.io/kind/pkg/cluster/nodes"
	"sigs.k8s.io/kind/pkg/cluster/nodeutils"
	kindexec "sigs.k8s.io/kind/pkg/exec"
	kindlog "sigs.k8s.io/kind/pkg/log"

	"github.com/opconform/opconform/contract"
	"github.com/opconform/opconform/credentials"
	"github.com/opconform/opconform/fakeoperator"
	"github.com/opconform/opconform/fixtures/certs"
	"github.com/opconform/opconform/matrix"
	"github.com/opconform/opconform/pki"
)

// KindTier is one kind cluster of one Kubernetes version, made with kind's Go API, with
// the fake operator image loaded; it keeps every operator it deploys, and each cell points
// the APIService at the one it needs (kindslots.go).
type KindTier struct {
	// Name is unique per run; Kubeconfig reaches the cluster as its admin.
	Name       string
	Kubeconfig string
	admin      *rest.Config
	provider   *cluster.Provider
	keep       bool
	image      string
	manifests  []string
	licenseKey []byte
	// installed names the real operator installed with Helm, if any.
	installed string
	// progress receives a line per long step (cluster, image load, each rollout).
	progress io.Writer
	// timeouts bound its waits (KindInput.Timeouts).
	timeouts matrix.Timeouts
	// config is the digest of the kind configuration the cluster is made with (configDigest).
	config string
	// servingCA signs the operator's serving certificate in every deploy. imageID is the
	// operator image's ID, and generation a hash of it, the manifests and the licence
	// (generationOf): kept operators of another generation are deleted (collect). serving
	// is the slot of the operator the APIService points at ("" not known); rollouts counts
	// the deploys a cell made, predeployed holds the slots deployed when the cluster was
	// ready (predeploy), switches counts the switches to an operator deployed before.
	servingCA   *pki.CA
	imageID     string
	generation  string
	serving     string
	rollouts    int
	switches    int
	predeployed map[string]bool
	// cells counts the cells that started an operator here.
	cells int
}

// KindInput is how StartKind makes a cluster.
type KindInput struct {
	// Kubernetes is the version; NodeImage the node image prepare chose for it (pinned in
	// NodeImages, or built here), and Host the machine's facts kind's configuration follows.
	Kubernetes string
	NodeImage  string
	Host       Host
	// Progress receives kind's progress lines (cluster creation, image load); may be nil.
	Progress io.Writer
	// LogsDir is where `kind export logs` goes when creating the cluster fails.
	LogsDir string
	// Dir holds the kubeconfig and image archive.
	Dir string
	// Image is the fake operator image, built locally (scripts/image.sh build).
	Image string
	// Manifests are deploy/'s files; LicenseKeyPEM the operator's licence key.
	Manifests     []string
	LicenseKeyPEM []byte
	// Keep (KEEP_CLUSTER=1) leaves the cluster running at Stop, and reuses one the project
	// left: the cluster is named for its Kubernetes version and the process (Process; 0 where
	// one process makes the run's only cluster of the version, whichever process that is),
	// and a cluster of that name is reused when it is on the project's network, runs this
	// node image and is healthy; otherwise it is replaced.
	Keep    bool
	Process int
	// Operators are the fake operators' flags (OperatorArgs) the cluster's cells will need:
	// each that the cluster does not keep is deployed when the cluster is ready, without
	// waiting, so that they start together (KindPool.Operators).
	Operators [][]string
	// Timeouts bound the preflight, the cluster's creation or reuse, rollouts and the
	// harness's requests.
	Timeouts matrix.Timeouts
}

// StartKind creates the cluster (or reuses a kept one) from the node image prepare chose,
// and loads the operator image into its nodes.
func StartKind(ctx context.Context, in KindInput) (*KindTier, error) {
	image := in.NodeImage
	if image == "" {
		return nil, fmt.Errorf("%w: no node image was prepared for Kubernetes %s (opconform prepare --tier kind)", ErrKindUnavailable, in.Kubernetes)
	}
	if _, err := EnsureKindNetwork(ctx, in.Timeouts.Preflight.Duration); err != nil {
		return nil, err // not "unavailable": prepare found that kind can run here
	}
	// kind puts its nodes on this network, reusing it as it is
	if err := os.Setenv("KIND_EXPERIMENTAL_DOCKER_NETWORK", KindNetwork); err != nil {
		return nil, fmt.Errorf("setting KIND_EXPERIMENTAL_DOCKER_NETWORK: %w", err)
	}
	progress := in.Progress
	if progress == nil {
		progress = io.Discard
	}
	name := ClusterPrefix + strings.ReplaceAll(strings.TrimPrefix(in.Kubernetes, "v"), ".", "-")
	switch {
	case in.Keep && in.Process == 0: // the run's only cluster of its version
	case in.Keep:
		name += fmt.Sprintf("-p%d", in.Process)
	default:
		name += "-"
		suffix := make([]byte, 4)
		if _, err := rand.Read(suffix); err != nil {
			return nil, fmt.Errorf("the cluster's name: %w", err)
		}
		name += hex.EncodeToString(suffix)
	}
	k := &KindTier{
		Name:       name,
		Kubeconfig: filepath.Join(in.Dir, "kubeconfig"),
		provider:   cluster.NewProvider(cluster.ProviderWithDocker(), cluster.ProviderWithLogger(progressLogger{w: progress, prefix: name + ": "})),
		keep:       in.Keep, image: in.Image, manifests: in.Manifests, licenseKey: in.LicenseKeyPEM,
		progress: progress, timeouts: in.Timeouts, predeployed: map[string]bool{},
	}
	cfg := kindConfig(image, image == BuiltNodeImage(in.Kubernetes), in.Host)
	k.config = configDigest(cfg)
	if in.Keep {
		reused, why := k.reuse(ctx, image)
		if reused {
			fmt.Fprintf(progress, "%s: reusing the kind cluster of Kubernetes %s this project left (KEEP_CLUSTER=1); loading %s into its nodes\n", name, in.Kubernetes, in.Image)
			if err := k.prepare(ctx, in); err != nil {
				return nil, fmt.Errorf("kind cluster %s: %w", k.Name, err)
			}
			return k, nil
		}
		if why != "" {
			fmt.Fprintf(progress, "%s: replacing the cluster left here: %s\n", name, why)
			if err := k.provider.Delete(k.Name, k.Kubeconfig); err != nil {
				return nil, fmt.Errorf("kind cluster %s: deleting the cluster left here: %w", k.Name, err)
			}
		}
	}
	fmt.Fprintf(progress, "%s: creating a kind cluster of Kubernetes %s from %s on docker network %s\n", name, in.Kubernetes, image, KindNetwork)
	start := time.Now()
	err := k.provider.Create(k.Name,
		cluster.CreateWithV1Alpha4Config(cfg),
		cluster.CreateWithKubeconfigPath(k.Kubeconfig),
		cluster.CreateWithWaitForReady(in.Timeouts.KindCluster.Duration),
		cluster.CreateWithDisplayUsage(false), cluster.CreateWithDisplaySalutation(false))
	if err == nil {
		k.admin, err = clientcmd.BuildConfigFromFlags("", k.Kubeconfig)
	}
	if err == nil {
		err = k.recordConfig(ctx)
	}
	if err == nil {
		fmt.Fprintf(progress, "%s: ready in %s; loading %s into its nodes\n", name, time.Since(start).Round(time.Second), in.Image)
		err = k.prepare(ctx, in)
	}
	if err != nil {
		if tail := commandTail(err, 15); tail != "" {
			err = fmt.Errorf("%w; the failed command's output ends:\n%s", err, tail)
		}
		if in.LogsDir != "" {
			logs := filepath.Join(in.LogsDir, k.Name)
			if lerr := k.provider.CollectLogs(k.Name, logs); lerr == nil {
				err = fmt.Errorf("%w\n(kind's logs of every node: %s)", err, logs)
			}
		}
		_ = k.provider.Delete(k.Name, k.Kubeconfig)
		return nil, fmt.Errorf("kind cluster %s: %w", k.Name, err)
	}
	return k, nil
}

// ClusterPrefix begins the name of every kind cluster the project makes (and make
// kind-down deletes).
const ClusterPrefix = "opconform-"

// KindDown deletes every kind cluster the project made (named ClusterPrefix…; kind removes
// their nodes with their volumes) and the project's docker network, and nothing else; it
// returns what it deleted, a line each; each docker command is bounded by wait.
func KindDown(ctx context.Context, wait time.Duration) ([]string, error) {
	provider := cluster.NewProvider(cluster.ProviderWithDocker())
	names, err := provider.List()
	if err != nil {
		return nil, fmt.Errorf("listing kind clusters: %w", err)
	}
	var done []string
	for _, name := range names {
		if !strings.HasPrefix(name, ClusterPrefix) {
			continue
		}
		if err := provider.Delete(name, ""); err != nil {
			return done, fmt.Errorf("deleting kind cluster %s: %w", name, err)
		}
		done = append(done, "deleted kind cluster "+name+" (its nodes and their volumes)")
	}
	if _, err := Docker(ctx, wait, "network", "inspect", KindNetwork); err == nil {
		if err := RemoveKindNetwork(ctx, wait); err != nil {
			return done, err
		}
		done = append(done, "deleted docker network "+KindNetwork)
	}
	return done, nil
}

// prepare loads the operator image into the nodes and creates the workloads the fake
// operator's inventory names, for clients that resolve them (idempotent: a reused cluster
// has them).
func (k *KindTier) prepare(ctx context.Context, in KindInput) error {
	if err := k.setImage(ctx); err != nil {
		return err
	}
	if err := k.loadImage(ctx, in.Dir); err != nil {
		return fmt.Errorf("loading the operator image: %w", err)
	}
	k.direct(ctx)
	cs, err := kubernetes.NewForConfig(k.admin)
	if err != nil {
		return fmt.Errorf("the cluster's client: %w", err)
	}
	if err := k.collect(ctx, cs); err != nil {
		return err
	}
	if err := k.predeploy(ctx, cs, in.Operators); err != nil {
		return err
	}
	return workloads(ctx, cs)
}

// direct points the harness and its clients at kube-apiserver on the node's address on the
// project's network, where the host reaches it there, rather than at the port Docker
// publishes on 127.0.0.1: behind that port is docker-proxy, which copies every byte of every
// connection in user space (9 s of CPU in a run of both Kubernetes versions here). The
// server's certificate names the node's address (kubeadm's advertise address); where the
// address does not answer (Docker Desktop's VM, say) nothing changes. The kubeconfig file
// keeps the published port.
func (k *KindTier) direct(ctx context.Context) {
	out, err := Docker(ctx, k.timeouts.Preflight.Duration, "inspect", "--format",
		`{{with index .NetworkSettings.Networks "`+KindNetwork+`"}}{{.IPAddress}}{{end}}`, k.node())
	ip := net.ParseIP(strings.TrimSpace(out))
	if err != nil || ip == nil {
		return
	}
	cfg := rest.CopyConfig(k.admin)
	cfg.Host = "https://" + net.JoinHostPort(ip.String(), "6443")
	if readyz(ctx, cfg, k.timeouts.Probe.Duration) == nil {
		fmt.Fprintf(k.progress, "%s: the harness and its clients reach kube-apiserver at %s, on docker network %s\n", k.Name, cfg.Host, KindNetwork)
		k.admin.Host = cfg.Host
	}
}

// readyz asks the kube-apiserver of cfg for /readyz, bounded by wait: nil when it answers
// 200, else what it did.
func readyz(ctx context.Context, cfg *rest.Config, wait time.Duration) error {
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.Host+"/readyz", nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("its API server does not answer: %w", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("its API server is not ready: %s", resp.Status)
	}
	return nil
}

// reuse takes the cluster of k's name that an earlier run left, when it is the project's
// (on its docker network), runs image, answers /readyz and was made with this run's kind
// configuration; why says what keeps it from being reused ("" when there is none to reuse).
func (k *KindTier) reuse(ctx context.Context, image string) (bool, string) {
	names, err := k.provider.List()
	if err != nil || !slices.Contains(names, k.Name) {
		return false, ""
	}
	out, err := Docker(ctx, k.timeouts.Preflight.Duration, "inspect", "--format", "{{.State.Paused}} {{.Config.Image}} {{range $n, $_ := .NetworkSettings.Networks}}{{$n}} {{end}}", k.node())
	if err != nil {
		return false, "its node does not answer docker inspect: " + strings.TrimSpace(out)
	}
	paused, facts, _ := strings.Cut(strings.TrimSpace(out), " ")
	fields := strings.Fields(facts) // its image, then its networks
	if len(fields) < 2 || fields[0] != image || !slices.Contains(fields[1:], KindNetwork) {
		return false, fmt.Sprintf("its node runs %q on %v, not %s on %s", firstField(fields), fields[min(1, len(fields)):], image, KindNetwork)
	}
	if paused == "true" { // a run that stopped while it had parked the cluster
		if err := k.Unpark(); err != nil {
			return false, err.Error()
		}
	}
	if err := k.provider.ExportKubeConfig(k.Name, k.Kubeconfig, false); err != nil {
		return false, "its kubeconfig: " + err.Error()
	}
	admin, err := clientcmd.BuildConfigFromFlags("", k.Kubeconfig)
	if err != nil {
		return false, "its kubeconfig: " + err.Error()
	}
	if err := readyz(ctx, admin, k.timeouts.KindReuse.Duration); err != nil {
		return false, err.Error()
	}
	cs, err := kubernetes.NewForConfig(admin)
	if err != nil {
		return false, "its client: " + err.Error()
	}
	if why := k.configDiffers(ctx, cs); why != "" {
		return false, why
	}
	k.admin = admin
	return true, ""
}

func firstField(fields []string) string {
	if len(fields) == 0 {
		return ""
	}
	return fields[0]
}

// commandTail is the last n lines of the output of the command behind a kind error (kubeadm
// init, a docker run), which kind keeps beside its error rather than in it.
func commandTail(err error, n int) string {
	re := kindexec.RunErrorForError(err)
	if re == nil {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(re.Output)), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// progressLogger is kind's logger, writing its user-facing lines (V(0), warnings, errors)
// to w, one line each.
type progressLogger struct {
	w      io.Writer
	prefix string
}

func (l progressLogger) Warn(m string)                        { fmt.Fprintln(l.w, l.prefix+"warning: "+m) }
func (l progressLogger) Warnf(f string, a ...any)             { l.Warn(fmt.Sprintf(f, a...)) }
func (l progressLogger) Error(m string)                       { fmt.Fprintln(l.w, l.prefix+"error: "+m) }
func (l progressLogger) Errorf(f string, a ...any)            { l.Error(fmt.Sprintf(f, a...)) }
func (l progressLogger) V(v kindlog.Level) kindlog.InfoLogger { return progressInfo{l: l, on: v == 0} }

type progressInfo struct {
	l  progressLogger
	on bool
}

func (i progressInfo) Info(m string) {
	if i.on {
		fmt.Fprintln(i.l.w, i.l.prefix+strings.TrimSpace(m))
	}
}
func (i progressInfo) Infof(f string, a ...any) { i.Info(fmt.Sprintf(f, a...)) }
func (i progressInfo) Enabled() bool            { return i.on }

// loadImage loads the operator image into every node, as `kind load docker-image` does,
// unless every node has it already (a reused cluster, the image unchanged).
func (k *KindTier) loadImage(ctx context.Context, dir string) error {
	all, err := k.provider.ListInternalNodes(k.Name)
	if err != nil {
		return fmt.Errorf("the nodes of cluster %s: %w", k.Name, err)
	}
	if !slices.ContainsFunc(all, func(n nodes.Node) bool { return !k.hasImage(ctx, n) }) {
		fmt.Fprintf(k.progress, "%s: its nodes have %s (%s) already\n", k.Name, k.image, k.imageID)
		return nil
	}
	archive := filepath.Join(dir, "image.tar")
	if out, err := Docker(ctx, k.timeouts.Preflight.Duration, "save", "-o", archive, k.image); err != nil {
		return fmt.Errorf("saving %s: %s", k.image, out)
	}
	defer os.Remove(archive)
	for _, n := range all {
		f, err := os.Open(archive)
		if err != nil {
			return fmt.Errorf("the operator image's archive: %w", err)
		}
		err = nodeutils.LoadImageArchive(n, f)
		f.Close()
		if err != nil {
			return fmt.Errorf("loading %s into %s: %w", k.image, n.String(), err)
		}
	}
	return nil
}

// hasImage reports whether node n's containerd has the operator image of this image ID.
func (k *KindTier) hasImage(ctx context.Context, n nodes.Node) bool {
	ctx, cancel := context.WithTimeout(ctx, k.timeouts.Preflight.Duration)
	defer cancel()
	var out strings.Builder
	cmd := n.CommandContext(ctx, "crictl", "inspecti", "-o", "go-template", "--template", "{{.status.id}}", k.image)
	cmd.SetStdout(&out)
	return cmd.Run() == nil && strings.TrimSpace(out.String()) == k.imageID
}

// OperatorArgs are the fake operator's flags for a cell: version, profile, minimum client
// version, header naming, the aggregator's users it does not journal, and the fixtures'
// licence (licenseEnd). The clock is no flag: cells of one operator whose clients keep
// different clocks share it, and each reset sets the cell's clock (ResetQuery).
func OperatorArgs(cell matrix.Cell) []string {
	args := []string{
		"--operator-version=" + cell.Operator.Version,
		"--license-name=" + certs.License.Name, "--license-organization=" + certs.License.Organization,
		"--license-plan=" + certs.License.Plan, "--license-subscription-id=" + certs.License.SubscriptionID,
		"--license-fingerprint=" + certs.Fingerprint,
		"--license-expire-at=" + licenseEnd.Format("2006-01-02"),
		"--journal-skip-users=" + strings.Join(aggregatorUsers, ","),
	}
	if cell.Operator.Profile != "" {
		args = append(args, "--profile="+cell.Operator.Profile)
	}
	if cell.Operator.MinClientVersion != "" {
		args = append(args, "--min-client-version="+cell.Operator.MinClientVersion)
	}
	if cell.Contract.Name != "" && cell.Contract.Name != matrix.DefaultContract {
		args = append(args, "--headers="+cell.Contract.Name)
	}
	return args
}

// aggregatorUsers are the users kube-apiserver's aggregator sends its own requests to the
// operator as (k8s.io/kube-aggregator: its availability checks and discovery as
// system:kube-aggregator, its OpenAPI aggregation as system:aggregator). The operator serves
// them but does not journal them: they come at moments no cell controls, and a bounded
// journal (broken-journal-too-small keeps two entries) would drop a client's request for
// them, so that what a cell shows would vary from run to run.
var aggregatorUsers = []string{"system:kube-aggregator", "system:aggregator"}

// licenseEnd is the end date of the kind tier's operator licence, one for the whole run: a
// year after the first of this month, or after the fixtures' epoch when that is later, so
// that it holds on either clock. It is one of the operator's flags, so it changes once a
// month: a kept operator serves every run of the month.
var licenseEnd = func() time.Time {
	now := time.Now().UTC()
	from := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	if certs.Epoch.After(from) {
		from = certs.Epoch
	}
	return from.AddDate(1, 0, 0)
}()

// ResetQuery is the reset's query that puts the operator on clk: a fixed clock at its
// instant, else the machine's clock.
func ResetQuery(clk clock.PassiveClock) string {
	if _, real := clk.(clock.RealClock); real {
		return "?clock=real"
	}
	return "?clock=" + url.QueryEscape(clk.Now().UTC().Format(time.RFC3339))
}

// kindAdmin is the user of kind's admin kubeconfig, which clients use.
const kindAdmin = "kubernetes-admin"

// journalPath, issuingPath and resetPath reach the operator's harness endpoints through
// kube-apiserver's aggregator, under the operator's API group: 2 ms a request here, where
// its service proxy (/api/v1/namespaces/…/services/…/proxy/) took 9, reading the Service
// from etcd and dialling the pod anew for every request.
const (
	harnessPath = contract.HarnessGroupPrefix
	journalPath = harnessPath + "journal"
	issuingPath = harnessPath + "issuing"
	resetPath   = harnessPath + "reset"
)

// Start makes the cell's operator serve, when another does: the one kept for its flags, else
// a rollout (serve); then a reset (its sessions, copy targets, issuing and journal, and the
// cell's clock), whose answer must come from that operator; it returns the endpoint clients
// use: the cluster, as its admin.
func (k *KindTier) Start(ctx context.Context, cell matrix.Cell, clk clock.PassiveClock) (*Endpoint, error) {
	if cell.Operator.Kind == matrix.KindReal {
		return k.StartReal(ctx, cell)
	}
	hc, err := rest.HTTPClientFor(k.admin)
	if err != nil {
		return nil, fmt.Errorf("kind cluster %s: %w", k.Name, err)
	}
	k.cells++
	args := OperatorArgs(cell)
	slot := k.slotFor(args)
	if slot != k.serving {
		if err := k.serve(ctx, cell, slot, args, hc); err != nil {
			return nil, fmt.Errorf("operator %s: %w", cell.Operator.Name, err)
		}
	}
	h, err := k.harnessRequest(ctx, hc, http.MethodPost, resetPath+ResetQuery(clk), nil)
	if err != nil {
		return nil, fmt.Errorf("kind cluster %s: resetting operator %s: %w", k.Name, cell.Operator.Name, err)
	}
	if got := h.Get(fakeoperator.InstanceHeader); got != slot {
		k.serving = ""
		return nil, fmt.Errorf("kind cluster %s: resetting operator %s: the aggregator reached operator instance %q, not %s", k.Name, cell.Operator.Name, got, slot)
	}
	key, err := certs.LicenseKey()
	if err != nil {
		return nil, fmt.Errorf("the fixtures' licence key: %w", err)
	}
	authority, err := credentials.NewAuthority(certs.License, key)
	if err != nil {
		return nil, fmt.Errorf("the fixtures' licence authority: %w", err)
	}
	j := &kindJournal{read: func(since uint64, out *[]contract.Entry) (uint64, error) {
		h, err := k.harnessRequest(context.Background(), hc, http.MethodGet, journalPath+"?since="+strconv.FormatUint(since, 10), out)
		if err != nil {
			return 0, err
		}
		dropped, err := strconv.ParseUint(h.Get(fakeoperator.JournalDroppedHeader), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("the journal's %s header: %w", fakeoperator.JournalDroppedHeader, err)
		}
		return dropped, nil
	}}
	ep := &Endpoint{
		Config: rest.CopyConfig(k.admin), User: kindAdmin,
		Dropped: j.dropped.Load, Journal: j.entries,
		SetIssuing: func(ctx context.Context, as fakeoperator.Issuing) error {
			if _, err := k.harnessRequest(ctx, hc, http.MethodPut, issuingPath+"?as="+url.QueryEscape(string(as)), nil); err != nil {
				return fmt.Errorf("setting what the operator issues: %w", err)
			}
			return nil
		},
		Authority: authority, LicenseFingerprint: certs.Fingerprint, Close: func() {},
	}
	return ep, nil
}

// kindJournal is a cell's view of the operator's journal, read a piece at a time: each read
// asks only for the entries after the last one it saw (since=SEQ), so every entry crosses
// kube-apiserver and is decoded once, not once per read.
type kindJournal struct {
	read func(since uint64, out *[]contract.Entry) (uint64, error)

	mu   sync.Mutex
	last uint64           // the sequence number of the last entry read, kept or not
	kept []contract.Entry // the clients' requests read so far, in arrival order
	// dropped is how many entries the operator's journal had dropped at its last answer
	dropped atomic.Uint64
}

// entries returns the clients' requests the operator journalled so far: the admin's, whose
// kubeconfig clients use (the operator journals neither the harness's requests nor the
// aggregator's own). A read that fails adds nothing; the next one asks again from where the
// last good one ended.
func (j *kindJournal) entries() []contract.Entry {
	j.mu.Lock()
	defer j.mu.Unlock()
	var fresh []contract.Entry
	if n, err := j.read(j.last, &fresh); err == nil {
		j.dropped.Store(n)
		for _, e := range fresh {
			j.last = max(j.last, e.Seq)
			if e.RemoteUser == kindAdmin {
				j.kept = append(j.kept, e)
			}
		}
	}
	return slices.Clip(j.kept)
}

// deploy deploys the operator of slot with args, one serving CA for every deploy of the
// cluster, and with a non-zero wait waits that long at most for it to be available.
func (k *KindTier) deploy(ctx context.Context, slot string, args []string, used string, wait time.Duration) error {
	if err := k.ensureServingCA(); err != nil {
		return err
	}
	err := DeployOperator(ctx, k.admin, DeployInput{
		Manifests: k.manifests, Image: k.image, Args: args, LicenseKeyPEM: k.licenseKey,
		Wait: wait, Probe: k.timeouts.Probe.Duration, ServingCA: k.servingCA,
		Slot: slot, Labels: map[string]string{generationLabel: k.generation, usedLabel: used},
	})
	if err != nil {
		return fmt.Errorf("kind cluster %s: %w", k.Name, err)
	}
	return nil
}

// ensureServingCA makes the CA that signs the operators' serving certificates, once.
func (k *KindTier) ensureServingCA() error {
	if k.servingCA != nil {
		return nil
	}
	ca, err := pki.NewCA("mirrord-operator-ca")
	if err != nil {
		return fmt.Errorf("kind cluster %s: the operator's serving CA: %w", k.Name, err)
	}
	k.servingCA = ca
	return nil
}

// Summary says how many cells the cluster served with how many operator rollouts (those
// made when it was ready among them), and how many switches between the operators it keeps.
func (k *KindTier) Summary() string {
	return fmt.Sprintf("%s: %d operator rollouts (%d of them side by side when the cluster was ready) and %d switches to kept operators for %d cells",
		k.Name, k.rollouts+len(k.predeployed), len(k.predeployed), k.switches, k.cells)
}

// harnessRequest sends a request to one of the operator's harness endpoints through the
// aggregator, reads its answer into out (unless nil) and returns the answer's header.
func (k *KindTier) harnessRequest(ctx context.Context, hc *http.Client, method, path string, out any) (http.Header, error) {
	ctx, cancel := context.WithTimeout(ctx, k.timeouts.Request.Duration)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, k.admin.Host+path, nil)
	if err != nil {
		return nil, fmt.Errorf("the harness request: %w", err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("operator harness endpoint: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("operator harness endpoint: %s %s: %s", method, path, resp.Status)
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return nil, fmt.Errorf("operator harness endpoint: %s %s: %w", method, path, err)
		}
	}
	return resp.Header, nil
}

// Stop deletes the cluster, or with Keep says how to reach it and leaves it.
func (k *KindTier) Stop() (string, error) {
	if k.keep {
		serving := ""
		if k.serving != "" {
			serving = fmt.Sprintf("; the one serving last: kubectl --kubeconfig %s -n %s logs deploy/%s", k.Kubeconfig, deployNamespace, SlotName(k.serving))
		}
		return fmt.Sprintf("KEEP_CLUSTER=1: kept kind cluster %[1]s and its operators, one per configuration (the next run with "+
			"KEEP_CLUSTER=1 reuses them); reach it with: kubectl --kubeconfig %[2]s get apiservice %[3]s (the operators: "+
			"kubectl --kubeconfig %[2]s -n %[4]s get deployments -L %[5]s%[6]s); delete every cluster and network the project "+
			"made with: make kind-down", k.Name, k.Kubeconfig, apiServiceName, deployNamespace, SlotLabel, serving), nil
	}
	return "", k.provider.Delete(k.Name, k.Kubeconfig)
}

// Park pauses a kept cluster's node (docker pause) while the run uses another Kubernetes
// version's cluster, so that it takes no CPU; Unpark resumes it.
func (k *KindTier) Park() error { return k.onNode("pause", "pausing") }

// Unpark resumes a parked cluster's node.
func (k *KindTier) Unpark() error { return k.onNode("unpause", "resuming") }

// onNode runs docker verb on the cluster's node; doing names it in the error.
func (k *KindTier) onNode(verb, doing string) error {
	if out, err := Docker(context.Background(), k.timeouts.Preflight.Duration, verb, k.node()); err != nil {
		return fmt.Errorf("%s kind cluster %s: %w: %s", doing, k.Name, err, out)
	}
	return nil
}

// node is the cluster's one node container.
func (k *KindTier) node() string { return k.Name + "-control-plane" }

// Serving is how the operator is served on a cluster: its APIService and the Service it
// points at, the Service of the operator the last cell needed, that Service's endpoints and
// that operator's pods' IPs.
type Serving struct {
	APIService          string
	APIServiceAvailable bool
	APIServiceTarget    string
	Service             string
	EndpointIPs         []string
	PodIPs              []string
}

// OperatorServing reads how the cluster serves the operator.
func (k *KindTier) OperatorServing(ctx context.Context) (*Serving, error) {
	cs, err := kubernetes.NewForConfig(k.admin)
	if err != nil {
		return nil, fmt.Errorf("the cluster's client: %w", err)
	}
	ag, err := aggregator.NewForConfig(k.admin)
	if err != nil {
		return nil, fmt.Errorf("the aggregator client: %w", err)
	}
	if k.serving == "" {
		return nil, fmt.Errorf("kind cluster %s: no fake operator serves yet", k.Name)
	}
	name := SlotName(k.serving)
	s := &Serving{APIService: apiServiceName, Service: deployNamespace + "/" + name}
	svc, err := ag.ApiregistrationV1().APIServices().Get(ctx, apiServiceName, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("APIService %s: %w", apiServiceName, err)
	}
	s.APIServiceAvailable, _ = apiServiceAvailable(svc)
	if ref := svc.Spec.Service; ref != nil {
		s.APIServiceTarget = ref.Namespace + "/" + ref.Name
	}
	slices, err := cs.DiscoveryV1().EndpointSlices(deployNamespace).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + name})
	if err != nil {
		return nil, fmt.Errorf("the operator's endpoints: %w", err)
	}
	for _, sl := range slices.Items {
		for _, e := range sl.Endpoints {
			if e.Conditions.Ready != nil && *e.Conditions.Ready {
				s.EndpointIPs = append(s.EndpointIPs, e.Addresses...)
			}
		}
	}
	pods, err := cs.CoreV1().Pods(deployNamespace).List(ctx, metav1.ListOptions{LabelSelector: SlotLabel + "=" + k.serving})
	if err != nil {
		return nil, fmt.Errorf("the operator's pods: %w", err)
	}
	for _, p := range pods.Items {
		if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil {
			s.PodIPs = append(s.PodIPs, p.Status.PodIP)
		}
	}
	return s, nil
}
