// Command actlog reads act's JSON log (act --json) on standard input for make ci-local: it
// writes the log as act would print it, a line per record prefixed with its job, to
// standard output, and every job's step summary (what GITHUB_STEP_SUMMARY received, which
// GitHub shows on the run's page) to <summaries>/<job>.md.
//
//	act --json … | go run ./hack/actlog _artifacts/ci-local/summaries > act.log
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: actlog SUMMARIES_DIR < act.json > act.log")
		os.Exit(2)
	}
	if err := run(os.Stdin, os.Stdout, os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "actlog:", err)
		os.Exit(1)
	}
}

// record is the part of an act log record this program reads.
type record struct {
	Job     string `json:"job"`
	Msg     string `json:"msg"`
	Command string `json:"command"`
	Content string `json:"content"`
}

func run(in io.Reader, out io.Writer, summaries string) error {
	if err := os.MkdirAll(summaries, 0o755); err != nil {
		return err
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var r record
		if err := json.Unmarshal(line, &r); err != nil {
			fmt.Fprintf(out, "%s\n", line) // not a record: as it is
			continue
		}
		prefix := ""
		if r.Job != "" {
			prefix = "[" + r.Job + "] "
		}
		for _, l := range strings.Split(strings.TrimRight(r.Msg, "\n"), "\n") {
			fmt.Fprintf(out, "%s%s\n", prefix, l)
		}
		if r.Command == "summary" && r.Content != "" {
			if err := appendFile(filepath.Join(summaries, fileName(r.Job)+".md"), r.Content); err != nil {
				return err
			}
		}
	}
	return sc.Err()
}

// unsafe are the characters a job's name may hold that a file name should not.
var unsafe = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// fileName turns "conformance/conformance (fake-current-3.250.0)" into
// "conformance-conformance-fake-current-3.250.0".
func fileName(job string) string {
	if job == "" {
		job = "workflow"
	}
	return strings.Trim(unsafe.ReplaceAllString(job, "-"), "-")
}

func appendFile(path, content string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.WriteString(f, content); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
