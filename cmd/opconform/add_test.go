package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/opconform/opconform/matrix"
	"github.com/opconform/opconform/runner"
)

// copyRepo copies what add-client and add-operator touch into a temporary root.
func copyRepo(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	data, err := os.ReadFile("../../matrix.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "matrix.yaml"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "fixtures", "clients")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir("../../fixtures/clients")
	for _, e := range entries {
		data, _ := os.ReadFile(filepath.Join("../../fixtures/clients", e.Name()))
		if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestAddClientOnACopyOfTheRepo(t *testing.T) {
	g := NewWithT(t)
	root := copyRepo(t)
	var out bytes.Buffer
	g.Expect(run([]string{"add-client", "--root", root, "--version", "3.251.0"}, &out, &out)).To(Succeed(), out.String())
	g.Expect(out.String()).To(ContainSubstring("added client mirrord-3.251.0"))
	g.Expect(out.String()).To(ContainSubstring("difference to 3.250.0 (0)"), "the reference client changed nothing after 3.250.0")

	m, err := matrix.Load(filepath.Join(root, "matrix.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(m.Expand(matrix.Filter{Clients: []string{"mirrord-3.251.0"}})).NotTo(BeEmpty())
	golden, err := runner.ReadGolden(runner.GoldenPath(filepath.Join(root, "fixtures", "clients"), "3.251.0"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(golden.Scenarios).To(HaveLen(3))
	before, _ := os.ReadFile("../../matrix.yaml")
	after, _ := os.ReadFile(filepath.Join(root, "matrix.yaml"))
	g.Expect(len(after)-len(before)).To(Equal(len("  - {name: mirrord-3.251.0, version: 3.251.0}\n")), "one line added, comments kept")

	err = run([]string{"add-client", "--root", root, "--version", "3.251.0"}, &out, &out)
	g.Expect(err).To(MatchError(matrix.ErrExists))

	out.Reset()
	g.Expect(run([]string{"add-client", "--root", root, "--version", "3.108.5"}, &out, &out)).To(Succeed(), out.String())
	g.Expect(out.String()).To(ContainSubstring("difference to 3.108.0 (0)"))
	out.Reset()
	g.Expect(run([]string{"add-client", "--root", root, "--version", "3.109.1"}, &out, &out)).To(Succeed(), out.String())
	g.Expect(out.String()).To(ContainSubstring("difference to 3.109.0"))

	g.Expect(run([]string{"add-client", "--root", root, "--version", "v3.252.0"}, &out, &out)).To(MatchError(ContainSubstring("--version")))
}

func TestAddReleasedClientOnACopyOfTheRepo(t *testing.T) {
	g := NewWithT(t)
	root := copyRepo(t)
	var out bytes.Buffer
	g.Expect(run([]string{"add-client", "--root", root, "--version", "3.251.0", "--released"}, &out, &out)).To(Succeed(), out.String())
	g.Expect(out.String()).To(ContainSubstring("added client mirrord-3.251.0 to matrix.yaml"))
	g.Expect(out.String()).To(ContainSubstring("added client mirrord-cli-3.251.0 (the released CLI"))

	m, err := matrix.Load(filepath.Join(root, "matrix.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	cells := m.Expand(matrix.Filter{Tiers: []string{matrix.TierFake}, Clients: []string{"mirrord-cli-3.251.0"}})
	g.Expect(cells).To(HaveLen(1), "against the golden operator")
	c := cells[0].Client
	g.Expect(c.Driver).To(Equal(matrix.DriverExternal))
	g.Expect(c.Version).To(Equal("3.251.0"))
	g.Expect(c.External.Install).To(Equal("scripts/install-mirrord.sh {version}"))
	g.Expect(c.External.Commands).To(HaveKeyWithValue("status", "{binary} operator status"))
	g.Expect(c.External.Commands).To(HaveKeyWithValue("ls", "{binary} ls"))
	g.Expect(c.External.Commands).To(HaveKeyWithValue("exec", "{binary} exec --target {targetPath} -- true"))
	g.Expect(c.FailEarlyExitCode).To(HaveValue(Equal(1)), "the released CLI exits 1 for every error")

	after, _ := os.ReadFile(filepath.Join(root, "matrix.yaml"))
	g.Expect(string(after)).To(ContainSubstring("  - {name: mirrord-3.251.0, version: 3.251.0}\n  - name: mirrord-cli-3.251.0\n"),
		"next to the reference client's row")

	out.Reset()
	g.Expect(run([]string{"add-client", "--root", root, "--version", "3.251.0", "--released"}, &out, &out)).To(MatchError(matrix.ErrExists), "once only")
	out.Reset()
	g.Expect(run([]string{"add-client", "--root", root, "--version", "3.250.0", "--released"}, &out, &out)).To(MatchError(matrix.ErrExists),
		"matrix.yaml has mirrord-cli-3.250.0 already")
	out.Reset()
	g.Expect(run([]string{"add-client", "--root", root, "--version", "3.224.0", "--released"}, &out, &out)).To(Succeed(),
		"the reference client is there already: only the released one is added")
	g.Expect(out.String()).To(Equal("added client mirrord-cli-3.224.0 (the released CLI, installed by scripts/install-mirrord.sh) to matrix.yaml\n"))
}

func TestAddOperatorOnACopyOfTheRepo(t *testing.T) {
	g := NewWithT(t)
	root := copyRepo(t)
	var out bytes.Buffer
	g.Expect(run([]string{"add-operator", "--root", root, "--version", "3.240.0"}, &out, &out)).To(Succeed(), out.String())
	g.Expect(out.String()).To(ContainSubstring("added operator current-3.240.0 (profile current)"))
	g.Expect(out.String()).To(ContainSubstring("difference to 3.164.0: profile current → current; features +BypassCiCertificateVerification +ConnectParamsInHeader +DiagnosticPing"))
	m, err := matrix.Load(filepath.Join(root, "matrix.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(m.Expand(matrix.Filter{Operators: []string{"current-3.240.0"}})).NotTo(BeEmpty())
}
