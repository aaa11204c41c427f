package connection

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/azureiotsecurity/azureiotsecurity/internal/sockdiag"
)

func sock(proto sockdiag.Protocol, state sockdiag.State, local, remote string) sockdiag.Socket {
	return sockdiag.Socket{Protocol: proto, State: state, Local: netip.MustParseAddrPort(local), Remote: netip.MustParseAddrPort(remote), Inode: 1}
}

func TestDiffConns(t *testing.T) {
	const est, tw = sockdiag.Established, sockdiag.State(6)
	listen := sock(sockdiag.TCP, sockdiag.Listen, "0.0.0.0:22", "0.0.0.0:0")
	listen6 := sock(sockdiag.TCP, sockdiag.Listen, "[::]:8080", "[::]:0")
	old := sock(sockdiag.TCP, est, "10.0.0.2:22", "10.0.0.9:50000")
	in := sock(sockdiag.TCP, est, "10.0.0.2:22", "10.0.0.9:50001")
	in6 := sock(sockdiag.TCP, est, "[::ffff:10.0.0.2]:8080", "[::ffff:10.0.0.9]:40000")
	out := sock(sockdiag.TCP, tw, "10.0.0.2:41000", "93.184.216.34:443")
	udp := sock(sockdiag.UDP, est, "10.0.0.2:53000", "10.0.0.1:53")
	udpOnListenPort := sock(sockdiag.UDP, est, "10.0.0.2:22", "10.0.0.1:53")

	prev := classify([]sockdiag.Socket{listen, old})
	socks := []sockdiag.Socket{listen, listen6, old, in, in6, out, udp, udpOnListenPort, in}
	got := diffConns(prev, classify(socks), socks)
	want := []newConn{{in, dirIn}, {in6, dirIn}, {out, dirOut}, {udp, dirOut}, {udpOnListenPort, dirOut}}
	if len(got) != len(want) {
		t.Fatalf("got %d new connections %v; want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i].sock != want[i].sock || got[i].dir != want[i].dir {
			t.Errorf("#%d: got %+v; want %+v", i, got[i], want[i])
		}
	}
	// A connection that turned into TIME_WAIT (new cookie) is not new.
	old.State, old.Cookie = tw, 99
	if again := diffConns(classify(socks), classify([]sockdiag.Socket{listen, old}), []sockdiag.Socket{listen, old}); len(again) != 0 {
		t.Errorf("TIME_WAIT of a known connection reported again: %v", again)
	}
}

// FuzzDiffConns feeds inet_diag messages (72 bytes each, the first byte
// of each chunk choosing TCP or UDP) through the poller's classify and
// diff: no listener is ever new, no key is reported twice, UDP is never
// inbound.
func FuzzDiffConns(f *testing.F) {
	msg := make([]byte, 72)
	msg[0], msg[1] = 2, 1 // AF_INET, ESTABLISHED
	binary.BigEndian.PutUint16(msg[4:], 22)
	f.Add(append(append([]byte{0}, msg...), 1), 10)
	f.Fuzz(func(t *testing.T, b []byte, split int) {
		var socks []sockdiag.Socket
		for len(b) > 72 {
			proto := sockdiag.TCP
			if b[0]&1 == 1 {
				proto = sockdiag.UDP
			}
			if s, err := sockdiag.ParseInetDiagMsg(b[1:73], proto); err == nil {
				socks = append(socks, s)
			}
			b = b[73:]
		}
		if split < 0 || split > len(socks) {
			split = len(socks) / 2
		}
		prev := classify(socks[:split])
		cur := classify(socks)
		added := diffConns(prev, cur, socks)
		seen := map[connKey]bool{}
		for _, n := range added {
			k := connKey{n.sock.Protocol, n.sock.Local, n.sock.Remote}
			if seen[k] || n.sock.State == sockdiag.Listen || (n.sock.Protocol == sockdiag.UDP && n.dir == dirIn) {
				t.Fatalf("bad new connection %+v", n)
			}
			seen[k] = true
		}
	})
}
