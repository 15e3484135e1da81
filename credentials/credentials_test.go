package credentials

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

var testLicense = License{Name: "Acme's Enterprise License", Organization: "Acme", Plan: "enterprise", SubscriptionID: "sub-1"}

func mustCSR(t *testing.T, opts CSROptions) (ed25519.PrivateKey, *CSR) {
	t.Helper()
	g := NewWithT(t)
	key, err := GenerateKey()
	g.Expect(err).NotTo(HaveOccurred(), "generating key")
	pemCSR, err := NewCSR(key, "laptop", opts)
	g.Expect(err).NotTo(HaveOccurred(), "building csr")
	csr, err := ParseCSR(pemCSR)
	g.Expect(err).NotTo(HaveOccurred(), "parsing csr")
	return key, csr
}

func TestCSRRoundTripBothOIDs(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts CSROptions
	}{{name: "client quirk", opts: CSROptions{}}, {name: "standard", opts: CSROptions{StandardOID: true}}} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			key, csr := mustCSR(t, tc.opts)
			g.Expect(csr.CommonName).To(Equal("laptop"), "common name")
			g.Expect(csr.PublicKey).To(Equal(key.Public()), "public key")
		})
	}
}

func TestClientQuirkCSRDefeatsCryptoX509(t *testing.T) {
	g := NewWithT(t)
	key, err := GenerateKey()
	g.Expect(err).NotTo(HaveOccurred())
	pemCSR, err := NewCSR(key, "laptop", CSROptions{})
	g.Expect(err).NotTo(HaveOccurred())
	block := mustPEM(t, pemCSR)
	req, err := x509.ParseCertificateRequest(block)
	g.Expect(err).NotTo(HaveOccurred(), "crypto/x509 parses the quirky csr")
	g.Expect(req.CheckSignature()).To(HaveOccurred(), "crypto/x509 cannot verify it, so we verify by hand")
}

func TestParseCSRRejectsBadSignature(t *testing.T) {
	g := NewWithT(t)
	key, _ := GenerateKey()
	pemCSR, _ := NewCSR(key, "laptop", CSROptions{})
	der := mustPEM(t, pemCSR)
	der[len(der)-1] ^= 0xff
	_, err := ParseCSR(der)
	g.Expect(err).To(MatchError(ContainSubstring("signature does not verify")))
}

func TestIssueAndCheck(t *testing.T) {
	g := NewWithT(t)
	ca, err := NewAuthority(testLicense, nil)
	g.Expect(err).NotTo(HaveOccurred())
	key, csr := mustCSR(t, CSROptions{})
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	der, err := ca.Issue(csr, now.Add(-time.Hour), now.Add(24*time.Hour))
	g.Expect(err).NotTo(HaveOccurred())

	cert, err := ca.Check(der)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(cert.UserID).To(Equal(base64.RawStdEncoding.EncodeToString(key.Public().(ed25519.PublicKey))))
	g.Expect(cert.CommonName).To(Equal("laptop"))
	g.Expect(cert.ValidAt(now)).To(Succeed())
	g.Expect(cert.ValidAt(now.Add(25 * time.Hour))).To(MatchError(ErrExpired))
	g.Expect(cert.ValidAt(now.Add(-2 * time.Hour))).To(MatchError(ErrNotYetValid))

	parsed, err := x509.ParseCertificate(der)
	g.Expect(err).NotTo(HaveOccurred(), "crypto/x509 parses issued certificates")
	g.Expect(parsed.RawSubjectPublicKeyInfo).To(Equal(csr.RawSPKI), "SPKI copied byte for byte")
}

func TestCheckProblems(t *testing.T) {
	ca, _ := NewAuthority(testLicense, nil)
	foreign, _ := NewAuthority(License{Name: "Other", Organization: "Other", SubscriptionID: "sub-1"}, nil)
	otherLicense := testLicense
	otherLicense.SubscriptionID = "sub-2"
	renewed, _ := NewAuthority(otherLicense, ca.key)
	_, csr := mustCSR(t, CSROptions{})
	now := time.Now()
	good, _ := ca.Issue(csr, now.Add(-time.Hour), now.Add(time.Hour))
	byForeign, _ := foreign.Issue(csr, now.Add(-time.Hour), now.Add(time.Hour))
	byRenewed, _ := renewed.Issue(csr, now.Add(-time.Hour), now.Add(time.Hour))

	for _, tc := range []struct {
		name string
		der  []byte
		want error
	}{
		{name: "foreign CA", der: byForeign, want: ErrUnknownAuthority},
		{name: "other licence", der: byRenewed, want: ErrWrongLicense},
		{name: "truncated", der: good[:len(good)/2], want: ErrNotDER},
		{name: "pem", der: EncodeCertificatePEM(good), want: ErrNotDER},
		{name: "trailing bytes", der: append(append([]byte{}, good...), 0), want: ErrNotDER},
		{name: "a csr", der: mustPEM(t, mustNewCSR(t)), want: ErrNotCertificate},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			_, err := ca.Check(tc.der)
			g.Expect(errors.Is(err, tc.want)).To(BeTrue(), "got %v, want %v", err, tc.want)
		})
	}
}

func TestDecodeHeader(t *testing.T) {
	der := []byte{0x30, 0x03, 0x02, 0x01, 0x01}
	for _, tc := range []struct {
		name  string
		value string
		want  error
	}{
		{name: "padded standard", value: base64.StdEncoding.EncodeToString(der)},
		{name: "unpadded", value: base64.RawStdEncoding.EncodeToString(der), want: ErrNotBase64},
		{name: "url-safe", value: base64.URLEncoding.EncodeToString([]byte{0xfb, 0xff}), want: ErrNotBase64},
		{name: "white space", value: "MAMCAQE= ", want: ErrNotBase64},
		{name: "empty", value: "", want: ErrEmpty},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			got, err := DecodeHeader(tc.value)
			if tc.want == nil {
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(got).To(Equal(der))
				return
			}
			g.Expect(err).To(MatchError(tc.want))
		})
	}
}

func TestKeyPEMRoundTrip(t *testing.T) {
	g := NewWithT(t)
	key, _ := GenerateKey()
	data, err := MarshalKeyPEM(key)
	g.Expect(err).NotTo(HaveOccurred())
	back, err := ParseKeyPEM(data)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(back.Equal(key)).To(BeTrue())
	_, err = ParseKeyPEM([]byte("nope"))
	g.Expect(err).To(MatchError(ContainSubstring("no PRIVATE KEY PEM block")))
}

func mustNewCSR(t *testing.T) []byte {
	t.Helper()
	key, _ := GenerateKey()
	p, err := NewCSR(key, "x", CSROptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustPEM(t *testing.T, data []byte) []byte {
	t.Helper()
	der, err := ParseCertificateRequestPEM(data)
	if err != nil {
		t.Fatal(err)
	}
	return der
}
