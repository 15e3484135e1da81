// Package tier stands an operator up for a cell and hands the cell an Endpoint — a client
// configuration, the journal of what reached the operator, the licence authority, and Close
// — whatever the tier. Each tier is a Tier (Start a cell's operator, Stop): Fake, in
// process; APIServer, behind a real kube-apiserver's aggregator (etcd and kube-apiserver on
// loopback, the fake registered as an APIService); KindPool, on kind clusters, one per
// Kubernetes version (KindTier: made with kind's Go API on a node image built here where
// none can be pulled, the fake deployed from deploy/ once per operator configuration, kept,
// and reset between cells, or a real operator from its Helm chart, behind the journal's recording proxy).
// It also holds what those need: the kind preflight, the project's docker network,
// DeployOperator. Every wait they make is bounded by the matrix's Timeouts.
package tier
