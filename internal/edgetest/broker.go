package edgetest

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

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/sirupsen/logrus"
)

// MaxInboundPacket is edgeHub's MaxInboundMessageSize: the largest MQTT
// remaining length it accepts (topic + packet id + payload).
const MaxInboundPacket = 256 * 1024

// ErrBrokerStopped is returned by operations that need a running broker.
var ErrBrokerStopped = errors.New("edgetest: broker is stopped")

// BrokerConfig configures NewBroker.
type BrokerConfig struct {
	HubHostname     string // IOTEDGE_IOTHUBHOSTNAME (SAS audience host)
	DeviceID        string // IOTEDGE_DEVICEID
	ModuleID        string // IOTEDGE_MODULEID
	ModuleKey       []byte // raw primary key
	SecondaryKey    []byte // raw secondary key, optional
	GatewayHostname string // IOTEDGE_GATEWAYHOSTNAME; also accepted as audience host. Default "localhost".
	// ExtraModules are further module identities on the same device
	// (module id -> raw primary key). They can connect and send telemetry
	// (e.g. to check that responses are routed to the requester only); twin
	// requests from them are answered 404, and Invoke targets ModuleID only.
	ExtraModules map[string][]byte

	// Server certificate: Cert if set, else one issued by CA for
	// GatewayHostname, "localhost" and "127.0.0.1". One of them is required.
	Cert *tls.Certificate
	CA   *CA

	Addr           string        // listen address, default "127.0.0.1:0"
	TokenSkew      time.Duration // grace after se (edgeHub: 5 min). 0 = 5 min; negative = none.
	ReauthInterval time.Duration // how often expired connections are dropped (edgeHub: 5 min). 0 = 5 min.
	MaxPacketSize  int           // largest accepted remaining length; 0 = MaxInboundPacket
	Logger         *logrus.Entry // nil = silent
	Now            func() time.Time
}

// Broker is an embedded mochi-mqtt server with a hook that behaves like
// edgeHub towards one module identity. See the package tests for usage.
type Broker struct {
	cfg    BrokerConfig
	log    *logrus.Entry
	tlsCfg *tls.Config
	skew   time.Duration
	now    func() time.Time

	srvMu sync.Mutex
	srv   *mqtt.Server
	addr  string // resolved listen address, kept across restarts

	pubMu  sync.Mutex             // serializes harness -> client publishes
	route  atomic.Pointer[string] // exact topic of the current targeted publish
	target atomic.Pointer[string] // client id allowed to receive it
	refuse atomic.Bool

	mu         sync.Mutex
	changed    chan struct{}
	sessions   map[string]*session
	connects   []ConnectRecord
	disconns   []DisconnectRecord
	messages   []Captured
	rejected   []Rejected
	twin       twinState
	methods    map[string]chan methodResult
	closed     bool
	stopReauth chan struct{}
	wg         sync.WaitGroup
}

type session struct {
	cl          *mqtt.Client
	se          int64
	established bool
}

// NewBroker starts the broker. Call Close when done.
func NewBroker(cfg BrokerConfig) (*Broker, error) {
	if cfg.HubHostname == "" || cfg.DeviceID == "" || cfg.ModuleID == "" || len(cfg.ModuleKey) == 0 {
		return nil, errors.New("edgetest: BrokerConfig needs HubHostname, DeviceID, ModuleID and ModuleKey")
	}
	if cfg.GatewayHostname == "" {
		cfg.GatewayHostname = "localhost"
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.MaxPacketSize == 0 {
		cfg.MaxPacketSize = MaxInboundPacket
	}
	if cfg.ReauthInterval <= 0 {
		cfg.ReauthInterval = 5 * time.Minute
	}
	b := &Broker{cfg: cfg, log: orSilent(cfg.Logger).WithField("component", "broker"), now: cfg.Now,
		changed: make(chan struct{}), sessions: map[string]*session{}, methods: map[string]chan methodResult{},
		stopReauth: make(chan struct{}), twin: newTwinState()}
	switch {
	case cfg.TokenSkew == 0:
		b.skew = 5 * time.Minute
	case cfg.TokenSkew > 0:
		b.skew = cfg.TokenSkew
	}
	if b.now == nil {
		b.now = time.Now
	}
	cert := cfg.Cert
	if cert == nil {
		if cfg.CA == nil {
			return nil, errors.New("edgetest: BrokerConfig needs Cert or CA")
		}
		c, err := cfg.CA.ServerCert(uniq(cfg.GatewayHostname, "localhost", "127.0.0.1")...)
		if err != nil {
			return nil, err
		}
		cert = &c
	}
	b.tlsCfg = &tls.Config{Certificates: []tls.Certificate{*cert}, MinVersion: tls.VersionTLS12}
	b.addr = cfg.Addr
	if err := b.start(); err != nil {
		return nil, err
	}
	b.wg.Add(1)
	go b.reauthLoop()
	return b, nil
}

// Addr is the listen address ("127.0.0.1:port"); unchanged by Restart.
func (b *Broker) Addr() string {
	b.srvMu.Lock()
	defer b.srvMu.Unlock()
	return b.addr
}

// Port is the TCP port of Addr.
func (b *Broker) Port() int {
	_, p, _ := net.SplitHostPort(b.Addr())
	n, _ := strconv.Atoi(p)
	return n
}

// ClientID is the MQTT client id the module must use: "device/module".
func (b *Broker) ClientID() string { return b.cfg.DeviceID + "/" + b.cfg.ModuleID }

func (b *Broker) start() error {
	b.srvMu.Lock()
	defer b.srvMu.Unlock()
	if b.srv != nil {
		return nil
	}
	caps := mqtt.NewDefaultServerCapabilities()
	caps.MaximumPacketSize = uint32(b.cfg.MaxPacketSize) + 1 // mochi compares remaining+1
	caps.MaximumQos = 1                                      // IoT Hub grants QoS 1 for QoS 2
	srv := mqtt.New(&mqtt.Options{InlineClient: true, Capabilities: caps, SysTopicResendInterval: 3600,
		Logger: newSlog(b.log.WithField("component", "mochi"))})
	h := &hook{b: b, srv: srv}
	if err := srv.AddHook(h, nil); err != nil {
		return err
	}
	ln := listeners.NewTCP(listeners.Config{ID: "edgehub-tls", Address: b.addr, TLSConfig: b.tlsCfg})
	if err := srv.AddListener(ln); err != nil {
		return fmt.Errorf("edgetest: listen %s: %w", b.addr, err)
	}
	b.addr = ln.Address()
	if err := srv.Serve(); err != nil {
		_ = srv.Close()
		return err
	}
	b.srv = srv
	b.log.WithField("addr", b.addr).Debug("broker started")
	return nil
}

// Stop shuts the broker down (all connections dropped, port closed) but
// keeps captured state, the twin and the port for Restart.
func (b *Broker) Stop() error {
	b.srvMu.Lock()
	srv := b.srv
	b.srv = nil
	b.srvMu.Unlock()
	if srv == nil {
		return nil
	}
	err := srv.Close() // waits for client goroutines; must not hold locks they need
	b.log.Debug("broker stopped")
	return err
}

// Restart starts the broker again on the same address after Stop (it is a
// no-op if the broker is running). Sessions do not survive, like an edgeHub
// restart with clean sessions.
func (b *Broker) Restart() error {
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if closed {
		return errors.New("edgetest: broker is closed")
	}
	var err error
	for i := 0; i < 50; i++ { // the port may linger briefly after Stop
		if err = b.start(); err == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return err
}

// Running reports whether the broker is serving.
func (b *Broker) Running() bool { return b.server() != nil }

// Close stops the broker and all harness goroutines; pending Invoke calls fail.
func (b *Broker) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	close(b.stopReauth)
	b.mu.Unlock()
	err := b.Stop()
	b.wg.Wait()
	return err
}

func (b *Broker) server() *mqtt.Server {
	b.srvMu.Lock()
	defer b.srvMu.Unlock()
	return b.srv
}

// SetRefuseConnections makes every CONNECT fail with "server unavailable"
// ("hub down"). Existing connections are kept; use ExpireTokens or Stop.
func (b *Broker) SetRefuseConnections(on bool) { b.refuse.Store(on) }

// publish sends topic/body at QoS 1 through the inline client. With a
// non-empty clientID only that client receives it (edgeHub answers only the
// requesting connection). Disconnected persistent sessions never get it.
func (b *Broker) publish(srv *mqtt.Server, clientID, topic string, body []byte) error {
	if srv == nil {
		return ErrBrokerStopped
	}
	b.pubMu.Lock()
	defer b.pubMu.Unlock()
	if clientID != "" {
		b.route.Store(&topic)
		b.target.Store(&clientID)
		defer func() { b.route.Store(nil); b.target.Store(nil) }()
	}
	return srv.Publish(topic, body, false, 1)
}

// notifyLocked wakes every waiter; b.mu must be held.
func (b *Broker) notifyLocked() {
	close(b.changed)
	b.changed = make(chan struct{})
}

// waitFor blocks until cond (called with b.mu held) is true or ctx ends.
func (b *Broker) waitFor(ctx context.Context, cond func() bool) error {
	for {
		b.mu.Lock()
		ok, ch := cond(), b.changed
		b.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func uniq(ss ...string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
