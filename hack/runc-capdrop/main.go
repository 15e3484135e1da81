// Command runc-capdrop is an OCI runtime for dockerd (and containerd) on machines whose
// capability bounding set lacks capabilities that privileged containers ask for — on ours,
// CAP_SYS_RESOURCE — so that `docker run --privileged`, which kind's nodes need, fails
// there with "unable to apply caps". It stands in for runc: it removes from the container's
// process every capability this machine's bounding set lacks, raises a negative
// oomScoreAdj to 0 when CAP_SYS_RESOURCE is missing (lowering it needs that capability),
// and then executes the real runc with the same arguments. It does this for `create` and
// `run` (the bundle's config.json) and for `exec --process FILE` (docker exec into a
// privileged container reuses its full capability set). Every other subcommand passes
// through untouched. It is not a sandbox: it only drops what could not be had anyway.
//
// Register it with dockerd: --add-runtime opconform-capdrop=PATH --default-runtime
// opconform-capdrop (scripts/docker-up.sh does). The real runc is OPCONFORM_REAL_RUNC, or
// the first runc on PATH that is not this program.
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
)

func main() {
	real, err := realRunc()
	if err == nil {
		err = rewrite(os.Args[1:])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "runc-capdrop:", err)
		os.Exit(1)
	}
	err = syscall.Exec(real, append([]string{"runc"}, os.Args[1:]...), os.Environ())
	fmt.Fprintf(os.Stderr, "runc-capdrop: executing %s: %v\n", real, err)
	os.Exit(1)
}

// rewrite adjusts what the subcommand in args will run, in place.
func rewrite(args []string) error {
	sub, rest := subcommand(args)
	if sub != "create" && sub != "run" && sub != "exec" {
		return nil
	}
	available, err := boundingSet()
	if err != nil {
		return err
	}
	if sub == "exec" {
		if file := flagValue(rest, "--process", "-p"); file != "" {
			return adjustFile(file, false, available)
		}
		return nil
	}
	bundle := flagValue(rest, "--bundle", "-b")
	if bundle == "" {
		bundle = "."
	}
	return adjustFile(filepath.Join(bundle, "config.json"), true, available)
}

// realRunc is the runc this program stands in for.
func realRunc() (string, error) {
	if p := os.Getenv("OPCONFORM_REAL_RUNC"); p != "" {
		return p, nil
	}
	self, err := os.Executable()
	if err == nil {
		self, err = filepath.EvalSymlinks(self)
	}
	if err != nil {
		return "", fmt.Errorf("finding this program: %w", err)
	}
	candidates := filepath.SplitList(os.Getenv("PATH"))
	candidates = append(candidates, "/usr/local/sbin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
	for _, dir := range candidates {
		p := filepath.Join(dir, "runc")
		resolved, err := filepath.EvalSymlinks(p)
		if err != nil || resolved == self {
			continue
		}
		if _, err := exec.LookPath(resolved); err == nil {
			return resolved, nil
		}
	}
	return "", errors.New("no runc to stand in for: set OPCONFORM_REAL_RUNC or put runc on PATH")
}
