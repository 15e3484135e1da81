package suites

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/opconform/opconform/check"
	"github.com/opconform/opconform/fixtures/certs"
	"github.com/opconform/opconform/matrix"
	"github.com/opconform/opconform/tier"
)

// What only the aggregator path can show.
var _ = Describe("apiserver tier", Label("tier:apiserver"), func() {
	var cell matrix.Cell
	var ep *tier.Endpoint

	BeforeEach(func(ctx SpecContext) {
		i := slices.IndexFunc(cells, func(c matrix.Cell) bool {
			return c.Tier == matrix.TierAPIServer && c.Operator.Profile == "" && c.Operator.MinClientVersion == "" &&
				semverAtLeast(c.Operator.Version, "3.109.0") && c.Client.Driver == matrix.DriverReference
		})
		if i < 0 || apiTier == nil {
			Skip("no apiserver-tier cell with a current operator is selected")
		}
		cell = cells[i]
		var err error
		ep, err = apiTier.Start(ctx, cell, clocktesting.NewFakePassiveClock(certs.Epoch))
		Expect(err).NotTo(HaveOccurred(), "starting operator %s behind the aggregator", cell.Operator.Name)
		DeferCleanup(ep.Close)
	}, NodeTimeout(2*time.Minute))

	get := func(cfg *rest.Config, path string, header http.Header) (int, string) {
		GinkgoHelper()
		return clusterGet(context.Background(), cfg, path, header)
	}
	operatorPath := "/apis/operator.metalbear.co/v1/mirrordoperators/operator"

	It("shows the operator the authenticated user, never one the client sent", func() {
		code, body := get(ep.Config, operatorPath, http.Header{"X-Remote-User": {"mallory"}, "X-Remote-Group": {"system:masters"}})
		Expect(code).To(Equal(http.StatusOK), body)
		entries := ep.Journal()
		Expect(entries).NotTo(BeEmpty(), "the operator journalled the request")
		last := entries[len(entries)-1]
		Expect(last.RemoteUser).To(Equal(ep.User), "the identity the front proxy asserted")
		Expect(last.Headers["x-remote-user"]).To(Equal([]string{ep.User}), "the client's X-Remote-User was replaced")
		Expect(last.RemoteGroups).NotTo(ContainElement("system:masters"), "nor its groups")
	})

	It("refuses a direct request without the front-proxy certificate", func() {
		pool := x509.NewCertPool()
		Expect(pool.AppendCertsFromPEM(apiTier.OperatorCA())).To(BeTrue())
		hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
		req, _ := http.NewRequest(http.MethodGet, "https://"+apiTier.OperatorAddr()+operatorPath, nil)
		req.Header.Set("X-Remote-User", "mallory")
		resp, err := hc.Do(req)
		Expect(err).NotTo(HaveOccurred(), "dialling the operator directly")
		resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(http.StatusUnauthorized), "spoofed X-Remote-User without the front-proxy certificate")
	})

	It("passes the certificate and version headers intact, repeated identical values included", func() {
		key, err := certs.ValidKey()
		Expect(err).NotTo(HaveOccurred())
		der, err := ep.Authority.IssueFor(key, "laptop", certs.Epoch.Add(-time.Hour), certs.Epoch.Add(time.Hour))
		Expect(err).NotTo(HaveOccurred())
		value := base64.StdEncoding.EncodeToString(der)
		h := cell.Contract.Headers
		code, body := get(ep.Config, operatorPath, http.Header{http.CanonicalHeaderKey(h.Certificate): {value, value}, http.CanonicalHeaderKey(h.Version): {"3.250.0"}, "Baggage": {"a=1", "a=1"}})
		Expect(code).To(Equal(http.StatusOK), body)
		last := ep.Journal()[len(ep.Journal())-1]
		Expect(last.Certificate).NotTo(BeNil())
		Expect(last.Certificate.Verdict).To(Equal("valid"), "the DER arrived byte for byte")
		Expect(last.Certificate.Values).To(Equal(2), "both identical values arrived")
		Expect(last.ClientVersion).To(Equal("3.250.0"))
		// kube-apiserver's trace propagation re-encodes baggage on the proxied request
		// (repeats merged): recorded, not required of the contract
		Expect(last.Headers["baggage"]).To(ContainElement("a=1"), "baggage arrives")
		AddReportEntry("baggage through the aggregator", fmt.Sprintf("sent [a=1 a=1], arrived %v", last.Headers["baggage"]), ReportEntryVisibilityFailureOrVerbose)
	})

	It("lets kube-apiserver, not the operator, refuse a user without RBAC on targets", func() {
		before := len(ep.Journal())
		nobody, err := apiTier.UserConfig("opconform-nobody")
		Expect(err).NotTo(HaveOccurred())
		code, body := get(nobody, "/apis/operator.metalbear.co/v1/namespaces/default/targets", nil)
		Expect(code).To(Equal(http.StatusForbidden), body)
		Expect(body).To(ContainSubstring(`cannot list resource \"targets\"`), "kube-apiserver's RBAC refusal")
		Expect(ep.Journal()).To(HaveLen(before), "the request never reached the operator: the apiserver refused it")
	})

	It("lets opconform check judge a client through the aggregator, for a user with a token", func(ctx SpecContext) {
		user, err := apiTier.TokenUserConfig(ctx, "opconform-check")
		Expect(err).NotTo(HaveOccurred(), "a service account with the operator's RBAC and a token")
		kubeconfig := filepath.Join(GinkgoT().TempDir(), "kubeconfig")
		cfg := clientcmdapi.NewConfig()
		cfg.Clusters["apiserver"] = &clientcmdapi.Cluster{Server: user.Host, CertificateAuthorityData: user.CAData}
		cfg.AuthInfos["token-user"] = &clientcmdapi.AuthInfo{Token: user.BearerToken}
		cfg.Contexts["token-user"] = &clientcmdapi.Context{Cluster: "apiserver", AuthInfo: "token-user", Namespace: "default"}
		cfg.CurrentContext = "token-user"
		Expect(clientcmd.WriteToFile(*cfg, kubeconfig)).To(Succeed())
		// a client recent enough to send every header on every request
		build := exec.CommandContext(ctx, filepath.Join(repoRoot, "scripts", "build-client.sh"), "3.250.0")
		build.Dir = repoRoot
		binary, err := build.Output()
		Expect(err).NotTo(HaveOccurred(), "building the reference client 3.250.0")

		const tokenUser = "system:serviceaccount:default:opconform-check"
		var stderr strings.Builder
		r, err := check.Run(ctx, check.Options{Kubeconfig: kubeconfig,
			Command: []string{filepath.Join(repoRoot, strings.TrimSpace(string(binary))), "exec", "--target", "deployment.nginx"},
			Stdout:  GinkgoWriter, Stderr: io.MultiWriter(GinkgoWriter, &stderr)})
		Expect(err).NotTo(HaveOccurred(), "opconform check: %s", &stderr)
		Expect(r.ExitCode).To(Equal(0), "the client's exec: %s", &stderr)
		Expect(r.Scenario).To(Equal("exec"))
		Expect(r.OperatorVersion).To(Equal(cell.Operator.Version), "read from the cluster's MirrordOperator")
		Expect(r.Holds()).To(BeTrue(), "the contract holds: %s", &stderr)
		Expect(stderr.String()).NotTo(ContainSubstring(user.BearerToken), "the token is never printed")
		operatorSaw := 0
		for _, e := range r.Journal {
			if e.Class.IsOperator() {
				operatorSaw++
			}
		}
		// the client's requests, then the check's own read of the operator's version
		reached := ep.JournalOf(tokenUser)
		Expect(reached).To(HaveLen(operatorSaw+1), "every operator request the check recorded reached the operator through the aggregator, as the token's user")
		read := reached[len(reached)-1]
		Expect(read.Class).To(BeEquivalentTo("operator-get"), "the check read the operator's version after the command")
		Expect(read.ClientVersion).To(Equal("3.250.0"), "with the version the client sent, as an operator with a minimum client version asks for")
	}, NodeTimeout(2*time.Minute))

	It("answers /version with the Kubernetes version it was built as", func() {
		want := pinnedVersion("KUBERNETES_VERSION")
		code, body := get(ep.Config, "/version", nil)
		Expect(code).To(Equal(http.StatusOK), body)
		var info version.Info
		Expect(json.Unmarshal([]byte(body), &info)).To(Succeed(), "/version: %s", body)
		Expect(info.GitVersion).To(Equal(want), "kube-apiserver is stamped with the version of scripts/lib/versions.sh")
		Expect(info.Major+"."+info.Minor).To(Equal(strings.Join(strings.Split(strings.TrimPrefix(want, "v"), ".")[:2], ".")), "major and minor")
	})
})

// pinnedVersion reads a version that scripts/lib/versions.sh pins, so that tests and the
// build scripts agree on one place.
func pinnedVersion(name string) string {
	GinkgoHelper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "scripts", "lib", "versions.sh"))
	Expect(err).NotTo(HaveOccurred())
	m := regexp.MustCompile(`(?m)^` + name + `="([^"]+)"$`).FindStringSubmatch(string(data))
	Expect(m).NotTo(BeNil(), "scripts/lib/versions.sh pins %s", name)
	return m[1]
}

func semverAtLeast(v, min string) bool {
	return !semver.MustParse(v).LessThan(semver.MustParse(min))
}

// The manifests a cluster would use for the fake operator, validated by the real
// apiserver without persisting anything.
var _ = Describe("deploy manifests", Label("tier:apiserver"), func() {
	It("are accepted by kube-apiserver (server-side apply, dryRun=All)", func(ctx SpecContext) {
		if apiTier == nil {
			Skip("the apiserver tier is not selected")
		}
		files, err := filepath.Glob(filepath.Join(repoRoot, "deploy", "*.yaml"))
		Expect(err).NotTo(HaveOccurred())
		Expect(files).NotTo(BeEmpty(), "deploy/ holds manifests")
		n, err := tier.ValidateManifests(ctx, apiTier.ControlPlane().Admin, files)
		Expect(err).NotTo(HaveOccurred(), "validating %v", files)
		Expect(n).To(BeNumerically(">=", 9), "every object was validated")
	}, NodeTimeout(time.Minute))
})

// How the kind tier installs the fake operator, on a control plane of its own (deploying
// replaces the group's APIService): every object deploy/ and the deployment add is created
// as a cluster would hold it. No kubelet runs here, so the pod itself never starts.
var _ = Describe("deploying the operator", Label("tier:apiserver", "tier:kind"), func() {
	It("creates the manifests, the TLS and licence secrets and the front-proxy CA copy", func(ctx SpecContext) {
		if controlPlaneBin == "" {
			Skip("the apiserver tier is not selected")
		}
		cp, err := tier.StartControlPlane(ctx, controlPlaneBin, theMatrix.Timeouts)
		Expect(err).NotTo(HaveOccurred(), "starting a control plane of its own")
		DeferCleanup(cp.Stop)
		files, err := filepath.Glob(filepath.Join(repoRoot, "deploy", "*.yaml"))
		Expect(err).NotTo(HaveOccurred())
		key, err := os.ReadFile(filepath.Join(repoRoot, "fixtures", "certs", "licence-ca.key.pem"))
		Expect(err).NotTo(HaveOccurred())
		Expect(tier.DeployOperator(ctx, cp.Admin, tier.DeployInput{
			Manifests: files, Image: "opconform/fakeoperator:test", Args: []string{"--operator-version=3.164.0"}, LicenseKeyPEM: key,
		})).To(Succeed(), "deploying onto %s", cp.URL)

		cs, err := cp.Clientset()
		Expect(err).NotTo(HaveOccurred())
		d, err := cs.AppsV1().Deployments("mirrord").Get(ctx, "mirrord-operator", metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred(), "the Deployment exists")
		c := d.Spec.Template.Spec.Containers[0]
		Expect(c.Image).To(Equal("opconform/fakeoperator:test"))
		Expect(c.Args).To(ContainElements("--operator-version=3.164.0", "--license-key-file=/licence/licence.key"), "the cell's flags were appended")
		tlsSecret, err := cs.CoreV1().Secrets("mirrord").Get(ctx, "mirrord-operator-tls", metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred())
		block, _ := pem.Decode(tlsSecret.Data["tls.crt"])
		Expect(block).NotTo(BeNil())
		leaf, err := x509.ParseCertificate(block.Bytes)
		Expect(err).NotTo(HaveOccurred())
		Expect(leaf.DNSNames).To(ContainElement("mirrord-operator.mirrord.svc"), "serving certificate for the Service name")
		licence, err := cs.CoreV1().Secrets("mirrord").Get(ctx, "mirrord-operator-licence", metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(licence.Data["licence.key"]).To(Equal(key))
		cm, err := cs.CoreV1().ConfigMaps("mirrord").Get(ctx, "extension-apiserver-authentication-copy", metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(cm.Data["requestheader-client-ca-file"]).To(Equal(string(cp.FrontProxyCA())), "the aggregator's front-proxy CA")
		_, err = cs.CoreV1().Services("mirrord").Get(ctx, "mirrord-operator", metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred(), "the Service exists")
	}, NodeTimeout(2*time.Minute))
})

// clusterGet sends GET path to the cluster with cfg's credentials (and header's values,
// exactly as given) and returns the status code and body.
func clusterGet(ctx context.Context, cfg *rest.Config, path string, header http.Header) (int, string) {
	GinkgoHelper()
	hc, err := rest.HTTPClientFor(cfg)
	Expect(err).NotTo(HaveOccurred(), "client for %s", cfg.Host)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, cfg.Host+path, nil)
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := hc.Do(req)
	Expect(err).NotTo(HaveOccurred(), "GET %s", path)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}
