package matrix

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"

	"github.com/opconform/opconform/contract"
)

// Validate reports every problem at once, each with its field path:
//   - names of contracts, clients and operators are unique and non-empty;
//   - versions are strict SemVer (no "v"), minClientVersion too;
//   - drivers are reference or external, kinds fake or real, tiers fake, apiserver or kind;
//   - a defect is one of the reference client's, on a reference client;
//   - a profile is one of the fake operator's, on a fake operator;
//   - contracts name at least the version and certificate headers, and gate overrides name
//     known requirements with valid SemVer constraints;
//   - clients name a known contract; operators and clients filters name known entries;
//   - expectations name known requirements.
func (m *Matrix) Validate() error {
	var errs []error
	add := func(path, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
	}
	contracts := map[string]bool{}
	for i, c := range m.Contracts {
		p := fmt.Sprintf("contracts[%d]", i)
		unique(add, p+".name", c.Name, contracts)
		if c.Headers.Version == "" || c.Headers.Certificate == "" {
			add(p+".headers", "version and certificate header names are required")
		}
		for j, g := range c.Requirements {
			gp := fmt.Sprintf("%s.requirements[%d]", p, j)
			if _, ok := contract.RequirementByID(g.ID); !ok {
				add(gp+".id", "unknown requirement %q", g.ID)
			}
			for field, constraint := range map[string]string{"clients": g.Clients, "operators": g.Operators} {
				if _, err := semver.NewConstraint(constraint); constraint != "" && err != nil {
					add(gp+"."+field, "%q is not a SemVer constraint: %v", constraint, err)
				}
			}
		}
	}
	for i, t := range m.Tiers {
		if !slices.Contains([]string{TierFake, TierAPIServer, TierKind}, t) {
			add(fmt.Sprintf("tiers[%d]", i), "unknown tier %q: want fake, apiserver or kind", t)
		}
	}
	timeouts := m.Timeouts.fields()
	for _, name := range slices.Sorted(maps.Keys(timeouts)) {
		if d := timeouts[name]; d.Duration < 0 {
			add("timeouts."+name, "%s is negative: a bound must be a positive duration (0 or unset: the default)", d.Duration)
		}
	}
	clients, operators := map[string]bool{}, map[string]bool{}
	for i, c := range m.Clients {
		p := fmt.Sprintf("clients[%d]", i)
		unique(add, p+".name", c.Name, clients)
		strictVersion(add, p+".version", c.Version, true)
		switch c.Driver {
		case DriverReference:
			if c.Defect != "" {
				if err := checkDefect(c.Defect); err != nil {
					add(p+".defect", "%v", err)
				}
			}
			if c.External != nil {
				add(p+".external", "only for driver external")
			}
		case DriverExternal:
			if c.Defect != "" {
				add(p+".defect", "defects are built into the reference client only")
			}
			validateExternal(add, p+".external", c.External)
		default:
			add(p+".driver", "unknown driver %q: want reference or external", c.Driver)
		}
		if !contracts[c.Contract] {
			add(p+".contract", "unknown contract %q", c.Contract)
		}
		expectations(add, p+".expectFail", c.ExpectFail)
		if code := c.FailEarlyExitCode; code != nil && (*code < 1 || *code > 255) {
			add(p+".failEarlyExitCode", "%d: an exit code of a failure is 1 to 255", *code)
		}
	}
	for i, o := range m.Operators {
		p := fmt.Sprintf("operators[%d]", i)
		unique(add, p+".name", o.Name, operators)
		strictVersion(add, p+".version", o.Version, true)
		strictVersion(add, p+".minClientVersion", o.MinClientVersion, false)
		switch o.Kind {
		case KindFake:
			if o.Real != nil {
				add(p+".real", "only for kind real")
			}
			if o.Profile != "" {
				if err := checkProfile(o.Profile); err != nil {
					add(p+".profile", "%v", err)
				}
			}
		case KindReal:
			if o.Profile != "" {
				add(p+".profile", "profiles are for fake operators")
			}
			switch {
			case o.Real == nil:
				add(p+".real", "required for kind real: chart and licenseEnv")
			case o.Real.Chart == "":
				add(p+".real.chart", "required")
			case o.Real.LicenseEnv == "":
				add(p+".real.licenseEnv", "required: the variable that holds the licence key")
			}
		default:
			add(p+".kind", "unknown kind %q: want fake or real", o.Kind)
		}
		expectations(add, p+".expectFail", o.ExpectFail)
		for j, e := range o.ExpectFail {
			if len(e.Operators) > 0 {
				add(fmt.Sprintf("%s.expectFail[%d].operators", p, j), "only a client's expectation names the operators it holds against")
			}
		}
	}
	for i, c := range m.Clients {
		for j, e := range c.ExpectFail {
			for k, name := range e.Operators {
				if !operators[name] {
					add(fmt.Sprintf("clients[%d].expectFail[%d].operators[%d]", i, j, k), "unknown operator %q", name)
				} else if len(c.Operators) > 0 && !slices.Contains(c.Operators, name) {
					add(fmt.Sprintf("clients[%d].expectFail[%d].operators[%d]", i, j, k), "operator %q is not among the client's operators", name)
				}
			}
		}
		for j, name := range c.Operators {
			if !operators[name] {
				add(fmt.Sprintf("clients[%d].operators[%d]", i, j), "unknown operator %q", name)
			}
		}
	}
	for i, o := range m.Operators {
		for j, name := range o.Clients {
			if !clients[name] {
				add(fmt.Sprintf("operators[%d].clients[%d]", i, j), "unknown client %q", name)
			}
		}
	}
	if len(m.Clients) == 0 {
		add("clients", "at least one client is required")
	}
	if len(m.Operators) == 0 {
		add("operators", "at least one operator is required")
	}
	return errors.Join(errs...)
}

// scenarioCommands are the scenarios an external client may have a command for.
var scenarioCommands = []string{"status", "ls", "exec"}

func validateExternal(add func(string, string, ...any), path string, e *External) {
	if e == nil {
		add(path, "required for driver external: install and commands")
		return
	}
	if e.Install == "" {
		add(path+".install", "required")
	}
	if len(e.Commands) == 0 {
		add(path+".commands", "at least one of status, ls, exec is required")
	}
	for name, cmd := range e.Commands {
		if !slices.Contains(scenarioCommands, name) {
			add(path+".commands."+name, "unknown scenario: want status, ls or exec")
		}
		if cmd == "" {
			add(path+".commands."+name, "empty command")
		}
		for _, m := range placeholder.FindAllString(cmd, -1) {
			if !slices.Contains(CommandPlaceholders, m) {
				add(path+".commands."+name, "unknown placeholder %s: want one of %s", m, strings.Join(CommandPlaceholders, ", "))
			}
		}
	}
}

// CommandPlaceholders are what an external client's command templates may hold: the binary,
// the namespace, and the target in the operator's URL form (deployment.nginx) or in the
// mirrord CLI's (deployment/nginx).
var CommandPlaceholders = []string{"{binary}", "{namespace}", "{target}", "{targetPath}"}

// placeholder finds what looks like a placeholder in a command template.
var placeholder = regexp.MustCompile(`\{[A-Za-z]+\}`)

func unique(add func(string, string, ...any), path, name string, seen map[string]bool) {
	switch {
	case name == "":
		add(path, "required")
	case seen[name]:
		add(path, "duplicate name %q", name)
	}
	seen[name] = true
}

func strictVersion(add func(string, string, ...any), path, v string, required bool) {
	if v == "" {
		if required {
			add(path, "required")
		}
		return
	}
	if err := CheckVersion(v); err != nil {
		add(path, "%v", err)
	}
}

// CheckVersion says what is wrong with a version that is not SemVer as the matrix writes
// it: MAJOR.MINOR.PATCH, no "v" prefix, an optional pre-release and build.
func CheckVersion(v string) error {
	_, err := semver.StrictNewVersion(v)
	if err == nil {
		return nil
	}
	core, _, _ := strings.Cut(strings.SplitN(v, "+", 2)[0], "-")
	numeric := core != "" && strings.Trim(core, "0123456789.") == ""
	switch {
	case strings.HasPrefix(v, "v") || strings.HasPrefix(v, "V"):
		return fmt.Errorf("%q has a \"v\" prefix: write %s", v, strings.TrimLeft(v, "vV"))
	case numeric && strings.Count(core, ".") < 2:
		return fmt.Errorf("%q is not MAJOR.MINOR.PATCH: write %s", v, core+strings.Repeat(".0", 2-strings.Count(core, ".")))
	}
	return fmt.Errorf("%q is not SemVer: %v", v, err)
}

func expectations(add func(string, string, ...any), path string, exps []Expectation) {
	for i, e := range exps {
		if _, ok := contract.RequirementByID(e.Requirement); !ok {
			add(fmt.Sprintf("%s[%d].requirement", path, i), "unknown requirement %q; `go run ./cmd/opconform requirements` lists them", e.Requirement)
		}
	}
}
