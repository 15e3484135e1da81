package mirrordproto

import (
	"fmt"
	"maps"
	"slices"
)

// ProtocolVersion is the mirrord-protocol version of the client release PROTOCOL.md was
// read from (3.250.0).
const ProtocolVersion = "1.29.0"

// ClientKind is the variant index of a ClientMessage (declaration order in mirrord-protocol).
type ClientKind uint32

// ClientMessage variants this package knows.
const (
	ClientClose                 ClientKind = 0
	ClientGetEnvVarsRequest     ClientKind = 6
	ClientPing                  ClientKind = 7
	ClientSwitchProtocolVersion ClientKind = 10
)

// DaemonKind is the variant index of a DaemonMessage.
type DaemonKind uint32

// DaemonMessage variants this package knows.
const (
	DaemonClose                         DaemonKind = 0
	DaemonPong                          DaemonKind = 7
	DaemonGetEnvVarsResponse            DaemonKind = 8
	DaemonSwitchProtocolVersionResponse DaemonKind = 11
)

// ClientMessage is a decoded client → operator message. Only the fields of Kind are set.
type ClientMessage struct {
	Kind ClientKind
	// Version is set for SwitchProtocolVersion.
	Version string
	// EnvFilter and EnvSelect are set for GetEnvVarsRequest.
	EnvFilter, EnvSelect []string
}

// EncodeClient encodes m. Unknown kinds are an error.
func EncodeClient(m ClientMessage) ([]byte, error) {
	b := appendVarint(nil, uint64(m.Kind))
	switch m.Kind {
	case ClientClose, ClientPing:
	case ClientSwitchProtocolVersion:
		b = appendString(b, m.Version)
	case ClientGetEnvVarsRequest:
		for _, set := range [][]string{m.EnvFilter, m.EnvSelect} {
			b = appendVarint(b, uint64(len(set)))
			for _, s := range set {
				b = appendString(b, s)
			}
		}
	default:
		return nil, fmt.Errorf("encoding client message: kind %d is not supported", m.Kind)
	}
	return b, nil
}

// DecodeClient decodes one client message that fills the whole frame.
func DecodeClient(frame []byte) (ClientMessage, error) {
	d := &decoder{buf: frame}
	kind, err := d.varint()
	if err != nil {
		return ClientMessage{}, fmt.Errorf("decoding client message: %w", err)
	}
	m := ClientMessage{Kind: ClientKind(kind)}
	switch m.Kind {
	case ClientClose, ClientPing:
	case ClientSwitchProtocolVersion:
		m.Version, err = d.string()
	case ClientGetEnvVarsRequest:
		if m.EnvFilter, err = d.strings(); err == nil {
			m.EnvSelect, err = d.strings()
		}
	default:
		return m, fmt.Errorf("decoding client message: kind %d is not supported", kind)
	}
	if err == nil && len(d.buf) != 0 {
		err = fmt.Errorf("%d bytes after the message", len(d.buf))
	}
	if err != nil {
		return m, fmt.Errorf("decoding client message kind %d: %w", kind, err)
	}
	return m, nil
}

// DaemonMessage is a decoded operator → client message. Only the fields of Kind are set.
type DaemonMessage struct {
	Kind DaemonKind
	// Version is set for SwitchProtocolVersionResponse.
	Version string
	// Env is set for GetEnvVarsResponse (always the Ok variant).
	Env map[string]string
	// Reason is set for Close.
	Reason string
}

// EncodeDaemon encodes m; map entries are written in key order so frames are reproducible.
func EncodeDaemon(m DaemonMessage) ([]byte, error) {
	b := appendVarint(nil, uint64(m.Kind))
	switch m.Kind {
	case DaemonPong:
	case DaemonClose:
		b = appendString(b, m.Reason)
	case DaemonSwitchProtocolVersionResponse:
		b = appendString(b, m.Version)
	case DaemonGetEnvVarsResponse:
		b = appendVarint(b, 0) // Result::Ok
		b = appendVarint(b, uint64(len(m.Env)))
		for _, k := range slices.Sorted(maps.Keys(m.Env)) {
			b = appendString(appendString(b, k), m.Env[k])
		}
	default:
		return nil, fmt.Errorf("encoding daemon message: kind %d is not supported", m.Kind)
	}
	return b, nil
}

// DecodeDaemon decodes one daemon message that fills the whole frame.
func DecodeDaemon(frame []byte) (DaemonMessage, error) {
	d := &decoder{buf: frame}
	kind, err := d.varint()
	if err != nil {
		return DaemonMessage{}, fmt.Errorf("decoding daemon message: %w", err)
	}
	m := DaemonMessage{Kind: DaemonKind(kind)}
	switch m.Kind {
	case DaemonPong:
	case DaemonClose:
		m.Reason, err = d.string()
	case DaemonSwitchProtocolVersionResponse:
		m.Version, err = d.string()
	case DaemonGetEnvVarsResponse:
		err = d.env(&m)
	default:
		return m, fmt.Errorf("decoding daemon message: kind %d is not supported", kind)
	}
	if err == nil && len(d.buf) != 0 {
		err = fmt.Errorf("%d bytes after the message", len(d.buf))
	}
	if err != nil {
		return m, fmt.Errorf("decoding daemon message kind %d: %w", kind, err)
	}
	return m, nil
}

func (d *decoder) env(m *DaemonMessage) error {
	variant, err := d.varint()
	if err != nil {
		return err
	}
	if variant != 0 {
		return fmt.Errorf("environment response is an error (variant %d)", variant)
	}
	n, err := d.length()
	if err != nil {
		return err
	}
	m.Env = make(map[string]string, min(n, 64))
	for range n {
		k, err := d.string()
		if err != nil {
			return err
		}
		if m.Env[k], err = d.string(); err != nil {
			return err
		}
	}
	return nil
}
