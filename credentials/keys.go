package credentials

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
)

// Algorithm identifiers for Ed25519 subject public keys. The mirrord client tags its keys
// with OIDX25519 (and a NULL parameter); the standard tag is OIDEd25519.
var (
	OIDEd25519 = asn1.ObjectIdentifier{1, 3, 101, 112}
	OIDX25519  = asn1.ObjectIdentifier{1, 3, 101, 110}
)

// GenerateKey returns a new Ed25519 private key.
func GenerateKey() (ed25519.PrivateKey, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating ed25519 key: %w", err)
	}
	return key, nil
}

// MarshalKeyPEM encodes key as a PKCS#8 "PRIVATE KEY" PEM block.
func MarshalKeyPEM(key ed25519.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("marshalling private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParseKeyPEM reads a PKCS#8 PEM Ed25519 private key.
func ParseKeyPEM(data []byte) (ed25519.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, errors.New("parsing private key: no PRIVATE KEY PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parsing private key: %w", err)
	}
	key, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("parsing private key: %T is not an ed25519 key", k)
	}
	return key, nil
}

// subjectPublicKeyInfo is the SPKI structure; Algorithm keeps its parameters raw so a NULL
// parameter survives a round trip.
type subjectPublicKeyInfo struct {
	Algorithm pkix.AlgorithmIdentifier
	PublicKey asn1.BitString
}

// KeyTagging is how a SubjectPublicKeyInfo tags an Ed25519 key.
type KeyTagging int

const (
	// TaggedAsMirrord is how the mirrord client tags it: OID 1.3.101.110 (X25519's) and a
	// NULL parameter.
	TaggedAsMirrord KeyTagging = iota
	// TaggedStandard is the standard Ed25519 OID and no parameter.
	TaggedStandard
)

// MarshalSPKI encodes pub as a SubjectPublicKeyInfo, tagged as tagging says.
func MarshalSPKI(pub ed25519.PublicKey, tagging KeyTagging) ([]byte, error) {
	alg := pkix.AlgorithmIdentifier{Algorithm: OIDEd25519}
	if tagging == TaggedAsMirrord {
		alg = pkix.AlgorithmIdentifier{Algorithm: OIDX25519, Parameters: asn1.NullRawValue}
	}
	der, err := asn1.Marshal(subjectPublicKeyInfo{Algorithm: alg, PublicKey: asn1.BitString{Bytes: pub, BitLength: 8 * len(pub)}})
	if err != nil {
		return nil, fmt.Errorf("marshalling public key: %w", err)
	}
	return der, nil
}

// ParseSPKI returns the Ed25519 key of a SubjectPublicKeyInfo tagged with either OID.
func ParseSPKI(der []byte) (ed25519.PublicKey, error) {
	var spki subjectPublicKeyInfo
	rest, err := asn1.Unmarshal(der, &spki)
	if err != nil {
		return nil, fmt.Errorf("parsing public key info: %w", err)
	}
	if len(rest) != 0 {
		return nil, errors.New("parsing public key info: trailing data")
	}
	if !spki.Algorithm.Algorithm.Equal(OIDEd25519) && !spki.Algorithm.Algorithm.Equal(OIDX25519) {
		return nil, fmt.Errorf("parsing public key info: algorithm %v is not ed25519", spki.Algorithm.Algorithm)
	}
	if spki.PublicKey.BitLength != 8*ed25519.PublicKeySize || len(spki.PublicKey.Bytes) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("parsing public key info: key is %d bits, want %d", spki.PublicKey.BitLength, 8*ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(spki.PublicKey.Bytes), nil
}

// UserID is the operator's identity of a client: unpadded standard base64 of the raw 32-byte
// public key.
func UserID(pub ed25519.PublicKey) string {
	return base64.RawStdEncoding.EncodeToString(pub)
}

// Fingerprint is the SHA-256 of a certificate's DER, as "sha256:<hex>". Journals and reports
// name certificates by it, never by their content.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// HeaderFingerprint names a certificate header value without repeating it: the Fingerprint
// of the DER it decodes to, or, for a value that is no padded base64, "sha256-raw:" and the
// SHA-256 of the value itself. Journals on both sides of the wire name values this way, so
// that they can be compared.
func HeaderFingerprint(value string) string {
	if der, err := DecodeHeader(value); err == nil {
		return Fingerprint(der)
	}
	sum := sha256.Sum256([]byte(value))
	return "sha256-raw:" + hex.EncodeToString(sum[:])
}
