package tier

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/opconform/opconform/matrix"
)

func realOperator() matrix.Operator {
	return matrix.Operator{Name: "real", Kind: matrix.KindReal, Version: "3.250.0", Real: &matrix.RealOperator{
		Chart: "mirrord-operator", Repo: "https://charts.example", ChartVersion: "1.2.3",
		Values: map[string]string{"operator.port": "443"}, LicenseEnv: "OPCONFORM_TEST_LICENCE",
	}}
}

func TestRealOperatorNeedsItsLicense(t *testing.T) {
	t.Setenv("OPCONFORM_TEST_LICENCE", "")
	_, err := RealLicense(realOperator())
	g := NewWithT(t)
	g.Expect(IsUnavailable(err)).To(BeTrue(), "the cells skip")
	g.Expect(err).To(MatchError(ContainSubstring("needs its licence key in OPCONFORM_TEST_LICENCE")))
}

// TestInstallRealKeepsTheLicenseOffArgsAndDisk runs InstallReal with a stand-in helm that
// records its arguments and standard input.
func TestInstallRealKeepsTheLicenseOffArgsAndDisk(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	record := filepath.Join(dir, "record")
	script := "#!/bin/sh\necho \"$@\" > " + record + ".args\ncat > " + record + ".stdin\n"
	g.Expect(os.WriteFile(filepath.Join(dir, "helm"), []byte(script), 0o755)).To(Succeed())
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))

	g.Expect(InstallReal(context.Background(), "/tmp/kubeconfig", realOperator(), "s3cr3t-licence", 5*time.Minute)).To(Succeed())
	args, err := os.ReadFile(record + ".args")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(args)).To(ContainSubstring("upgrade --install mirrord-operator mirrord-operator --namespace mirrord"))
	g.Expect(string(args)).To(ContainSubstring("--repo https://charts.example"))
	g.Expect(string(args)).To(ContainSubstring("--version 1.2.3"))
	g.Expect(string(args)).To(ContainSubstring("--set operator.port=443"))
	g.Expect(string(args)).NotTo(ContainSubstring("s3cr3t"), "the licence is not an argument")
	stdin, err := os.ReadFile(record + ".stdin")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(stdin)).To(Equal("license:\n  key: s3cr3t-licence\n"), "it reaches Helm on standard input")
}

func TestInstallRealRedactsTheLicenseFromErrors(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	g.Expect(os.WriteFile(filepath.Join(dir, "helm"), []byte("#!/bin/sh\ncat; echo failed >&2; exit 1\n"), 0o755)).To(Succeed())
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	err := InstallReal(context.Background(), "/tmp/kubeconfig", realOperator(), "s3cr3t-licence", 5*time.Minute)
	g.Expect(err).To(HaveOccurred())
	g.Expect(err.Error()).NotTo(ContainSubstring("s3cr3t"))
	g.Expect(err.Error()).To(ContainSubstring("<licence>"))
}
