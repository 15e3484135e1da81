# shellcheck shell=bash
# Helpers of the scripts that build this module's commands.

# go_inputs PACKAGE FLAGS prints a hash of what the binary of PACKAGE built with FLAGS is
# made of: the toolchain, its settings, the flags, go.mod and go.sum (which pin every other
# module), and every Go and embedded file of this module that the binary compiles. A binary
# kept beside the hash it was built from need not be linked again while the hash holds.
go_inputs() {
  {
    go version
    go env GOOS GOARCH GOAMD64 CGO_ENABLED GOFLAGS GOEXPERIMENT
    echo "$2"
    sha256sum go.mod go.sum
    go list -deps -f '{{if .Module}}{{if .Module.Main}}{{range .GoFiles}}{{$.Dir}}/{{.}}
{{end}}{{range .CgoFiles}}{{$.Dir}}/{{.}}
{{end}}{{range .EmbedFiles}}{{$.Dir}}/{{.}}
{{end}}{{end}}{{end}}' "$1" | xargs sha256sum
  } | sha256sum | cut -d' ' -f1
}
