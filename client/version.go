package client

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/Masterminds/semver/v3"
	"golang.org/x/mod/module"
)

// Set at build time with -ldflags "-X github.com/opconform/opconform/client.version=…".
var (
	version   string
	commit    string
	buildDate string
	defect    string
)

// ErrNoVersion is returned when the binary carries no valid SemVer version.
var ErrNoVersion = errors.New("no valid client version")

// BuildInfo describes the binary.
type BuildInfo struct {
	Version   *semver.Version
	Commit    string
	BuildDate string
	Platform  string
	// Defect is the deliberate defect this build carries, or "" for a sound client.
	Defect Defect
}

// Build returns the binary's build information. The version is the injected one, or, with
// nothing injected, the main module's version from the build information (as for `go
// install …@v1.2.3`); either must be valid SemVer without a "v" prefix in the injected case.
func Build() (BuildInfo, error) {
	info := BuildInfo{Commit: commit, BuildDate: buildDate, Platform: runtime.GOOS + "/" + runtime.GOARCH, Defect: Defect(defect)}
	if err := info.Defect.Validate(); err != nil {
		return info, err
	}
	v, err := resolveVersion(version, debug.ReadBuildInfo)
	info.Version = v
	if info.Commit == "" || info.BuildDate == "" {
		fillVCS(&info)
	}
	return info, err
}

// resolveVersion picks the injected version or the module's.
func resolveVersion(injected string, read func() (*debug.BuildInfo, bool)) (*semver.Version, error) {
	if injected != "" {
		v, err := semver.StrictNewVersion(injected)
		if err != nil {
			return nil, fmt.Errorf("%w: injected version %q is not SemVer (%v); build with -ldflags \"-X "+
				"github.com/opconform/opconform/client.version=3.250.0\"", ErrNoVersion, injected, err)
		}
		return v, nil
	}
	bi, ok := read()
	// a source build has none, or (Go 1.24+, in a git checkout) a pseudo-version such as
	// v0.0.0-20261128200709-2c4e896abcde: not a release, and v0.0.0 would pass for an
	// ancient client
	if !ok || bi.Main.Version == "" || bi.Main.Version == "(devel)" || module.IsPseudoVersion(bi.Main.Version) {
		return nil, fmt.Errorf("%w: none was injected and the module has no release version (a source build); build with -ldflags "+
			"\"-X github.com/opconform/opconform/client.version=3.250.0\"", ErrNoVersion)
	}
	v, err := semver.NewVersion(bi.Main.Version)
	if err != nil || bi.Main.Version[0] != 'v' {
		return nil, fmt.Errorf("%w: module version %q is not SemVer", ErrNoVersion, bi.Main.Version)
	}
	return v, nil
}

func fillVCS(info *BuildInfo) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return
	}
	for _, s := range bi.Settings {
		switch {
		case s.Key == "vcs.revision" && info.Commit == "":
			info.Commit = s.Value
		case s.Key == "vcs.time" && info.BuildDate == "":
			info.BuildDate = s.Value
		}
	}
}
