package sockdiag

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net/netip"
	"strconv"

	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
)

// maxProcNetLine bounds one /proc/net line; the kernel pads TCP lines to
// 150 bytes and UDP lines are shorter.
const maxProcNetLine = 512

// ReadProcNet lists the sockets req selects from <root>/proc/net/{tcp,
// tcp6,udp,udp6}: the fallback when sock_diag is unavailable (a kernel
// without inet_diag or udp_diag, a seccomp profile refusing netlink).
// It reads the reader's network namespace; see the package comment.
func ReadProcNet(root hostfs.Root, req Request, dst []Socket) ([]Socket, error) {
	name := req.Protocol.String()
	if req.Family == IPv6 {
		name += "6"
	}
	f, err := root.Open("proc", "net", name)
	if err != nil {
		return dst, err // *PathError names the file
	}
	defer f.Close()
	dst, err = ParseProcNet(f, req, dst)
	if err != nil {
		return dst, fmt.Errorf("read %s: %w", f.Name(), err)
	}
	return dst, nil
}

// ParseProcNet parses a /proc/net/{tcp,tcp6,udp,udp6} file of this
// machine, appending the sockets of req.States to dst. req.Family and
// req.Protocol label the sockets and decide the address width.
func ParseProcNet(r io.Reader, req Request, dst []Socket) ([]Socket, error) {
	return parseProcNet(r, req, binary.NativeEndian, dst)
}

// parseProcNet parses with the byte order of the machine that wrote the
// file: the kernel prints each 32-bit word of an address as a host-order
// integer, so "0100007F" is 127.0.0.1 on little-endian machines.
func parseProcNet(r io.Reader, req Request, order binary.ByteOrder, dst []Socket) ([]Socket, error) {
	width := 4
	if req.Family == IPv6 {
		width = 16
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, maxProcNetLine), maxProcNetLine)
	line := 0
	for sc.Scan() {
		line++
		if line == 1 {
			continue // column header
		}
		s, err := parseProcNetLine(sc.Bytes(), width, order)
		if err != nil {
			return dst, fmt.Errorf("line %d: %w", line, err)
		}
		if !req.States.Has(s.State) {
			continue
		}
		if len(dst) >= MaxSockets {
			return dst, ErrTooMany
		}
		s.Family, s.Protocol = req.Family, req.Protocol
		dst = append(dst, s)
	}
	if err := sc.Err(); err != nil {
		return dst, fmt.Errorf("line %d: %w", line+1, err)
	}
	if line == 0 {
		return dst, malformed("empty file")
	}
	return dst, nil
}

// parseProcNetLine parses "sl: local remote st tx:rx tr:when retrnsmt uid
// timeout inode ...", the columns tcp and udp share.
func parseProcNetLine(b []byte, width int, order binary.ByteOrder) (Socket, error) {
	f := bytes.Fields(b)
	if len(f) < 10 {
		return Socket{}, malformed("%d columns, want at least 10", len(f))
	}
	if !bytes.HasSuffix(f[0], []byte(":")) {
		return Socket{}, malformed("slot %q", f[0])
	}
	var s Socket
	var err error
	if s.Local, err = parseHexAddrPort(f[1], width, order); err != nil {
		return Socket{}, fmt.Errorf("local address: %w", err)
	}
	if s.Remote, err = parseHexAddrPort(f[2], width, order); err != nil {
		return Socket{}, fmt.Errorf("remote address: %w", err)
	}
	st, err := strconv.ParseUint(string(f[3]), 16, 8)
	if err != nil {
		return Socket{}, malformed("state %q", f[3])
	}
	s.State = State(st)
	uid, err := strconv.ParseUint(string(f[7]), 10, 32)
	if err != nil {
		return Socket{}, malformed("uid %q", f[7])
	}
	s.UID = uint32(uid)
	if s.Inode, err = strconv.ParseUint(string(f[9]), 10, 64); err != nil {
		return Socket{}, malformed("inode %q", f[9])
	}
	return s, nil
}

// parseHexAddrPort parses "0100007F:0277": the address as host-order
// 32-bit words in hex, the port as a hex number.
func parseHexAddrPort(b []byte, width int, order binary.ByteOrder) (netip.AddrPort, error) {
	i := bytes.IndexByte(b, ':')
	if i != 2*width || len(b) != i+5 {
		return netip.AddrPort{}, malformed("address %q", b)
	}
	var raw [16]byte
	if _, err := hex.Decode(raw[:width], b[:i]); err != nil {
		return netip.AddrPort{}, malformed("address %q", b)
	}
	// Each word was printed as a host-order integer: read it back in that
	// order and store it in network order.
	for w := 0; w < width; w += 4 {
		binary.BigEndian.PutUint32(raw[w:], order.Uint32(raw[w:]))
	}
	port, err := strconv.ParseUint(string(b[i+1:]), 16, 16)
	if err != nil {
		return netip.AddrPort{}, malformed("port %q", b[i+1:])
	}
	var a netip.Addr
	if width == 4 {
		a = netip.AddrFrom4([4]byte(raw[:4]))
	} else {
		a = netip.AddrFrom16(raw)
	}
	return netip.AddrPortFrom(a, uint16(port)), nil
}
