package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

// ourBoundingSet is this workplace's: every capability but CAP_SYS_RESOURCE (bit 24).
const ourStatus = "Name:\tx\nCapBnd:\t000001fffeffffff\nCapAmb:\t0\n"

func TestBoundingSet(t *testing.T) {
	g := NewWithT(t)
	set, err := parseBoundingSet(ourStatus)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(set).To(HaveKey("CAP_SYS_ADMIN"))
	g.Expect(set).To(HaveKey("CAP_CHECKPOINT_RESTORE"))
	g.Expect(set).NotTo(HaveKey("CAP_SYS_RESOURCE"))
	g.Expect(set).To(HaveLen(len(capabilityNames) - 1))
	_, err = parseBoundingSet("Name:\tx\n")
	g.Expect(err).To(MatchError(ContainSubstring("no CapBnd")))
}

func TestSubcommandAndFlags(t *testing.T) {
	g := NewWithT(t)
	sub, rest := subcommand(strings.Fields("--root /r --log /l --log-format json create --bundle /b --pid-file p id"))
	g.Expect(sub).To(Equal("create"))
	g.Expect(flagValue(rest, "--bundle", "-b")).To(Equal("/b"))
	sub, rest = subcommand(strings.Fields("--root /r exec --process /p.json --detach --pid-file p id"))
	g.Expect(sub).To(Equal("exec"))
	g.Expect(flagValue(rest, "--process", "-p")).To(Equal("/p.json"))
	g.Expect(flagValue([]string{"-b=/x"}, "--bundle", "-b")).To(Equal("/x"))
	sub, _ = subcommand(strings.Fields("--root /r delete --force id"))
	g.Expect(sub).To(Equal("delete"))
}

// privilegedConfig is what docker 20.10 writes for `docker run --privileged` (trimmed).
const privilegedConfig = `{"ociVersion":"1.0.2","process":{"args":["/sbin/init"],"oomScoreAdj":-998,
"capabilities":{"bounding":["CAP_CHOWN","CAP_SYS_RESOURCE","CAP_SYS_ADMIN"],"effective":["CAP_CHOWN","CAP_SYS_RESOURCE"],
"permitted":["CAP_SYS_RESOURCE"]}},"root":{"path":"rootfs"},"linux":{"namespaces":[{"type":"pid"}]}}`

func TestAdjustFileKeepsEverythingElse(t *testing.T) {
	g := NewWithT(t)
	available, _ := parseBoundingSet(ourStatus)
	path := filepath.Join(t.TempDir(), "config.json")
	g.Expect(os.WriteFile(path, []byte(privilegedConfig), 0o600)).To(Succeed())
	g.Expect(adjustFile(path, true, available)).To(Succeed())

	var doc map[string]any
	data, _ := os.ReadFile(path)
	g.Expect(json.Unmarshal(data, &doc)).To(Succeed())
	process := doc["process"].(map[string]any)
	caps := process["capabilities"].(map[string]any)
	g.Expect(caps["bounding"]).To(Equal([]any{"CAP_CHOWN", "CAP_SYS_ADMIN"}))
	g.Expect(caps["effective"]).To(Equal([]any{"CAP_CHOWN"}))
	g.Expect(caps["permitted"]).To(BeEmpty())
	g.Expect(process["oomScoreAdj"]).To(BeNumerically("==", 0), "lowering needs CAP_SYS_RESOURCE")
	g.Expect(process["args"]).To(Equal([]any{"/sbin/init"}))
	g.Expect(doc["linux"]).To(Equal(map[string]any{"namespaces": []any{map[string]any{"type": "pid"}}}), "fields it does not touch stay")
	info, _ := os.Stat(path)
	g.Expect(info.Mode().Perm()).To(Equal(os.FileMode(0o600)))

	// where the capability is available, nothing changes
	all, _ := parseBoundingSet("CapBnd:\t000001ffffffffff\n")
	g.Expect(os.WriteFile(path, []byte(privilegedConfig), 0o600)).To(Succeed())
	g.Expect(adjustFile(path, true, all)).To(Succeed())
	data, _ = os.ReadFile(path)
	g.Expect(string(data)).To(Equal(privilegedConfig))
}

// TestStandsInForRunc runs the built program in front of a stand-in runc that records its
// arguments and the files it was given.
func TestStandsInForRunc(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "runc-capdrop")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	g.Expect(err).NotTo(HaveOccurred(), string(out))
	record := filepath.Join(dir, "record")
	fake := filepath.Join(dir, "runc")
	g.Expect(os.WriteFile(fake, []byte("#!/bin/sh\necho \"$0 $*\" > "+record+"\n"), 0o755)).To(Succeed())
	bundle := filepath.Join(dir, "bundle")
	g.Expect(os.MkdirAll(bundle, 0o755)).To(Succeed())
	g.Expect(os.WriteFile(filepath.Join(bundle, "config.json"), []byte(privilegedConfig), 0o644)).To(Succeed())
	process := filepath.Join(dir, "process.json")
	g.Expect(os.WriteFile(process, []byte(`{"args":["sh"],"capabilities":{"bounding":["CAP_SYS_RESOURCE","CAP_KILL"]}}`), 0o644)).To(Succeed())

	available, err := boundingSet()
	g.Expect(err).NotTo(HaveOccurred())
	run := func(args ...string) string {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "OPCONFORM_REAL_RUNC="+fake)
		out, err := cmd.CombinedOutput()
		g.Expect(err).NotTo(HaveOccurred(), string(out))
		data, _ := os.ReadFile(record)
		return strings.TrimSpace(string(data))
	}
	args := []string{"--root", "/r", "--log", "/l", "create", "--bundle", bundle, "--pid-file", "p", "id"}
	g.Expect(run(args...)).To(Equal(fake+" "+strings.Join(args, " ")), "the real runc gets the same arguments")
	config, _ := os.ReadFile(filepath.Join(bundle, "config.json"))
	g.Expect(strings.Contains(string(config), "CAP_SYS_RESOURCE")).To(Equal(available["CAP_SYS_RESOURCE"]), "only what this machine lacks is dropped")

	run("exec", "--process", process, "--detach", "id")
	data, _ := os.ReadFile(process)
	g.Expect(string(data)).To(ContainSubstring("CAP_KILL"))
	g.Expect(strings.Contains(string(data), "CAP_SYS_RESOURCE")).To(Equal(available["CAP_SYS_RESOURCE"]))

	g.Expect(run("delete", "--force", "id")).To(Equal(fake + " delete --force id"))
}
