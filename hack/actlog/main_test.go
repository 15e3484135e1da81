package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

func TestLogAndSummaries(t *testing.T) {
	g := NewWithT(t)
	in := strings.Join([]string{
		`{"level":"warning","msg":"no docker","time":"t"}`,
		`{"job":"conformance/conformance (fake-current-3.250.0)","msg":"⭐ Run Main job summary","step":"job summary"}`,
		`{"job":"conformance/conformance (fake-current-3.250.0)","msg":"  ⚙  Summary - # report","command":"summary","content":"# report\n\n**✅ holds**\n"}`,
		`{"job":"conformance/report","msg":"  | line one\n  | line two"}`,
		`not json`,
	}, "\n")
	dir := t.TempDir()
	var out strings.Builder
	g.Expect(run(strings.NewReader(in), &out, dir)).To(Succeed())
	g.Expect(out.String()).To(Equal("no docker\n" +
		"[conformance/conformance (fake-current-3.250.0)] ⭐ Run Main job summary\n" +
		"[conformance/conformance (fake-current-3.250.0)]   ⚙  Summary - # report\n" +
		"[conformance/report]   | line one\n[conformance/report]   | line two\nnot json\n"))
	summary, err := os.ReadFile(filepath.Join(dir, "conformance-conformance-fake-current-3.250.0.md"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(summary)).To(Equal("# report\n\n**✅ holds**\n"))
}
