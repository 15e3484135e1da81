# shellcheck shell=bash
# The versions of everything the project builds from Go modules or Debian's packages for its
# tiers: one place. Sourced by the build scripts; a change here changes their cache keys.
# shellcheck disable=SC2034 # read by the scripts that source this file

KUBERNETES_VERSION="v1.37.2"
# k8s.io/kubernetes maps its staging modules (k8s.io/api, k8s.io/apiserver, …) to ./staging;
# from the module proxy they come at this version.
KUBERNETES_STAGING_VERSION="v0.37.2"
ETCD_VERSION="v3.6.16"
