package edgetest

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

const (
	tHub   = "hub.example.net"
	tDev   = "dev1"
	tMod   = "sec-mod"
	tGenID = "637000000000000000"
	// generous: tests wait on events, never on speed
	waitTimeout = 30 * time.Second
)

var tKey = []byte("0123456789abcdef0123456789abcdef")

type fakeClock struct{ off atomic.Int64 }

func (c *fakeClock) Now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *fakeClock) Advance(d time.Duration) { c.off.Add(int64(d)) }

type env struct {
	ca    *CA
	wl    *Workload
	br    *Broker
	clock *fakeClock
}

func newEnv(t *testing.T, mut func(*BrokerConfig)) *env {
	t.Helper()
	ca, err := NewCA()
	if err != nil {
		t.Fatal(err)
	}
	wl, err := NewWorkload(WorkloadConfig{Dir: t.TempDir(), ModuleID: tMod, GenerationID: tGenID, Key: tKey, TrustBundle: ca.PEM()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = wl.Close() })
	clk := &fakeClock{}
	cfg := BrokerConfig{HubHostname: tHub, DeviceID: tDev, ModuleID: tMod, ModuleKey: tKey, CA: ca,
		ReauthInterval: 20 * time.Millisecond, Now: clk.Now}
	if mut != nil {
		mut(&cfg)
	}
	br, err := NewBroker(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = br.Close() })
	return &env{ca: ca, wl: wl, br: br, clock: clk}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	t.Cleanup(cancel)
	return ctx
}

func unixHTTP(path string) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
		DisableKeepAlives: true,
	}}
}

// workloadDo performs a request against the fake workload API.
func workloadDo(ctx context.Context, wl *Workload, method, path, ctype string, body []byte) (int, []byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, method, "http://workload"+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := unixHTTP(wl.SocketPath()).Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header, err
}

func signPath(m, g string) string {
	return "/modules/" + url.PathEscape(m) + "/genid/" + g + "/sign?api-version=2018-06-28"
}

func signBody(data string) []byte {
	b, _ := json.Marshal(map[string]string{"keyId": "primary", "algo": "HMACSHA256", "data": base64.StdEncoding.EncodeToString([]byte(data))})
	return b
}

// tokenViaWorkload mints a module SAS token the way a module does.
func tokenViaWorkload(t *testing.T, wl *Workload, se int64) string {
	t.Helper()
	sr := SASAudience(tHub, tDev, tMod)
	st, body, _, err := workloadDo(ctxT(t), wl, "POST", signPath(tMod, tGenID), "application/json", signBody(StringToSign(sr, se)))
	if err != nil || st != 200 {
		t.Fatalf("sign: %d %s %v", st, body, err)
	}
	var r struct{ Digest string }
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("SharedAccessSignature sr=%s&sig=%s&se=%d", sr, url.QueryEscape(r.Digest), se)
}

type connOpts struct {
	clientID, username, password string
	tls                          *tls.Config
	persistent                   bool
	onLost                       func()
}

func (e *env) goodOpts(t *testing.T) connOpts {
	return connOpts{
		clientID: tDev + "/" + tMod,
		username: tHub + "/" + tDev + "/" + tMod + "/?api-version=2018-06-30",
		password: tokenViaWorkload(t, e.wl, e.clock.Now().Add(time.Hour).Unix()),
		tls:      e.ca.ClientTLSConfig("localhost"),
	}
}

func (e *env) connect(t *testing.T, o connOpts) (paho.Client, error) {
	t.Helper()
	opts := paho.NewClientOptions().AddBroker("ssl://127.0.0.1:" + strconv.Itoa(e.br.Port())).
		SetClientID(o.clientID).SetUsername(o.username).SetPassword(o.password).SetTLSConfig(o.tls).
		SetProtocolVersion(4).SetCleanSession(!o.persistent).SetAutoReconnect(false).SetConnectRetry(false).
		SetOrderMatters(false).SetConnectTimeout(waitTimeout).SetKeepAlive(60 * time.Second)
	if o.onLost != nil {
		opts.SetConnectionLostHandler(func(paho.Client, error) { o.onLost() })
	}
	c := paho.NewClient(opts)
	tok := c.Connect()
	if !tok.WaitTimeout(waitTimeout) {
		return nil, fmt.Errorf("connect timed out")
	}
	if err := tok.Error(); err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Disconnect(0) })
	return c, nil
}

func (e *env) mustConnect(t *testing.T) paho.Client {
	t.Helper()
	c, err := e.connect(t, e.goodOpts(t))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	return c
}

func waitTok(t *testing.T, tok paho.Token) {
	t.Helper()
	if !tok.WaitTimeout(waitTimeout) {
		t.Fatal("mqtt token timed out")
	}
	if err := tok.Error(); err != nil {
		t.Fatal(err)
	}
}

// inbox collects messages of a subscription.
type inbox struct {
	mu   sync.Mutex
	msgs []paho.Message
	ch   chan struct{}
}

func newInbox() *inbox { return &inbox{ch: make(chan struct{}, 1000)} }

func (b *inbox) handler(_ paho.Client, m paho.Message) {
	b.mu.Lock()
	b.msgs = append(b.msgs, m)
	b.mu.Unlock()
	b.ch <- struct{}{}
}

func (b *inbox) next(t *testing.T) paho.Message {
	t.Helper()
	select {
	case <-b.ch:
	case <-time.After(waitTimeout):
		t.Fatal("no message arrived")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	m := b.msgs[0]
	b.msgs = b.msgs[1:]
	return m
}

func (b *inbox) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.msgs)
}
