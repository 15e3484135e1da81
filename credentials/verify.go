package credentials

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Problems a presented certificate can have. Callers test with errors.Is.
var (
	// ErrNotBase64 is returned when a header value is not padded standard base64.
	ErrNotBase64 = errors.New("not padded standard base64")
	// ErrEmpty is returned when a header value is empty.
	ErrEmpty = errors.New("empty value")
	// ErrNotDER is returned when the decoded bytes are not one complete DER element.
	ErrNotDER = errors.New("not DER")
	// ErrNotCertificate is returned when the DER is not an X.509 certificate.
	ErrNotCertificate = errors.New("not an X.509 certificate")
	// ErrUnknownAuthority is returned when the certificate is not signed by the licence CA.
	ErrUnknownAuthority = errors.New("not signed by the licence authority")
	// ErrWrongLicense is returned when the certificate was issued for another licence.
	ErrWrongLicense = errors.New("issued for another licence")
	// ErrExpired is returned when the certificate's notAfter has passed.
	ErrExpired = errors.New("expired")
	// ErrNotYetValid is returned when the certificate's notBefore is still ahead.
	ErrNotYetValid = errors.New("not yet valid")
)

// EncodeHeader encodes a certificate's DER for the certificate header.
func EncodeHeader(der []byte) string {
	return base64.StdEncoding.EncodeToString(der)
}

// DecodeHeader decodes a certificate header value strictly: padded standard base64, no
// whitespace, no URL-safe alphabet.
func DecodeHeader(v string) ([]byte, error) {
	if v == "" {
		return nil, ErrEmpty
	}
	if strings.ContainsAny(v, " \t\r\n") {
		return nil, fmt.Errorf("%w: contains white space", ErrNotBase64)
	}
	der, err := base64.StdEncoding.Strict().DecodeString(v)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotBase64, err)
	}
	return der, nil
}

// Certificate is what an authority learned from a certificate whose signature and licence it
// checked; its validity period is checked separately, against a clock, by ValidAt.
type Certificate struct {
	Fingerprint string
	UserID      string
	CommonName  string
	NotBefore   time.Time
	NotAfter    time.Time
}

// ValidAt reports whether now lies strictly inside the validity period.
func (c *Certificate) ValidAt(now time.Time) error {
	switch {
	case !now.After(c.NotBefore):
		return fmt.Errorf("%w: notBefore %s is after %s", ErrNotYetValid, c.NotBefore.Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	case !now.Before(c.NotAfter):
		return fmt.Errorf("%w: notAfter %s is before %s", ErrExpired, c.NotAfter.Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return nil
}

// Check verifies that der is a certificate this authority issued for its licence. It does
// not look at the time: see Certificate.ValidAt. The result depends on der alone, so callers
// may cache it by fingerprint.
func (a *Authority) Check(der []byte) (*Certificate, error) {
	if block, _ := pem.Decode(der); block != nil {
		return nil, fmt.Errorf("%w: a PEM %s block, not DER", ErrNotDER, block.Type)
	}
	var raw asn1.RawValue
	if rest, err := asn1.Unmarshal(der, &raw); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotDER, err)
	} else if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the element", ErrNotDER, len(rest))
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotCertificate, err)
	}
	if !ed25519.Verify(a.key.Public().(ed25519.PublicKey), cert.RawTBSCertificate, cert.Signature) {
		return nil, fmt.Errorf("%w: issuer %q", ErrUnknownAuthority, cert.Issuer.String())
	}
	pub, err := ParseSPKI(cert.RawSubjectPublicKeyInfo)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotCertificate, err)
	}
	if sub := subscriptionOf(cert); sub != a.license.SubscriptionID {
		return nil, fmt.Errorf("%w: subscription %q, operator licence is %q", ErrWrongLicense, sub, a.license.SubscriptionID)
	}
	return &Certificate{
		Fingerprint: Fingerprint(der),
		UserID:      UserID(pub),
		CommonName:  cert.Subject.CommonName,
		NotBefore:   cert.NotBefore,
		NotAfter:    cert.NotAfter,
	}, nil
}

// subscriptionOf returns the subscription id of a certificate's licence-info extension, or "".
func subscriptionOf(cert *x509.Certificate) string {
	for _, ext := range cert.Extensions {
		if ext.Id.Equal(OIDLicenseInfo) {
			var info licenseInfo
			if json.Unmarshal(ext.Value, &info) == nil {
				return info.SubscriptionID
			}
		}
	}
	return ""
}

// ParseCertificatePEM returns the DER of the first CERTIFICATE block in data.
func ParseCertificatePEM(data []byte) ([]byte, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("parsing certificate: no CERTIFICATE PEM block")
	}
	return block.Bytes, nil
}

// EncodeCertificatePEM encodes der as a CERTIFICATE PEM block.
func EncodeCertificatePEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
