package client

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/opconform/opconform/credentials"
)

// issuerFrom returns an Issuer that signs with ca for validity, counting its calls.
func issuerFrom(t testing.TB, ca *credentials.Authority, nb, na time.Time, calls *atomic.Int32) Issuer {
	return func(_ context.Context, key ed25519.PrivateKey) ([]byte, error) {
		calls.Add(1)
		return ca.IssueFor(key, "laptop", nb, na)
	}
}

func newAuthority(t testing.TB) *credentials.Authority {
	ca, err := credentials.NewAuthority(credentials.License{Name: "L", Organization: "O", SubscriptionID: "sub"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func TestStoreGetOrInitAndRefresh(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	store := &Store{Path: filepath.Join(t.TempDir(), ".mirrord", "credentials")}
	ca := newAuthority(t)
	now := time.Now()
	var calls atomic.Int32
	clock := func() time.Time { return now }

	first, err := store.GetOrInit(ctx, "fp", "sub", clock, issuerFrom(t, ca, now.Add(-time.Minute), now.Add(time.Hour), &calls), false)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(first.Refreshed).To(BeTrue())
	again, err := store.GetOrInit(ctx, "fp", "sub", clock, issuerFrom(t, ca, now, now, &calls), false)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(again.Refreshed).To(BeFalse(), "a valid stored certificate is reused")
	g.Expect(calls.Load()).To(BeEquivalentTo(1))

	later := func() time.Time { return now.Add(2 * time.Hour) }
	stale, err := store.GetOrInit(ctx, "fp", "sub", later, nil, true)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(stale.DER).To(Equal(first.DER), "the no-refresh defect hands out the expired certificate")
	refreshed, err := store.GetOrInit(ctx, "fp", "sub", later, issuerFrom(t, ca, later().Add(-time.Minute), later().Add(time.Hour), &calls), false)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(refreshed.Refreshed).To(BeTrue(), "an expired certificate is refreshed before use")
	g.Expect(refreshed.Key.Equal(first.Key)).To(BeTrue(), "with the same key")

	other, err := store.GetOrInit(ctx, "fp-renewed", "sub", later, issuerFrom(t, ca, later().Add(-time.Minute), later().Add(time.Hour), &calls), false)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(other.Key.Equal(first.Key)).To(BeTrue(), "signing_keys[subscription] is reused across licence renewals")

	data, err := os.ReadFile(store.Path)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(data)).To(ContainSubstring("credentials:"))
	g.Expect(string(data)).To(ContainSubstring("signing_keys:"))
	g.Expect(string(data)).To(ContainSubstring("key_pair:"))
	info, _ := os.Stat(store.Path)
	g.Expect(info.Mode().Perm()).To(Equal(os.FileMode(0o600)))
}

func TestStoreCorruptFileIsEmpty(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	store := &Store{Path: filepath.Join(dir, "credentials")}
	g.Expect(os.WriteFile(store.Path, []byte("credentials: [this is: not: yaml"), 0o600)).To(Succeed())
	now := time.Now()
	var calls atomic.Int32
	cred, err := store.GetOrInit(context.Background(), "fp", "sub", time.Now, issuerFrom(t, newAuthority(t), now.Add(-time.Minute), now.Add(time.Hour), &calls), false)
	g.Expect(err).NotTo(HaveOccurred(), "a corrupt store is read as empty")
	g.Expect(cred.Refreshed).To(BeTrue())
}

func TestStoreLockIsBounded(t *testing.T) {
	g := NewWithT(t)
	store := &Store{Path: filepath.Join(t.TempDir(), "credentials"), LockTimeout: 50 * time.Millisecond}
	unlock, err := store.lock(context.Background())
	g.Expect(err).NotTo(HaveOccurred())
	defer unlock()
	_, err = store.GetOrInit(context.Background(), "fp", "sub", time.Now, nil, false)
	g.Expect(err).To(MatchError(ContainSubstring("still locked by another client")))
}

// TestStoreTwoProcessesRacing starts clients in separate processes at once against one
// store: they must end with one key pair.
func TestStoreTwoProcessesRacing(t *testing.T) {
	if path := os.Getenv("OPCONFORM_STORE_HELPER"); path != "" {
		t.Skip("helper mode")
	}
	g := NewWithT(t)
	path := filepath.Join(t.TempDir(), ".mirrord", "credentials")
	const n = 4
	cmds := make([]*exec.Cmd, n)
	outs := make([]*strings.Builder, n)
	for i := range cmds {
		cmds[i] = exec.Command(os.Args[0], "-test.run", "^TestStoreHelperProcess$")
		cmds[i].Env = append(os.Environ(), "OPCONFORM_STORE_HELPER="+path)
		outs[i] = &strings.Builder{}
		cmds[i].Stdout, cmds[i].Stderr = outs[i], outs[i]
		g.Expect(cmds[i].Start()).To(Succeed())
	}
	ids := map[string]bool{}
	for i, cmd := range cmds {
		g.Expect(cmd.Wait()).To(Succeed(), outs[i].String())
		for _, line := range strings.Split(outs[i].String(), "\n") {
			if id, ok := strings.CutPrefix(line, "USERID "); ok {
				ids[id] = true
			}
		}
	}
	g.Expect(ids).To(HaveLen(1), "every process ended with the same key pair")
}

func TestStoreHelperProcess(t *testing.T) {
	path := os.Getenv("OPCONFORM_STORE_HELPER")
	if path == "" {
		t.Skip("run by TestStoreTwoProcessesRacing")
	}
	now := time.Now()
	var calls atomic.Int32
	store := &Store{Path: path}
	cred, err := store.GetOrInit(context.Background(), "fp", "sub", time.Now, issuerFrom(t, newAuthority(t), now.Add(-time.Minute), now.Add(time.Hour), &calls), false)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("USERID %s\n", credentials.UserID(cred.Key.Public().(ed25519.PublicKey)))
}
