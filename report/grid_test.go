package report

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"golang.org/x/net/html"

	"github.com/opconform/opconform/contract"
)

// gridReport has one cell of every verdict among released versions, and a negative control.
func gridReport() *Report {
	req := func(id contract.RequirementID, o Outcome, reason string) Requirement {
		return Requirement{ID: id, Outcome: o, Reason: reason}
	}
	works := Cell{ID: "fake/current/mirrord-3.250.0", Tier: "fake", Client: "mirrord-3.250.0", ClientVersion: "3.250.0", Operator: "current", Rerun: "make conformance CLIENTS=mirrord-3.250.0 OPERATORS=current",
		Requirements: []Requirement{req(contract.ReqVersionHeader, Pass, ""), req(contract.ReqMinimumVersionNamed, Skip, contract.NotApplicable)}}
	refused := Cell{ID: "fake/min/mirrord-3.109.0", Tier: "fake", Client: "mirrord-3.109.0", ClientVersion: "3.109.0", Operator: "min", MinClientVersion: "3.200.0",
		CommandErrors: []string{"status: refused"}, Requirements: []Requirement{req(contract.ReqMinimumVersionNamed, Pass, ""), req(contract.ReqSessionID, Skip, contract.NotObserved)}}
	breaks := Cell{ID: "fake/current/mirrord-3.109.0", Tier: "fake", Client: "mirrord-3.109.0", ClientVersion: "3.109.0", Operator: "current", Rerun: "make conformance CLIENTS=mirrord-3.109.0 OPERATORS=current",
		Requirements: []Requirement{{ID: contract.ReqCertificateHeader, Outcome: Fail, Reason: "missing", Detail: "GET /apis/operator.metalbear.co/v1/proxy/namespaces/default/targets/deployment.nginx (target-connect) carries no x-client-der"}}}
	partly := Cell{ID: "fake/min/mirrord-3.250.0", Tier: "fake", Client: "mirrord-3.250.0", ClientVersion: "3.250.0", Operator: "min", MinClientVersion: "3.200.0",
		CommandErrors: []string{"exec: the operator issues no certificates"}, Requirements: []Requirement{req(contract.ReqVersionHeader, Pass, "")}}
	notRun := Cell{ID: "fake/current/mirrord-cli-3.250.0", Tier: "fake", Client: "mirrord-cli-3.250.0", ClientVersion: "3.250.0", Operator: "current",
		Requirements: []Requirement{{ID: contract.ReqVersionHeader, Outcome: Skip, Reason: Unavailable, Detail: "client mirrord-cli-3.250.0 is not installed"}}}
	control := Cell{ID: "fake/current/defect-x", Tier: "fake", Client: "defect-x", ClientVersion: "3.250.0", Defect: "x", Operator: "current", Control: "client",
		Requirements: []Requirement{{ID: contract.ReqCertificateHeader, Outcome: ExpectedFail, Reason: "missing", Control: contract.SideClient}}}
	return &Report{Format: FormatVersion, Cells: []Cell{works, refused, breaks, partly, notRun, control}}
}

func TestCompatibilityGrid(t *testing.T) {
	g := NewWithT(t)
	r := gridReport()
	md := r.Markdown()
	g.Expect(md).To(ContainSubstring("## Does the client work with the operator?"))
	g.Expect(strings.Index(md, "## Does the client work")).To(BeNumerically("<", strings.Index(md, "## Every cell")), "the report opens with it")
	g.Expect(md).To(ContainSubstring("| mirrord-3.250.0 | ✅ works | 🟡 works in part: exec: the operator issues no certificates |"))
	g.Expect(md).To(ContainSubstring("| mirrord-3.109.0 | ❌ breaks: HDR-CERTIFICATE (missing) | ⛔ refused by design: the operator serves clients from 3.200.0 on |"))
	g.Expect(md).To(ContainSubstring("| mirrord-cli-3.250.0 | · not run here |"))
	grid := md[strings.Index(md, "## Does the client"):strings.Index(md, "## Negative controls")]
	g.Expect(grid).NotTo(ContainSubstring("defect-x"), "negative controls have their own table")
	g.Expect(md).To(ContainSubstring("| defect-x | client | `fake/current/defect-x` | HDR-CERTIFICATE | ☑️ caught |"))

	tally := r.Tally()
	g.Expect(tally).To(Equal(Tally{Pass: 3, ExpectedFail: 1, Fail: 1, NotObserved: 1, NotApplicable: 1, NotRun: 1}))
	g.Expect(r.Verdict()).To(ContainSubstring("8 requirement outcomes (one a cell and requirement): 3 pass, 1 fail, 1 expected-fail (negative controls caught), 0 unexpected-pass, 1 not observed, 1 not run here, 1 not applicable"))
	g.Expect(r.Verdict()).To(ContainSubstring("Ginkgo's passed specs are the pass and expected-fail, its skipped ones the not observed and not run here"))
}

// TestReportPageInABrowser renders report.html in headless Chromium (Debian's chromium
// package; .ci/run installs it) and checks the grid's cells and verdicts in the page's DOM,
// keeping a screenshot in _artifacts/browser/.
func TestReportPageInABrowser(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (Debian's chromium package, which .ci/run installs): report.html is not checked in a browser here")
	}
	g := NewWithT(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	g.Expect(gridReport().WriteHTML(page)).To(Succeed())
	data, _ := os.ReadFile(page)
	g.Expect(string(data)).NotTo(MatchRegexp(`(?i)(src|href)=["']?(https?:)?//`), "self-contained: nothing fetched")

	browser := func(args ...string) []byte {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
			"--disable-component-update", "--disable-sync", "--user-data-dir=" + t.TempDir()}
		cmd := exec.CommandContext(ctx, chromium, append(base, args...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		g.Expect(err).NotTo(HaveOccurred(), "chromium: %s", stderr.String())
		return out
	}
	dom, err := html.Parse(bytes.NewReader(browser("--dump-dom", "file://"+page)))
	g.Expect(err).NotTo(HaveOccurred())
	verdicts := map[string]string{}
	var text strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			text.WriteString(n.Data)
		}
		if n.Type == html.ElementNode && n.Data == "td" {
			var cell, verdict string
			for _, a := range n.Attr {
				switch a.Key {
				case "data-cell":
					cell = a.Val
				case "data-verdict":
					verdict = a.Val
				}
			}
			if cell != "" {
				verdicts[cell] = verdict
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(dom)
	g.Expect(verdicts).To(Equal(map[string]string{
		"fake/current/mirrord-3.250.0": "works", "fake/min/mirrord-3.109.0": "refused by design", "fake/current/mirrord-3.109.0": "breaks",
		"fake/min/mirrord-3.250.0": "works in part", "fake/current/mirrord-cli-3.250.0": "not run here",
	}), "one cell a released client and operator, none for the negative control")
	g.Expect(text.String()).To(ContainSubstring("carries no x-client-der"), "the failing cell opens its failing request")
	g.Expect(text.String()).To(ContainSubstring("make conformance CLIENTS=mirrord-3.109.0 OPERATORS=current"), "and its re-run command")
	g.Expect(text.String()).To(ContainSubstring("caught"))
	g.Expect(text.String()).To(ContainSubstring("conformance broken"), "the verdict")

	shots := filepath.Join("..", "_artifacts", "browser")
	g.Expect(os.MkdirAll(shots, 0o755)).To(Succeed())
	shot, _ := filepath.Abs(filepath.Join(shots, "report.png"))
	browser("--screenshot="+shot, "--window-size=1400,700", "file://"+page)
	info, err := os.Stat(shot)
	g.Expect(err).NotTo(HaveOccurred(), "a screenshot is kept")
	g.Expect(info.Size()).To(BeNumerically(">", 1000))
	t.Logf("screenshot: %s", shot)
}
