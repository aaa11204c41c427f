package edgehub

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/sirupsen/logrus"
)

// mqttAPIVersion is the api-version in the MQTT user name (its value is
// not checked by edgeHub; Microsoft's examples use this one).
const mqttAPIVersion = "2018-06-30"

// Session is the module's MQTT session with edgeHub. Run drives it; Send,
// UpdateReported and HandleMethod may be called from any goroutine.
type Session struct {
	id     Identity
	tokens TokenSource
	trust  TrustSource
	o      Options
	log    *logrus.Entry
	m      *sessionMetrics

	running atomic.Bool
	rid     atomic.Uint64
	workers sync.WaitGroup // the twin loop

	mu      sync.Mutex
	cur     *conn         // nil while disconnected
	changed chan struct{} // closed and replaced whenever cur changes
	gen     uint64

	twinState
	methodState
}

// conn is one MQTT connection; a reconnect makes a new one.
type conn struct {
	client mqtt.Client
	gen    uint64
	token  Token
	lost   chan struct{} // closed when the connection ends
	once   sync.Once
	err    error // why it ended; read after <-lost
}

func (c *conn) markLost(err error) {
	c.once.Do(func() { c.err = err; close(c.lost) })
}

func (c *conn) alive() bool {
	select {
	case <-c.lost:
		return false
	default:
		return true
	}
}

// NewSession returns a session for id that authenticates with tokens and
// verifies the broker with trust.
func NewSession(id Identity, tokens TokenSource, trust TrustSource, o Options) (*Session, error) {
	if tokens == nil || trust == nil {
		return nil, errors.New("edgehub session: token and trust sources are required")
	}
	if id.DeviceID == "" || id.IoTHubHostName == "" {
		return nil, errors.New("edgehub session: identity needs a device id and hub host name")
	}
	o.defaults(id)
	s := &Session{id: id, tokens: tokens, trust: trust, o: o, changed: make(chan struct{}),
		log: o.Log.WithField("component", "edgehub"), m: newSessionMetrics(o.Registerer)}
	s.twinState.init()
	s.methodState.init(o.MaxMethods)
	return s, nil
}

// Run connects and keeps the session connected until ctx is done, then
// disconnects and returns nil. Every (re)connect fetches the trust bundle,
// mints one token, subscribes and re-reads the twin; the session
// reconnects proactively before the token expires.
func (s *Session) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("edgehub session: Run called twice")
	}
	ctx, cancel := context.WithCancel(ctx)
	s.runMu.Lock()
	s.runCtx = ctx
	s.runMu.Unlock()
	s.workers.Go(func() { s.twinLoop(ctx) })
	s.loop(ctx)
	cancel()
	s.workers.Wait()
	for range cap(s.slots) { // wait for method handlers; later calls get 429
		s.slots <- struct{}{}
	}
	return nil
}

func (s *Session) loop(ctx context.Context) {
	bo := backoff{base: s.o.MinBackoff, max: s.o.MaxBackoff}
	attempt := 0
	for {
		c, err := s.connect(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			s.m.connectFailures.Inc()
			d := bo.delay(attempt)
			attempt++
			s.log.WithError(err).WithFields(logrus.Fields{"attempt": attempt, "retry_in": d}).Warn("cannot connect to edgeHub")
			if sleep(ctx, d) != nil {
				return
			}
			continue
		}
		connectedAt := time.Now()
		renewAt := c.token.RenewAt(s.o.RenewFraction)
		s.setConn(c)
		s.log.WithFields(logrus.Fields{"broker": s.addr(), "client_id": s.id.ClientID(),
			"token_expiry": c.token.Expiry.UTC(), "renew_at": renewAt.UTC()}).Info("connected to edgeHub")
		s.twinQ.push(twinEvent{conn: c})

		timer := time.NewTimer(time.Until(renewAt))
		var reason string
		select {
		case <-ctx.Done():
			reason = "shutdown"
		case <-c.lost:
			reason = "lost"
		case <-timer.C:
			reason = "renew"
		}
		timer.Stop()
		s.setConn(nil)
		c.markLost(errors.New(reason))
		c.client.Disconnect(250)
		switch reason {
		case "shutdown":
			s.log.Info("disconnected from edgeHub: shutting down")
			return
		case "renew":
			s.m.tokenRenewals.Inc()
			attempt = 0
			s.log.WithField("token_expiry", c.token.Expiry.UTC()).Info("reconnecting to edgeHub to renew the SAS token")
			continue
		}
		s.m.reconnects.Inc()
		if time.Since(connectedAt) >= s.o.StableAfter {
			attempt = 0
		}
		d := bo.delay(attempt)
		attempt++
		s.log.WithError(c.err).WithField("retry_in", d).Warn("connection to edgeHub lost")
		if sleep(ctx, d) != nil {
			return
		}
	}
}

func (s *Session) addr() string { return net.JoinHostPort(s.o.Host, strconv.Itoa(s.o.Port)) }

// setConn publishes the current connection (nil: disconnected).
func (s *Session) setConn(c *conn) {
	s.mu.Lock()
	s.cur = c
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
	if c != nil {
		s.m.connected.Set(1)
	} else {
		s.m.connected.Set(0)
	}
}

// waitConn returns a live connection, waiting for one while disconnected.
func (s *Session) waitConn(ctx context.Context) (*conn, error) {
	for {
		s.mu.Lock()
		c, ch := s.cur, s.changed
		s.mu.Unlock()
		if c != nil && c.alive() {
			return c, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// connect makes one connection attempt: trust bundle, one token, CONNECT,
// SUBSCRIBE.
func (s *Session) connect(ctx context.Context) (*conn, error) {
	tlsCfg, err := s.trust.TLSConfig(ctx)
	if err != nil {
		return nil, err
	}
	if tlsCfg == nil || tlsCfg.InsecureSkipVerify {
		return nil, errors.New("refusing a TLS configuration that does not verify the server")
	}
	tok, err := s.tokens.Token(ctx)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.gen++
	c := &conn{gen: s.gen, token: tok, lost: make(chan struct{})}
	s.mu.Unlock()
	c.client = mqtt.NewClient(s.clientOptions(c, tlsCfg))
	ct := c.client.Connect()
	if err := wait(ctx, ct); err != nil {
		go func() { ct.Wait(); c.client.Disconnect(0) }() // bounded by ConnectTimeout
		return nil, fmt.Errorf("mqtt connect to %s: %w", s.addr(), err)
	}
	if err := s.subscribe(ctx, c); err != nil {
		c.client.Disconnect(0)
		return nil, err
	}
	return c, nil
}

func (s *Session) clientOptions(c *conn, tlsCfg *tls.Config) *mqtt.ClientOptions {
	handler := func(_ mqtt.Client, m mqtt.Message) { s.onMessage(c, m) }
	return mqtt.NewClientOptions().
		AddBroker("tls://" + s.addr()).
		SetTLSConfig(tlsCfg).
		SetProtocolVersion(4). // MQTT 3.1.1
		SetClientID(s.id.ClientID()).
		SetUsername(s.id.Username()).
		SetPassword(c.token.Value).
		SetCleanSession(true).
		SetOrderMatters(false).
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetResumeSubs(false).
		SetKeepAlive(s.o.KeepAlive).
		SetPingTimeout(s.o.PingTimeout).
		SetConnectTimeout(s.o.ConnectTimeout).
		SetWriteTimeout(s.o.WriteTimeout).
		SetDefaultPublishHandler(handler).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) { c.markLost(err) })
}

// wait waits for a paho token, bounded by ctx.
func wait(ctx context.Context, t mqtt.Token) error {
	select {
	case <-t.Done():
		return t.Error()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Connected reports whether a live connection to the broker exists now.
func (s *Session) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur != nil && s.cur.alive()
}

// SetOutputName changes the output ($.on) of later messages; the twin's
// outputName takes effect without a reconnect.
func (s *Session) SetOutputName(name string) {
	s.mu.Lock()
	s.o.OutputName = name
	s.mu.Unlock()
}

func (s *Session) outputName() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.o.OutputName
}
