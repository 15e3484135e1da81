package mirrordproto

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf8"
)

// ErrShort is returned when a message ends before its last field.
var ErrShort = errors.New("message ends early")

// maxLen bounds decoded string and collection lengths, so a hostile length prefix cannot
// make the decoder allocate more than a frame could hold.
const maxLen = 1 << 20

// appendVarint appends v in bincode's variable-length integer encoding.
func appendVarint(b []byte, v uint64) []byte {
	switch {
	case v < 251:
		return append(b, byte(v))
	case v <= 0xffff:
		return binary.LittleEndian.AppendUint16(append(b, 251), uint16(v))
	case v <= 0xffffffff:
		return binary.LittleEndian.AppendUint32(append(b, 252), uint32(v))
	default:
		return binary.LittleEndian.AppendUint64(append(b, 253), v)
	}
}

func appendString(b []byte, s string) []byte {
	return append(appendVarint(b, uint64(len(s))), s...)
}

// decoder reads bincode values from a buffer.
type decoder struct {
	buf []byte
}

func (d *decoder) varint() (uint64, error) {
	if len(d.buf) == 0 {
		return 0, ErrShort
	}
	tag := d.buf[0]
	var n int
	switch {
	case tag < 251:
		d.buf = d.buf[1:]
		return uint64(tag), nil
	case tag == 251:
		n = 2
	case tag == 252:
		n = 4
	case tag == 253:
		n = 8
	default:
		return 0, fmt.Errorf("varint tag %d is not supported", tag)
	}
	if len(d.buf) < 1+n {
		return 0, ErrShort
	}
	var v uint64
	switch n {
	case 2:
		v = uint64(binary.LittleEndian.Uint16(d.buf[1:]))
	case 4:
		v = uint64(binary.LittleEndian.Uint32(d.buf[1:]))
	default:
		v = binary.LittleEndian.Uint64(d.buf[1:])
	}
	d.buf = d.buf[1+n:]
	return v, nil
}

func (d *decoder) length() (int, error) {
	n, err := d.varint()
	if err != nil {
		return 0, err
	}
	if n > maxLen {
		return 0, fmt.Errorf("length %d exceeds %d", n, maxLen)
	}
	return int(n), nil
}

func (d *decoder) string() (string, error) {
	n, err := d.length()
	if err != nil {
		return "", err
	}
	if len(d.buf) < n {
		return "", ErrShort
	}
	s := string(d.buf[:n])
	d.buf = d.buf[n:]
	if !utf8.ValidString(s) {
		return "", errors.New("string is not UTF-8")
	}
	return s, nil
}

func (d *decoder) strings() ([]string, error) {
	n, err := d.length()
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, min(n, 64))
	for range n {
		s, err := d.string()
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}
