package mirrordproto

import (
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

func TestClientRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		msg  ClientMessage
		wire []byte
	}{
		{name: "switch version", msg: ClientMessage{Kind: ClientSwitchProtocolVersion, Version: "1.29.0"}, wire: append([]byte{10, 6}, "1.29.0"...)},
		{name: "ping", msg: ClientMessage{Kind: ClientPing}, wire: []byte{7}},
		{name: "env", msg: ClientMessage{Kind: ClientGetEnvVarsRequest, EnvFilter: []string{"A"}, EnvSelect: []string{}}, wire: []byte{6, 1, 1, 'A', 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			b, err := EncodeClient(tc.msg)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(b).To(Equal(tc.wire), "bincode bytes")
			back, err := DecodeClient(b)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(back.Kind).To(Equal(tc.msg.Kind))
			g.Expect(back.Version).To(Equal(tc.msg.Version))
		})
	}
}

func TestDaemonRoundTrip(t *testing.T) {
	g := NewWithT(t)
	long := strings.Repeat("x", 300)
	b, err := EncodeDaemon(DaemonMessage{Kind: DaemonGetEnvVarsResponse, Env: map[string]string{"B": "2", "A": long}})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(b[:4]).To(Equal([]byte{8, 0, 2, 1}), "kind, Ok, two entries, key length")
	back, err := DecodeDaemon(b)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(back.Env).To(Equal(map[string]string{"A": long, "B": "2"}))
}

func TestDecodeRejects(t *testing.T) {
	for _, tc := range []struct {
		name  string
		frame []byte
		want  string
	}{
		{name: "empty", frame: nil, want: "ends early"},
		{name: "unknown kind", frame: []byte{99}, want: "not supported"},
		{name: "short string", frame: []byte{10, 5, 'a'}, want: "ends early"},
		{name: "trailing", frame: []byte{7, 0}, want: "bytes after"},
		{name: "huge length", frame: []byte{10, 253, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, want: "exceeds"},
		{name: "bad varint tag", frame: []byte{254}, want: "not supported"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeClient(tc.frame)
			NewWithT(t).Expect(err).To(MatchError(ContainSubstring(tc.want)))
		})
	}
}

func FuzzDecodeClient(f *testing.F) {
	f.Add([]byte{10, 6, '1', '.', '2', '9', '.', '0'})
	f.Add([]byte{6, 1, 1, 'A', 0})
	f.Fuzz(func(t *testing.T, frame []byte) {
		m, err := DecodeClient(frame)
		if err != nil {
			return
		}
		b, err := EncodeClient(m)
		if err != nil {
			t.Fatalf("re-encoding %+v: %v", m, err)
		}
		if _, err := DecodeClient(b); err != nil {
			t.Fatalf("decoding re-encoded %+v: %v", m, err)
		}
	})
}
