package main

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

// capabilityNames are Linux capabilities by number, as OCI specs name them.
var capabilityNames = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
	"CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
	"CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
	"CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
}

// boundingSet is the set of capability names this process's bounding set holds.
func boundingSet() (map[string]bool, error) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return nil, fmt.Errorf("reading the capability bounding set: %w", err)
	}
	return parseBoundingSet(string(data))
}

// parseBoundingSet reads CapBnd from /proc/<pid>/status.
func parseBoundingSet(status string) (map[string]bool, error) {
	for line := range strings.SplitSeq(status, "\n") {
		hex, ok := strings.CutPrefix(line, "CapBnd:")
		if !ok {
			continue
		}
		mask, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
		if err != nil {
			return nil, fmt.Errorf("CapBnd %q: %w", hex, err)
		}
		set := map[string]bool{}
		for i, name := range capabilityNames {
			if mask&(1<<i) != 0 {
				set[name] = true
			}
		}
		return set, nil
	}
	return nil, fmt.Errorf("no CapBnd line in /proc/self/status")
}

// adjustFile rewrites an OCI config.json (inConfig: the process is under "process") or a
// runc exec process file, keeping every field it does not touch.
func adjustFile(path string, inConfig bool, available map[string]bool) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	process := doc
	if inConfig {
		p, ok := doc["process"].(map[string]any)
		if !ok {
			return nil // no process to start
		}
		process = p
	}
	if !adjustProcess(process, available) {
		return nil
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	return os.WriteFile(path, out, info.Mode().Perm())
}

// adjustProcess drops the capabilities that are not available from every set, and raises
// a negative oomScoreAdj to 0 when CAP_SYS_RESOURCE is not available; it reports whether
// it changed anything.
func adjustProcess(process map[string]any, available map[string]bool) bool {
	changed := false
	if caps, ok := process["capabilities"].(map[string]any); ok {
		for set, v := range caps {
			list, ok := v.([]any)
			if !ok {
				continue
			}
			kept := slices.DeleteFunc(slices.Clone(list), func(c any) bool {
				name, _ := c.(string)
				return !available[name]
			})
			if len(kept) != len(list) {
				caps[set], changed = kept, true
			}
		}
	}
	if adj, ok := process["oomScoreAdj"].(float64); ok && adj < 0 && !available["CAP_SYS_RESOURCE"] {
		process["oomScoreAdj"], changed = 0, true
	}
	return changed
}

// subcommand splits runc's arguments into its subcommand and the subcommand's arguments,
// skipping runc's global flags (those of them that take a value, too).
func subcommand(args []string) (string, []string) {
	valued := []string{"--root", "--log", "--log-format", "--criu", "--rootless"}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case slices.Contains(valued, a):
			i++
		case strings.HasPrefix(a, "-"):
		default:
			return a, args[i+1:]
		}
	}
	return "", nil
}

// flagValue is the value of a flag given as "--name V", "--name=V", "-n V" or "-n=V".
func flagValue(args []string, names ...string) string {
	for i, a := range args {
		for _, n := range names {
			if a == n && i+1 < len(args) {
				return args[i+1]
			}
			if v, ok := strings.CutPrefix(a, n+"="); ok {
				return v
			}
		}
	}
	return ""
}
