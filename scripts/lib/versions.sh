# shellcheck shell=bash
# The versions of everything the project builds from Go modules or Debian's packages for its
# tiers: one place. Sourced by the build scripts; a change here changes their cache keys.
# shellcheck disable=SC2034 # read by the scripts that source this file

# The apiserver tier's Kubernetes, one the kind tier runs (matrix.yaml's kubernetes:), and
# the etcd its kubeadm asks for (kubeadm config images list): one build of each serves both
# tiers, as the node image's binaries come from the same cache directories.
KUBERNETES_VERSION="v1.37.0"
# k8s.io/kubernetes maps its staging modules (k8s.io/api, k8s.io/apiserver, …) to ./staging;
# from the module proxy they come at this version.
KUBERNETES_STAGING_VERSION="v0.37.0"
ETCD_VERSION="v3.7.0"

# The kind tier's node image, built here where kindest/node cannot be pulled
# (scripts/build-node-image.sh): what goes in beside the Kubernetes binaries.
DEBIAN_SUITE="bookworm"
CONTAINERD_VERSION="v2.4.2"
CRICTL_VERSION="v1.34.0"
# the sandbox image kind's containerd config names (images/base/files/etc/containerd)
PAUSE_IMAGE="registry.k8s.io/pause:3.10"
