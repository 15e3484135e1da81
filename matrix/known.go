package matrix

import (
	"fmt"
	"slices"
	"strings"
	"sync"
)

// The names a matrix may use that other packages define: the reference client's defects
// (package client registers them) and the fake operator's profiles (package fakeoperator).
// The matrix checks a name against what was registered, so that it needs neither package;
// a program that loads a matrix links both (the runner runs their cells).
var known = struct {
	sync.Mutex
	defects, profiles []string
}{}

// RegisterDefects adds defect names a reference client can be built with.
func RegisterDefects(names ...string) {
	known.Lock()
	defer known.Unlock()
	known.defects = append(known.defects, names...)
}

// RegisterProfiles adds fake operator profile names.
func RegisterProfiles(names ...string) {
	known.Lock()
	defer known.Unlock()
	known.profiles = append(known.profiles, names...)
}

// checkKnown says what is wrong with name as one of kind's registered names: unknown (with
// the names there are), or not checkable because this program registered none.
func checkKnown(kind, name string, names []string) error {
	if len(names) == 0 {
		return fmt.Errorf("%s %q cannot be checked: this program registered no %ss (it links neither the reference client nor the fake operator)", kind, name, kind)
	}
	if slices.Contains(names, name) {
		return nil
	}
	return fmt.Errorf("unknown %s %q; known: %s", kind, name, strings.Join(names, ", "))
}

func checkDefect(name string) error {
	known.Lock()
	defer known.Unlock()
	return checkKnown("defect", name, known.defects)
}

func checkProfile(name string) error {
	known.Lock()
	defer known.Unlock()
	return checkKnown("operator profile", name, known.profiles)
}
