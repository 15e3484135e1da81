package credentials

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
)

// csrInfo and csr mirror PKCS#10; the SPKI is kept raw so the client's tagging survives.
type csrInfo struct {
	Version    int
	Subject    asn1.RawValue
	PublicKey  asn1.RawValue
	Attributes asn1.RawValue `asn1:"tag:0"`
}

type certificationRequest struct {
	Info               asn1.RawValue
	SignatureAlgorithm pkix.AlgorithmIdentifier
	Signature          asn1.BitString
}

// CSROptions says how NewCSR encodes the request.
type CSROptions struct {
	// StandardOID tags the public key with 1.3.101.112 instead of the mirrord client's
	// 1.3.101.110 with a NULL parameter.
	StandardOID bool
}

// NewCSR returns a PEM "CERTIFICATE REQUEST" with subject CN=commonName and nothing else,
// signed with key, encoded as the mirrord client encodes it unless opts says otherwise.
func NewCSR(key ed25519.PrivateKey, commonName string, opts CSROptions) ([]byte, error) {
	subject, err := asn1.Marshal(pkix.Name{CommonName: commonName}.ToRDNSequence())
	if err != nil {
		return nil, fmt.Errorf("marshalling csr subject: %w", err)
	}
	tagging := TaggedAsMirrord
	if opts.StandardOID {
		tagging = TaggedStandard
	}
	spki, err := MarshalSPKI(key.Public().(ed25519.PublicKey), tagging)
	if err != nil {
		return nil, err
	}
	info, err := asn1.Marshal(csrInfo{
		Subject:    asn1.RawValue{FullBytes: subject},
		PublicKey:  asn1.RawValue{FullBytes: spki},
		Attributes: asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: []byte{}},
	})
	if err != nil {
		return nil, fmt.Errorf("marshalling csr info: %w", err)
	}
	sig, err := key.Sign(rand.Reader, info, &ed25519.Options{})
	if err != nil {
		return nil, fmt.Errorf("signing csr: %w", err)
	}
	der, err := asn1.Marshal(certificationRequest{
		Info:               asn1.RawValue{FullBytes: info},
		SignatureAlgorithm: pkix.AlgorithmIdentifier{Algorithm: OIDEd25519},
		Signature:          asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)},
	})
	if err != nil {
		return nil, fmt.Errorf("marshalling csr: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), nil
}

// CSR is a verified certificate request.
type CSR struct {
	CommonName string
	PublicKey  ed25519.PublicKey
	// RawSPKI is the request's SubjectPublicKeyInfo as sent; issued certificates copy it.
	RawSPKI []byte
}

// ParseCSR reads a PEM (or DER) certificate request and verifies its Ed25519 signature by
// hand, accepting both public-key tags.
func ParseCSR(data []byte) (*CSR, error) {
	der := data
	if block, _ := pem.Decode(data); block != nil {
		if block.Type != "CERTIFICATE REQUEST" && block.Type != "NEW CERTIFICATE REQUEST" {
			return nil, fmt.Errorf("parsing csr: PEM block is %q, want CERTIFICATE REQUEST", block.Type)
		}
		der = block.Bytes
	}
	req, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return nil, fmt.Errorf("parsing csr: %w", err)
	}
	pub, err := ParseSPKI(req.RawSubjectPublicKeyInfo)
	if err != nil {
		return nil, fmt.Errorf("parsing csr: %w", err)
	}
	if !ed25519.Verify(pub, req.RawTBSCertificateRequest, req.Signature) {
		return nil, errors.New("parsing csr: signature does not verify")
	}
	if req.Subject.CommonName == "" {
		return nil, errors.New("parsing csr: subject has no common name")
	}
	return &CSR{CommonName: req.Subject.CommonName, PublicKey: pub, RawSPKI: req.RawSubjectPublicKeyInfo}, nil
}

// ParseCertificateRequestPEM returns the DER of a CERTIFICATE REQUEST PEM block, without
// verifying it.
func ParseCertificateRequestPEM(data []byte) ([]byte, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		return nil, errors.New("parsing csr: no CERTIFICATE REQUEST PEM block")
	}
	return block.Bytes, nil
}
