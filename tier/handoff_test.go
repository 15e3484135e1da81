package tier

import (
	"io"
	"net"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

// serveOnce answers each connection of l with a fixed byte.
func serveOnce(l net.Listener, b byte) {
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte{b})
			_ = c.Close()
		}
	}()
}

func dialRead(t *testing.T, addr string) byte {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 1)
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatalf("reading: %v", err)
	}
	return buf[0]
}

func TestHandoffKeepsTheAddressAcrossServers(t *testing.T) {
	g := NewWithT(t)
	h, err := newHandoff("127.0.0.1:0", 10*time.Second)
	g.Expect(err).NotTo(HaveOccurred())
	defer h.Close()
	addr := h.l.Addr().String()

	first := h.next()
	serveOnce(first, 'a')
	g.Expect(dialRead(t, addr)).To(Equal(byte('a')))
	g.Expect(first.Close()).To(Succeed())
	_, err = first.Accept()
	g.Expect(err).To(MatchError(net.ErrClosed))

	// a connection made between servers waits for the next one
	got := make(chan byte, 1)
	go func() { got <- dialRead(t, addr) }()
	time.Sleep(50 * time.Millisecond)
	second := h.next()
	serveOnce(second, 'b')
	g.Eventually(got).WithTimeout(5 * time.Second).Should(Receive(Equal(byte('b'))))
	g.Expect(second.Addr().String()).To(Equal(addr))
}
