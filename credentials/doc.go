// Package credentials holds the certificate side of the contract: Ed25519 key pairs, the
// CSRs the mirrord client sends, the licence authority that issues client certificates, and
// the checks an operator makes on a presented certificate. The client's encoding quirks
// (SPKI tagged with OID 1.3.101.110 and a NULL parameter, which crypto/x509 cannot verify)
// are produced and verified by hand, so real clients' certificates are read as they are.
package credentials
