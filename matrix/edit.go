package matrix

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
)

// ErrExists is returned when the matrix already has the entry.
var ErrExists = errors.New("already in the matrix")

// AddClient adds the reference client of a release, mirrord-VERSION, to the matrix file.
func AddClient(path, version string) error {
	return insertLine(path, "clients:", "  - {name: mirrord-", fmt.Sprintf("  - {name: mirrord-%s, version: %s}", version, version))
}

// releasedClient is the matrix entry of a released mirrord CLI: status, ls and an exec of
// `true` with the CLI's own target form, and the exit code it ends every error with (1:
// main returns a miette::Result).
const releasedClient = `  - name: mirrord-cli-%[1]s
    version: %[1]s
    driver: external
    operators: [%[2]s]
    failEarlyExitCode: 1
    external:
      install: scripts/install-mirrord.sh {version}
      commands:
        status: "{binary} operator status"
        ls: "{binary} ls"
        exec: "{binary} exec --target {targetPath} -- true"`

// AddReleasedClient adds the released mirrord CLI of a version, mirrord-cli-VERSION, run
// against operator, beside the reference clients.
func AddReleasedClient(path, version, operator string) error {
	return insertLine(path, "clients:", "  - {name: mirrord-", fmt.Sprintf(releasedClient, version, operator))
}

// AddOperator adds a fake operator of a version under name.
func AddOperator(path, name, version string) error {
	return insertLine(path, "operators:", "  - {name: ", fmt.Sprintf("  - {name: %s, version: %s}", name, version))
}

// insertLine adds line to the matrix file after the last line starting with prefix in the
// section that starts with section, keeping comments and layout; the file must still load.
func insertLine(path, section, prefix, line string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading the matrix: %w", err)
	}
	if first, _, _ := strings.Cut(strings.TrimSpace(line), "\n"); bytes.Contains(data, []byte(first)) {
		return fmt.Errorf("%s: %w", first, ErrExists)
	}
	lines := strings.Split(string(data), "\n")
	start := slices.Index(lines, section)
	if start < 0 {
		return fmt.Errorf("%s has no %q section", path, section)
	}
	at := start + 1
	for i := start + 1; i < len(lines); i++ {
		if lines[i] != "" && !strings.HasPrefix(lines[i], " ") && !strings.HasPrefix(lines[i], "#") {
			break // the next top-level key
		}
		if strings.HasPrefix(lines[i], prefix) {
			at = i + 1
		}
	}
	lines = slices.Insert(lines, at, line)
	updated := []byte(strings.Join(lines, "\n"))
	if _, err := Parse(updated); err != nil {
		return fmt.Errorf("%s would not load with %q: %w", path, line, err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, updated, 0o644); err != nil {
		return fmt.Errorf("writing the matrix: %w", err)
	}
	return os.Rename(tmp, path)
}
