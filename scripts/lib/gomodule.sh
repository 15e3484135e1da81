# shellcheck shell=bash
# Helpers of the scripts that build commands from Go modules in a throwaway module.

# write_tools_go PACKAGE... writes tools.go, which imports the commands to build so that
# go mod tidy keeps their modules (the file is never built).
write_tools_go() {
  local pkg
  {
    echo '//go:build tools'
    echo
    echo '// Package tools names the commands to build, so that go mod tidy keeps their modules.'
    echo 'package tools'
    echo
    echo 'import ('
    for pkg in "$@"; do echo "	_ \"${pkg}\""; done
    echo ')'
  } > tools.go
}
