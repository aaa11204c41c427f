package connection

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/azureiotsecurity/azureiotsecurity/internal/sockdiag"
)

// pollBackend diffs sock_diag dumps: the last resort. It is lossy: a
// connection opened and fully gone between two polls is never seen
// (TIME_WAIT keeps some visible, without an owner), and the owner is
// whoever holds the socket at the poll.
type pollBackend struct {
	m     *metrics
	own   owners
	every time.Duration
	dump  func(sockdiag.Request, []sockdiag.Socket) ([]sockdiag.Socket, error)
}

func (b *pollBackend) Name() string { return BackendPoll }

// Connected states: everything past the handshake, including the closing
// ones, so that a short connection still closing at the poll is seen.
var pollStates = sockdiag.States(1, 4, 5, 6, 8, 9, 11) // ESTABLISHED, FIN_WAIT1/2, TIME_WAIT, CLOSE_WAIT, LAST_ACK, CLOSING

// connKey identifies a connection across polls by its 5-tuple: a socket's
// cookie changes when it becomes a TIME_WAIT mini-socket.
type connKey struct {
	proto         sockdiag.Protocol
	local, remote netip.AddrPort
}

func (b *pollBackend) Run(ctx context.Context, out chan<- rawConn) error {
	var buf []sockdiag.Socket
	prev, _, err := b.poll(buf[:0])
	if err != nil {
		return refuse("%w", err)
	}
	ready(ctx, out)
	t := time.NewTicker(b.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		cur, socks, err := b.poll(buf[:0])
		if err != nil {
			return err
		}
		buf = socks
		now := time.Now()
		added := diffConns(prev, cur, socks)
		var pids map[uint64]int32
		for _, s := range added {
			if pids == nil && s.sock.Inode != 0 {
				pids, _ = b.own.socketPIDs() // one /proc pass per poll with news
			}
			c := rawConn{
				time: now, dir: s.dir, proto: protoTCP, local: s.sock.Local, remote: s.sock.Remote,
				pid: pids[s.sock.Inode],
			}
			if s.sock.Protocol == sockdiag.UDP {
				c.proto = protoUDP
			}
			if s.sock.Inode != 0 {
				c.uid, c.uidKnown = s.sock.UID, true
			}
			send(out, c, b.m)
		}
		prev = cur
	}
}

// poll dumps connected TCP and UDP sockets and TCP listeners of both
// families, and returns them keyed, with their direction.
func (b *pollBackend) poll(buf []sockdiag.Socket) (map[connKey]string, []sockdiag.Socket, error) {
	reqs := []sockdiag.Request{
		{Family: sockdiag.IPv4, Protocol: sockdiag.TCP, States: pollStates | sockdiag.States(sockdiag.Listen)},
		{Family: sockdiag.IPv6, Protocol: sockdiag.TCP, States: pollStates | sockdiag.States(sockdiag.Listen)},
		{Family: sockdiag.IPv4, Protocol: sockdiag.UDP, States: sockdiag.States(sockdiag.Established)},
		{Family: sockdiag.IPv6, Protocol: sockdiag.UDP, States: sockdiag.States(sockdiag.Established)},
	}
	var err error
	for _, r := range reqs {
		buf, err = b.dump(r, buf)
		if err != nil {
			return nil, buf, fmt.Errorf("sock_diag dump %s/%s: %w", r.Family, r.Protocol, err)
		}
	}
	return classify(buf), buf, nil
}

// classify keys the connected sockets and gives each a direction: a TCP
// connection whose local port is a listening port was accepted (In),
// any other was connected (Out), as is every connected UDP socket.
func classify(socks []sockdiag.Socket) map[connKey]string {
	listening := map[uint16]bool{}
	for _, s := range socks {
		if s.Protocol == sockdiag.TCP && s.State == sockdiag.Listen {
			listening[s.Local.Port()] = true
		}
	}
	m := make(map[connKey]string, len(socks))
	for _, s := range socks {
		if s.State == sockdiag.Listen {
			continue
		}
		dir := dirOut
		if s.Protocol == sockdiag.TCP && listening[s.Local.Port()] {
			dir = dirIn
		}
		m[connKey{s.Protocol, s.Local, s.Remote}] = dir
	}
	return m
}

// newConn is a socket not seen at the previous poll.
type newConn struct {
	sock sockdiag.Socket
	dir  string
}

// diffConns returns the sockets of socks keyed in cur but not in prev.
func diffConns(prev, cur map[connKey]string, socks []sockdiag.Socket) []newConn {
	var out []newConn
	for _, s := range socks {
		if s.State == sockdiag.Listen {
			continue
		}
		k := connKey{s.Protocol, s.Local, s.Remote}
		dir, ok := cur[k]
		if !ok {
			continue
		}
		if _, seen := prev[k]; seen {
			continue
		}
		prev[k] = dir // one event per key even if dumped twice
		out = append(out, newConn{s, dir})
	}
	return out
}
