package client

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/opconform/opconform/credentials"
)

// Store is the credential store, in the layout of the mirrord client's
// ~/.mirrord/credentials: YAML with `credentials` (licence fingerprint → certificate and key
// pair, PEM) and `signing_keys` (subscription id → key, PEM).
type Store struct {
	// Path is the credentials file; DefaultStorePath gives the usual one.
	Path string
	// LockTimeout bounds the wait for another client's lock; default 30s.
	LockTimeout time.Duration
}

// storeFile is the YAML document.
type storeFile struct {
	Credentials map[string]storedCredential `json:"credentials"`
	SigningKeys map[string]string           `json:"signing_keys"`
}

type storedCredential struct {
	Certificate string `json:"certificate"`
	KeyPair     string `json:"key_pair"`
}

// DefaultStorePath is $HOME/.mirrord/credentials.
func DefaultStorePath() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("finding the credential store: %w", err)
	}
	return filepath.Join(home, ".mirrord", "credentials"), nil
}

// Credential is a certificate with its key.
type Credential struct {
	Key ed25519.PrivateKey
	// DER is the certificate.
	DER []byte
	// Refreshed is true when it was requested from the operator during this call.
	Refreshed bool
}

// Issuer asks the operator for a certificate for key.
type Issuer func(ctx context.Context, key ed25519.PrivateKey) (der []byte, err error)

// GetOrInit returns the stored credential for the licence fingerprint, or gets one from
// issue: for a missing entry (reusing signing_keys[subscriptionID] when present) and for a
// certificate that is not valid at now (same key: the key identifies the user). The file is
// locked for the whole call, so clients starting at once end with one key pair. With
// noRefresh (a defect) an invalid stored certificate is returned as it is.
func (s *Store) GetOrInit(ctx context.Context, fingerprint, subscriptionID string, now func() time.Time, issue Issuer, noRefresh bool) (*Credential, error) {
	if fingerprint == "" {
		return nil, errors.New("credential store: the operator's licence has no fingerprint")
	}
	unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	doc := s.read()
	cred, err := lookup(doc, fingerprint)
	if err != nil {
		return nil, err
	}
	if cred != nil && (noRefresh || validAt(cred.DER, now())) {
		return cred, nil
	}
	var key ed25519.PrivateKey
	switch {
	case cred != nil:
		key = cred.Key
	case doc.SigningKeys[subscriptionID] != "":
		if key, err = credentials.ParseKeyPEM([]byte(doc.SigningKeys[subscriptionID])); err != nil {
			return nil, fmt.Errorf("credential store %s: signing_keys[%s]: %w", s.Path, subscriptionID, err)
		}
	default:
		if key, err = credentials.GenerateKey(); err != nil {
			return nil, err
		}
	}
	der, err := issue(ctx, key)
	if err != nil {
		return nil, err
	}
	keyPEM, err := credentials.MarshalKeyPEM(key)
	if err != nil {
		return nil, err
	}
	doc.Credentials[fingerprint] = storedCredential{Certificate: string(credentials.EncodeCertificatePEM(der)), KeyPair: string(keyPEM)}
	if subscriptionID != "" {
		doc.SigningKeys[subscriptionID] = string(keyPEM)
	}
	if err := s.write(doc); err != nil {
		return nil, err
	}
	return &Credential{Key: key, DER: der, Refreshed: true}, nil
}

// Put stores a credential for fingerprint, e.g. a fixture certificate a test seeds.
func (s *Store) Put(ctx context.Context, fingerprint string, key ed25519.PrivateKey, der []byte) error {
	unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	keyPEM, err := credentials.MarshalKeyPEM(key)
	if err != nil {
		return err
	}
	doc := s.read()
	doc.Credentials[fingerprint] = storedCredential{Certificate: string(credentials.EncodeCertificatePEM(der)), KeyPair: string(keyPEM)}
	return s.write(doc)
}

// Lookup returns the stored credential for fingerprint, nil when there is none. It does
// not refresh anything.
func (s *Store) Lookup(fingerprint string) (*Credential, error) {
	return lookup(s.read(), fingerprint)
}

func lookup(doc *storeFile, fingerprint string) (*Credential, error) {
	entry, ok := doc.Credentials[fingerprint]
	if !ok {
		return nil, nil
	}
	key, err := credentials.ParseKeyPEM([]byte(entry.KeyPair))
	if err != nil {
		return nil, nil // an unreadable entry is replaced, as a corrupt file is
	}
	der, err := credentials.ParseCertificatePEM([]byte(entry.Certificate))
	if err != nil {
		return &Credential{Key: key}, nil
	}
	return &Credential{Key: key, DER: der}, nil
}

// validAt is the client's only check: strictly between notBefore and notAfter, no skew.
func validAt(der []byte, now time.Time) bool {
	if der == nil {
		return false
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return false
	}
	return now.After(cert.NotBefore) && now.Before(cert.NotAfter)
}

// read loads the file; a missing or unparsable file is an empty store, as in the mirrord
// client.
func (s *Store) read() *storeFile {
	doc := &storeFile{}
	if data, err := os.ReadFile(s.Path); err == nil {
		if yaml.Unmarshal(data, doc) != nil {
			doc = &storeFile{}
		}
	}
	if doc.Credentials == nil {
		doc.Credentials = map[string]storedCredential{}
	}
	if doc.SigningKeys == nil {
		doc.SigningKeys = map[string]string{}
	}
	return doc
}

// write replaces the file atomically: a temporary file in the same directory, renamed over
// it. Not fsynced: mirrord's own store (mirrord/auth/src/credential_store.rs) flushes its
// write under the lock and never syncs, and an fsync a write cost most of a cell's wait.
func (s *Store) write(doc *storeFile) error {
	data, err := yaml.Marshal(doc)
	if err != nil {
		return fmt.Errorf("credential store: encoding: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.Path), ".credentials-*")
	if err != nil {
		return fmt.Errorf("credential store: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err == nil {
		_, err = tmp.Write(data)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), s.Path)
	}
	if err != nil {
		return fmt.Errorf("credential store %s: writing: %w", s.Path, err)
	}
	return nil
}

// lock takes an exclusive lock on a lock file beside the store (the store itself is
// replaced by rename, so it cannot carry the lock), waiting at most LockTimeout.
func (s *Store) lock(ctx context.Context) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(s.Path), 0o700); err != nil {
		return nil, fmt.Errorf("credential store: %w", err)
	}
	f, err := os.OpenFile(s.Path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("credential store: %w", err)
	}
	timeout := s.LockTimeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	deadline := time.Now().Add(timeout)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); _ = f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("credential store: locking %s: %w", f.Name(), err)
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("credential store: %s still locked by another client after %s", f.Name(), timeout)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("credential store: waiting for the lock: %w", ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}
