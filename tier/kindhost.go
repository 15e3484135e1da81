package tier

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"
)

// Host is what this machine lets kind's nodes do, read off the machine.
type Host struct {
	// CgroupV1 is true where /sys/fs/cgroup is not the unified (v2) hierarchy.
	CgroupV1 bool `json:"cgroupV1"`
	// SysResource is true where the capability bounding set holds CAP_SYS_RESOURCE.
	SysResource bool `json:"sysResource"`
}

// HostFacts reads the machine.
func HostFacts() Host {
	h := Host{SysResource: true}
	var fs unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &fs); err == nil {
		h.CgroupV1 = fs.Type != unix.CGROUP2_SUPER_MAGIC
	}
	if status, err := os.ReadFile("/proc/self/status"); err == nil {
		for line := range strings.SplitSeq(string(status), "\n") {
			if hex, ok := strings.CutPrefix(line, "CapBnd:"); ok {
				if mask, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64); err == nil {
					h.SysResource = mask&(1<<unix.CAP_SYS_RESOURCE) != 0
				}
			}
		}
	}
	return h
}

// KindNetwork is the docker network the harness makes for kind's nodes (kind reuses a
// network that exists), with an explicit subnet; dockerd started by make docker-up adds
// no NAT to it.
const (
	KindNetwork       = "opconform-kind"
	KindNetworkSubnet = "10.250.0.0/24"
)

// EnsureKindNetwork creates KindNetwork unless it exists; it reports whether it made it.
// Parallel processes of a run call it before they make clusters: one makes the network,
// the others find it (a create that loses the race is followed by bounded inspects). Each
// docker command is bounded by wait.
func EnsureKindNetwork(ctx context.Context, wait time.Duration) (bool, error) {
	if _, err := Docker(ctx, wait, "network", "inspect", KindNetwork); err == nil {
		return false, nil
	}
	out, err := Docker(ctx, wait, "network", "create", "--driver", "bridge", "--subnet", KindNetworkSubnet,
		"--opt", "com.docker.network.bridge.enable_ip_masquerade=false", "--label", "io.opconform.network=kind", KindNetwork)
	if err != nil {
		// another process of the run may be making it: its pool is taken before the network
		// can be inspected
		for range 20 {
			if _, ierr := Docker(ctx, wait, "network", "inspect", KindNetwork); ierr == nil {
				return false, nil
			}
			select {
			case <-ctx.Done():
				return false, ctx.Err()
			case <-time.After(250 * time.Millisecond):
			}
		}
		return false, fmt.Errorf("creating docker network %s (%s): %s", KindNetwork, KindNetworkSubnet, out)
	}
	return true, nil
}

// RemoveKindNetwork removes KindNetwork once no node uses it, each docker command bounded
// by wait.
func RemoveKindNetwork(ctx context.Context, wait time.Duration) error {
	if _, err := Docker(ctx, wait, "network", "inspect", KindNetwork); err != nil {
		return nil
	}
	if out, err := Docker(ctx, wait, "network", "rm", KindNetwork); err != nil {
		return fmt.Errorf("removing docker network %s: %s", KindNetwork, out)
	}
	return nil
}

// kindConfig is the cluster: one control-plane node of image, the API server on
// loopback, and what this machine needs, through kind's own configuration:
//   - on cgroup v1, the kubelet's failCgroupV1: false (recent kubelets refuse v1 without it);
//   - without CAP_SYS_RESOURCE, containerd's restrict_oom_score_adj (pod sandboxes ask for a
//     negative oom score, which needs that capability; kind sets it for rootless nodes too);
//   - with the image built here, no default CNI: the node carries its own pod network
//     (scripts/build-node-image.sh), as kind's kindnetd image cannot be had.
func kindConfig(image string, built bool, h Host) *v1alpha4.Cluster {
	cfg := &v1alpha4.Cluster{
		TypeMeta:   v1alpha4.TypeMeta{Kind: "Cluster", APIVersion: "kind.x-k8s.io/v1alpha4"},
		Nodes:      []v1alpha4.Node{{Role: v1alpha4.ControlPlaneRole, Image: image}},
		Networking: v1alpha4.Networking{IPFamily: v1alpha4.IPv4Family, APIServerAddress: "127.0.0.1", DisableDefaultCNI: built},
	}
	// Two kube-apiserver settings, on every machine:
	//   - the aggregator dials the operator's ready endpoints itself, not its Service's
	//     ClusterIP through kube-proxy: right after a rollout kube-proxy's rules (and
	//     conntrack) can still lead a new connection to the pod that went, and a WebSocket
	//     connect then timed out in the aggregator's dial (error dialing backend: i/o timeout);
	//   - the cluster's keys are ECDSA P-256, not RSA 2048: kube-apiserver signs a TLS
	//     handshake with its front-proxy client key for every WebSocket connect it passes to
	//     the operator, and with its serving key for every client command, and an RSA
	//     signature costs about twenty ECDSA ones (RSA handshakes were a fifth of its CPU).
	cfg.KubeadmConfigPatchesJSON6902 = append(cfg.KubeadmConfigPatchesJSON6902, v1alpha4.PatchJSON6902{
		Group: "kubeadm.k8s.io", Version: "v1beta4", Kind: "ClusterConfiguration",
		Patch: "- op: add\n  path: /apiServer/extraArgs/-\n  value: {name: enable-aggregator-routing, value: \"true\"}\n" +
			"- op: add\n  path: /encryptionAlgorithm\n  value: ECDSA-P256\n",
	})
	// containerd's CRI plugin (2.x) reads every container's stats through its shim once a
	// second (stats_collect_period), for CPU rates that only a metrics pipeline reads: with
	// the clusters' kept operators, containerd and its shims took 0.3 of the two cores here
	// while the clusters stood idle, and 0.07 with ten seconds. A containerd without the key
	// warns and ignores it.
	cfg.ContainerdConfigPatches = append(cfg.ContainerdConfigPatches, "[plugins.\"io.containerd.cri.v1.runtime\"]\n  stats_collect_period = \"10s\"\n")
	if h.CgroupV1 {
		cfg.KubeadmConfigPatches = append(cfg.KubeadmConfigPatches, "kind: KubeletConfiguration\nfailCgroupV1: false\n")
	}
	if !h.SysResource {
		cfg.ContainerdConfigPatches = append(cfg.ContainerdConfigPatches, "[plugins.\"io.containerd.grpc.v1.cri\"]\n  restrict_oom_score_adj = true\n")
	}
	return cfg
}

// The kind configuration a cluster was made with, by digest, is kept in the cluster, so that
// a run reuses a kept cluster only when its own configuration is the same: a cluster kept
// from before a change here (its keys, containerd's settings) is made anew.
const (
	configMapName = "opconform-kind"
	configMapKey  = "config"
)

// configDigest is the digest of cfg.
func configDigest(cfg *v1alpha4.Cluster) string {
	data, _ := json.Marshal(cfg) // strings, numbers and slices of them: it cannot fail
	return shortHash(string(data))
}

// recordConfig writes the digest of the cluster's kind configuration into the cluster.
func (k *KindTier) recordConfig(ctx context.Context) error {
	cs, err := kubernetes.NewForConfig(k.admin)
	if err != nil {
		return fmt.Errorf("the cluster's client: %w", err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: configMapName, Namespace: metav1.NamespaceSystem}, Data: map[string]string{configMapKey: k.config}}
	if _, err := cs.CoreV1().ConfigMaps(metav1.NamespaceSystem).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("recording the cluster's kind configuration in %s/%s: %w", metav1.NamespaceSystem, configMapName, err)
	}
	return nil
}

// configDiffers says how the kind configuration the cluster of cs was made with differs
// from this run's, or "" when it is the same.
func (k *KindTier) configDiffers(ctx context.Context, cs kubernetes.Interface) string {
	cm, err := cs.CoreV1().ConfigMaps(metav1.NamespaceSystem).Get(ctx, configMapName, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return fmt.Sprintf("it has no record of its kind configuration (%s/%s): it was made before this project kept one", metav1.NamespaceSystem, configMapName)
	case err != nil:
		return fmt.Sprintf("reading its kind configuration's record (%s/%s): %v", metav1.NamespaceSystem, configMapName, err)
	case cm.Data[configMapKey] != k.config:
		return fmt.Sprintf("it was made with another kind configuration (digest %s, this run's %s)", cm.Data[configMapKey], k.config)
	}
	return ""
}
