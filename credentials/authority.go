package credentials

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"
)

// OIDLicenseInfo tags the licence-info extension of issued certificates. The real operator
// uses an unregistered OID of its own; this one is opconform's (under the UUID arc 2.25).
var OIDLicenseInfo = asn1.ObjectIdentifier{2, 25, 1669123405, 1}

// License describes the operator licence an authority issues certificates for.
type License struct {
	// Name is the licence name, e.g. "Acme's Enterprise License".
	Name string `json:"name"`
	// Organization names the licensee; the issuer name and CI common names use it.
	Organization string `json:"organization"`
	// Plan is "enterprise" or "teams"; only enterprise licences sign CI credentials.
	Plan string `json:"plan"`
	// SubscriptionID identifies the licence; certificates carry it, and a certificate for
	// another subscription is refused.
	SubscriptionID string `json:"subscriptionID"`
}

// licenseInfo is the JSON of the licence-info extension.
type licenseInfo struct {
	Type           string `json:"type"`
	SubscriptionID string `json:"subscription_id"`
	Organization   string `json:"organization"`
}

// Authority is a licence CA: it issues client certificates and checks presented ones.
// It is safe for concurrent use.
type Authority struct {
	license License
	key     ed25519.PrivateKey
	cert    *x509.Certificate
}

// NewAuthority returns an authority for license signing with key; a nil key is generated.
func NewAuthority(license License, key ed25519.PrivateKey) (*Authority, error) {
	if key == nil {
		var err error
		if key, err = GenerateKey(); err != nil {
			return nil, err
		}
	}
	name := pkix.Name{CommonName: license.Name, Organization: []string{license.Organization}}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               name,
		NotBefore:             time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:              time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("creating licence CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parsing licence CA certificate: %w", err)
	}
	return &Authority{license: license, key: key, cert: cert}, nil
}

// ForLicense returns an authority with the same key for another licence: its certificates
// are signed as this one's, but for the wrong licence.
func (a *Authority) ForLicense(license License) (*Authority, error) {
	return NewAuthority(license, a.key)
}

// LicenseFingerprint identifies the licence by its authority's key: unpadded standard base64
// of the SHA-256 of the key's public half (and the subscription, so that another licence of
// the same key differs). Clients key their credential store by it, so two authorities never
// share one: a store that outlives an operator is never handed another CA's certificate under
// the fingerprint it knows.
func (a *Authority) LicenseFingerprint() string {
	sum := sha256.Sum256(append(append([]byte{}, a.key.Public().(ed25519.PublicKey)...), a.license.SubscriptionID...))
	return base64.RawStdEncoding.EncodeToString(sum[:])
}

// License returns the licence the authority issues for.
func (a *Authority) License() License { return a.license }

// CertPEM returns the authority's own certificate as PEM.
func (a *Authority) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: a.cert.Raw})
}

// tbsCertificate mirrors RFC 5280's TBSCertificate with raw names and SPKI.
type tbsCertificate struct {
	Version            int `asn1:"explicit,tag:0"`
	SerialNumber       *big.Int
	SignatureAlgorithm pkix.AlgorithmIdentifier
	Issuer             asn1.RawValue
	Validity           validity
	Subject            asn1.RawValue
	PublicKey          asn1.RawValue
	Extensions         []pkix.Extension `asn1:"explicit,tag:3"`
}

type validity struct {
	NotBefore, NotAfter time.Time
}

type certificate struct {
	TBS                asn1.RawValue
	SignatureAlgorithm pkix.AlgorithmIdentifier
	Signature          asn1.BitString
}

// Issue returns the DER of a certificate for csr, valid from notBefore to notAfter. It copies
// the request's public key info byte for byte, as the real operator does.
func (a *Authority) Issue(csr *CSR, notBefore, notAfter time.Time) ([]byte, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("issuing certificate: serial: %w", err)
	}
	subject, err := asn1.Marshal(pkix.Name{CommonName: csr.CommonName}.ToRDNSequence())
	if err != nil {
		return nil, fmt.Errorf("issuing certificate: subject: %w", err)
	}
	info, err := json.Marshal(licenseInfo{Type: a.license.Plan, SubscriptionID: a.license.SubscriptionID, Organization: a.license.Organization})
	if err != nil {
		return nil, fmt.Errorf("issuing certificate: licence info: %w", err)
	}
	sigAlg := pkix.AlgorithmIdentifier{Algorithm: OIDEd25519}
	tbs, err := asn1.Marshal(tbsCertificate{
		Version:            2,
		SerialNumber:       serial,
		SignatureAlgorithm: sigAlg,
		Issuer:             asn1.RawValue{FullBytes: a.cert.RawSubject},
		Validity:           validity{NotBefore: notBefore.UTC().Truncate(time.Second), NotAfter: notAfter.UTC().Truncate(time.Second)},
		Subject:            asn1.RawValue{FullBytes: subject},
		PublicKey:          asn1.RawValue{FullBytes: csr.RawSPKI},
		Extensions:         []pkix.Extension{{Id: OIDLicenseInfo, Critical: true, Value: info}},
	})
	if err != nil {
		return nil, fmt.Errorf("issuing certificate: marshalling: %w", err)
	}
	sig := ed25519.Sign(a.key, tbs)
	der, err := asn1.Marshal(certificate{
		TBS:                asn1.RawValue{FullBytes: tbs},
		SignatureAlgorithm: sigAlg,
		Signature:          asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)},
	})
	if err != nil {
		return nil, fmt.Errorf("issuing certificate: marshalling: %w", err)
	}
	return der, nil
}

// IssueFor builds the CSR a client with key and commonName would send and issues a
// certificate for it: what an operator does on a credential request, in one call.
func (a *Authority) IssueFor(key ed25519.PrivateKey, commonName string, notBefore, notAfter time.Time) ([]byte, error) {
	csrPEM, err := NewCSR(key, commonName, CSROptions{})
	if err != nil {
		return nil, err
	}
	csr, err := ParseCSR(csrPEM)
	if err != nil {
		return nil, err
	}
	return a.Issue(csr, notBefore, notAfter)
}
