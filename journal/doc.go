// Package journal holds everything that records requests, in one entry type
// (contract.Entry): the bounded Journal the fake operator keeps of what reached it; the
// recording Proxy that gives any cluster (a real operator's included) such a journal, in
// front of it on a loopback port; the recording Transport under a reference client's header
// layer, the harness's own record of what the client sent on its side of the wire; and
// WriteKubeconfig, the kubeconfig a client reaches a recorded endpoint with.
package journal
