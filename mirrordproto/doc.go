// Package mirrordproto encodes and decodes the few mirrord-protocol messages a target
// connection needs to get going: protocol-version switch, environment request, ping and
// close. Messages are bincode 2 with the standard configuration (variable-length integers),
// one message per binary WebSocket frame, as the mirrord client sends them.
package mirrordproto
