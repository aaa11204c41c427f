package edgetest

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"strings"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// Reasons used in DisconnectRecord.Reason by the harness itself.
var (
	ErrTokenExpired = errors.New("edgetest: token expired (reauthentication)")
	ErrDropped      = errors.New("edgetest: dropped by harness")
)

// ConnectRecord is one CONNECT attempt.
type ConnectRecord struct {
	ClientID string
	Username string
	Password string
	SE       int64 // token expiry (Unix seconds) if the token parsed
	Time     time.Time
	Accepted bool
	Reason   string // why it was refused
}

// DisconnectRecord is one ended connection of an accepted client.
type DisconnectRecord struct {
	ClientID string
	Time     time.Time
	Reason   string
}

// authenticate applies edgeHub's CONNECT rules and returns the token expiry.
func (b *Broker) authenticate(clientID, username string, password []byte) (int64, error) {
	u, err := ParseUsername(username)
	if err != nil {
		return 0, err
	}
	if u.ModuleID == "" {
		return 0, fmt.Errorf("username %q is a device identity; only module %s is known", username, b.ClientID())
	}
	keys := [][]byte{b.cfg.ModuleKey, b.cfg.SecondaryKey}
	if u.ModuleID != b.cfg.ModuleID {
		keys = [][]byte{b.cfg.ExtraModules[u.ModuleID]}
	}
	if u.DeviceID != b.cfg.DeviceID || len(keys[0]) == 0 {
		return 0, fmt.Errorf("unknown identity %s/%s", u.DeviceID, u.ModuleID)
	}
	if clientID != u.DeviceID+"/"+u.ModuleID {
		return 0, fmt.Errorf("client id %q does not match identity %s/%s", clientID, u.DeviceID, u.ModuleID)
	}
	if len(password) == 0 {
		return 0, errors.New("no password (X.509 is not supported by the harness)")
	}
	tok, err := ParseSASToken(string(password))
	if err != nil {
		return 0, err
	}
	if tok.HasSKN {
		return tok.SE, errors.New("token carries skn; module tokens must not")
	}
	ok := false
	for _, key := range keys {
		if len(key) > 0 && hmac.Equal([]byte(SASSignature(key, tok.RawSR+"\n"+tok.RawSE)), []byte(tok.Sig)) {
			ok = true
			break
		}
	}
	if !ok {
		return tok.SE, errors.New("signature does not match primary or secondary key")
	}
	parts := strings.Split(tok.Audience, "/")
	if len(parts) != 5 || !strings.EqualFold(parts[1], "devices") || !strings.EqualFold(parts[3], "modules") {
		return tok.SE, fmt.Errorf("audience %q is not host/devices/dev/modules/mod", tok.Audience)
	}
	if !strings.EqualFold(parts[0], b.cfg.HubHostname) && !strings.EqualFold(parts[0], b.cfg.GatewayHostname) {
		return tok.SE, fmt.Errorf("audience host %q is neither hub nor gateway", parts[0])
	}
	if !strings.EqualFold(parts[2], u.DeviceID) || !strings.EqualFold(parts[4], u.ModuleID) {
		return tok.SE, fmt.Errorf("audience %q does not match identity", tok.Audience)
	}
	if b.expired(tok.SE) {
		return tok.SE, fmt.Errorf("token expired (se=%d, skew %s)", tok.SE, b.skew)
	}
	return tok.SE, nil
}

func (b *Broker) expired(se int64) bool {
	return !time.Unix(se, 0).Add(b.skew).After(b.now())
}

func (b *Broker) recordConnect(r ConnectRecord) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.connects = append(b.connects, r)
	b.notifyLocked()
}

// Connects returns every CONNECT attempt so far, oldest first.
func (b *Broker) Connects() []ConnectRecord {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]ConnectRecord(nil), b.connects...)
}

// Disconnects returns every ended accepted connection so far.
func (b *Broker) Disconnects() []DisconnectRecord {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]DisconnectRecord(nil), b.disconns...)
}

// AcceptedConnects counts accepted CONNECTs.
func (b *Broker) AcceptedConnects() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, c := range b.connects {
		if c.Accepted {
			n++
		}
	}
	return n
}

// WaitConnects waits until at least n CONNECT attempts were accepted.
func (b *Broker) WaitConnects(ctx context.Context, n int) error {
	return b.waitFor(ctx, func() bool {
		k := 0
		for _, c := range b.connects {
			if c.Accepted {
				k++
			}
		}
		return k >= n
	})
}

// Connected returns the ids of clients with an established, open connection.
func (b *Broker) Connected() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var ids []string
	for id, s := range b.sessions {
		if s.established && !s.cl.Closed() {
			ids = append(ids, id)
		}
	}
	return ids
}

// IsConnected reports whether clientID has an established, open connection.
func (b *Broker) IsConnected(clientID string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.sessions[clientID]
	return s != nil && s.established && !s.cl.Closed()
}

// WaitConnected waits until clientID is connected.
func (b *Broker) WaitConnected(ctx context.Context, clientID string) error {
	return b.waitFor(ctx, func() bool {
		s := b.sessions[clientID]
		return s != nil && s.established && !s.cl.Closed()
	})
}

// WaitDisconnected waits until clientID has no open connection.
func (b *Broker) WaitDisconnected(ctx context.Context, clientID string) error {
	return b.waitFor(ctx, func() bool { return b.sessions[clientID] == nil })
}

// DropClient closes clientID's connection server-side (no DISCONNECT
// packet, like edgeHub dropping a module). It reports whether it was connected.
func (b *Broker) DropClient(clientID string) bool {
	b.mu.Lock()
	s := b.sessions[clientID]
	b.mu.Unlock()
	if s == nil {
		return false
	}
	s.cl.Stop(ErrDropped)
	return true
}

// ExpireTokens drops every connection as if its token had expired.
func (b *Broker) ExpireTokens() {
	b.mu.Lock()
	var cls []*mqtt.Client
	for _, s := range b.sessions {
		cls = append(cls, s.cl)
	}
	b.mu.Unlock()
	for _, cl := range cls {
		cl.Stop(ErrTokenExpired)
	}
}

// reauthLoop emulates edgeHub's ConnectionReauthenticator.
func (b *Broker) reauthLoop() {
	defer b.wg.Done()
	t := time.NewTicker(b.cfg.ReauthInterval)
	defer t.Stop()
	for {
		select {
		case <-b.stopReauth:
			return
		case <-t.C:
		}
		b.mu.Lock()
		var cls []*mqtt.Client
		for _, s := range b.sessions {
			if b.expired(s.se) {
				cls = append(cls, s.cl)
			}
		}
		b.mu.Unlock()
		for _, cl := range cls {
			b.log.WithField("client", cl.ID).Debug("reauth: token expired, dropping")
			cl.Stop(ErrTokenExpired)
		}
	}
}

// onConnect runs before authentication: the "hub down" switch.
func (h *hook) OnConnect(cl *mqtt.Client, pk packets.Packet) error {
	if !h.b.refuse.Load() {
		return nil
	}
	h.b.recordConnect(ConnectRecord{ClientID: cl.ID, Username: string(pk.Connect.Username),
		Password: string(pk.Connect.Password), Time: h.b.now(), Reason: "refused: hub down"})
	_ = h.srv.SendConnack(cl, packets.ErrServerUnavailable, false, nil)
	return packets.ErrServerUnavailable
}

func (h *hook) OnConnectAuthenticate(cl *mqtt.Client, pk packets.Packet) bool {
	b := h.b
	rec := ConnectRecord{ClientID: cl.ID, Username: string(pk.Connect.Username),
		Password: string(pk.Connect.Password), Time: b.now()}
	se, err := b.authenticate(cl.ID, rec.Username, pk.Connect.Password)
	rec.SE = se
	if err != nil {
		rec.Reason = err.Error()
		b.log.WithField("client", cl.ID).WithError(err).Debug("CONNECT refused")
		b.recordConnect(rec)
		return false
	}
	rec.Accepted = true
	b.mu.Lock()
	b.sessions[cl.ID] = &session{cl: cl, se: se}
	b.connects = append(b.connects, rec)
	b.notifyLocked()
	b.mu.Unlock()
	return true
}

func (h *hook) OnSessionEstablished(cl *mqtt.Client, _ packets.Packet) {
	b := h.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if s := b.sessions[cl.ID]; s != nil && s.cl == cl {
		s.established = true
		b.notifyLocked()
	}
}

func (h *hook) OnDisconnect(cl *mqtt.Client, err error, _ bool) {
	b := h.b
	if errors.Is(err, packets.ErrPacketTooLarge) {
		b.reject(cl.ID, "", "packet too large")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.sessions[cl.ID]
	if s == nil || s.cl != cl {
		return
	}
	delete(b.sessions, cl.ID)
	reason := "closed"
	if c := cl.StopCause(); c != nil {
		reason = c.Error()
	} else if err != nil {
		reason = err.Error()
	}
	b.disconns = append(b.disconns, DisconnectRecord{ClientID: cl.ID, Time: b.now(), Reason: reason})
	b.notifyLocked()
}
