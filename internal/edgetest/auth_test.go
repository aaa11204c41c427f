package edgetest

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestConnectAccepted(t *testing.T) {
	e := newEnv(t, nil)
	o := e.goodOpts(t)
	if _, err := e.connect(t, o); err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	if err := e.br.WaitConnected(ctx, e.br.ClientID()); err != nil {
		t.Fatal(err)
	}
	cs := e.br.Connects()
	if len(cs) != 1 || !cs[0].Accepted || cs[0].ClientID != "dev1/sec-mod" || cs[0].Username != o.username || cs[0].Password != o.password {
		t.Fatalf("connects %+v", cs)
	}
	tok, _ := ParseSASToken(o.password)
	if cs[0].SE != tok.SE {
		t.Fatalf("se %d != %d", cs[0].SE, tok.SE)
	}
	if e.wl.SignCalls() != 1 {
		t.Fatalf("sign calls %d", e.wl.SignCalls())
	}
}

func TestConnectRefused(t *testing.T) {
	other, _ := NewCA()
	e := newEnv(t, func(c *BrokerConfig) {
		c.SecondaryKey = []byte("secondary-key-bytes")
		c.ExtraModules = map[string][]byte{"other": []byte("other-key")}
	})
	now := e.clock.Now()
	sr := SASAudience(tHub, tDev, tMod)
	se := now.Add(time.Hour).Unix()
	tokenWith := func(key []byte, sr string, se int64, extra string) string {
		sig := SASSignature(key, StringToSign(sr, se))
		return fmt.Sprintf("SharedAccessSignature sr=%s&sig=%s&se=%d%s", sr, url.QueryEscape(sig), se, extra)
	}
	good := e.goodOpts(t)
	cases := []struct {
		name   string
		mod    func(*connOpts)
		ok     bool
		reason string
	}{
		{"form without ?", func(o *connOpts) { o.username = tHub + "/" + tDev + "/" + tMod + "/api-version=2018-06-30" }, true, ""},
		{"secondary key", func(o *connOpts) { o.password = tokenWith([]byte("secondary-key-bytes"), sr, se, "") }, true, ""},
		{"gateway audience", func(o *connOpts) {
			o.password = tokenWith(tKey, SASAudience("localhost", tDev, tMod), se, "")
		}, true, ""},
		{"lower-case escapes kept raw", func(o *connOpts) {
			o.password = tokenWith(tKey, strings.ReplaceAll(sr, "%2F", "%2f"), se, "")
		}, true, ""},
		{"bad signature", func(o *connOpts) { o.password = tokenWith([]byte("wrong"), sr, se, "") }, false, "signature"},
		{"wrong client id", func(o *connOpts) { o.clientID = "dev1/other" }, false, "client id"},
		{"expired beyond skew", func(o *connOpts) {
			o.password = tokenWith(tKey, sr, now.Add(-6*time.Minute).Unix(), "")
		}, false, "expired"},
		{"skn present", func(o *connOpts) { o.password = tokenWith(tKey, sr, se, "&skn=iothubowner") }, false, "skn"},
		{"no api-version", func(o *connOpts) { o.username = tHub + "/" + tDev + "/" + tMod + "/?foo=1" }, false, "api-version"},
		{"device identity", func(o *connOpts) { o.username = tHub + "/" + tDev + "/?api-version=1" }, false, "device identity"},
		{"foreign audience host", func(o *connOpts) {
			o.password = tokenWith(tKey, SASAudience("evil.example.net", tDev, tMod), se, "")
		}, false, "neither hub nor gateway"},
		{"audience for other module", func(o *connOpts) {
			o.password = tokenWith(tKey, SASAudience(tHub, tDev, "other"), se, "")
		}, false, "does not match identity"},
		{"extra module with its key", func(o *connOpts) {
			o.clientID = tDev + "/other"
			o.username = tHub + "/" + tDev + "/other/?api-version=1"
			o.password = tokenWith([]byte("other-key"), SASAudience(tHub, tDev, "other"), se, "")
		}, true, ""},
		{"no password", func(o *connOpts) { o.password = "" }, false, "no password"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := good
			tc.mod(&o)
			n := len(e.br.Connects())
			c, err := e.connect(t, o)
			if tc.ok != (err == nil) {
				t.Fatalf("connect err=%v, want ok=%v; records %+v", err, tc.ok, e.br.Connects()[n:])
			}
			if c != nil {
				c.Disconnect(0)
			}
			rec := e.br.Connects()[n]
			if rec.Accepted != tc.ok || !strings.Contains(rec.Reason, tc.reason) {
				t.Fatalf("record %+v, want reason containing %q", rec, tc.reason)
			}
		})
	}

	t.Run("hub down", func(t *testing.T) {
		e.br.SetRefuseConnections(true)
		defer e.br.SetRefuseConnections(false)
		if _, err := e.connect(t, good); err == nil {
			t.Fatal("connected while refusing")
		}
	})
	t.Run("wrong CA", func(t *testing.T) {
		o := good
		o.tls = other.ClientTLSConfig("localhost")
		if _, err := e.connect(t, o); err == nil {
			t.Fatal("connected trusting an unrelated CA")
		}
	})
	t.Run("wrong server name", func(t *testing.T) {
		o := good
		o.tls = e.ca.ClientTLSConfig("edgehub.example")
		if _, err := e.connect(t, o); err == nil {
			t.Fatal("connected with a wrong server name")
		}
	})
}

func TestReauthDisconnectsExpired(t *testing.T) {
	e := newEnv(t, func(c *BrokerConfig) { c.TokenSkew = time.Second })
	lost := make(chan struct{}, 1)
	o := e.goodOpts(t)
	o.onLost = func() { lost <- struct{}{} }
	if _, err := e.connect(t, o); err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	if err := e.br.WaitConnected(ctx, e.br.ClientID()); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(59 * time.Minute) // still valid
	e.clock.Advance(time.Hour + 2*time.Second)
	if err := e.br.WaitDisconnected(ctx, e.br.ClientID()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-lost:
	case <-ctx.Done():
		t.Fatal("client did not notice the drop")
	}
	d := e.br.Disconnects()
	if len(d) != 1 || !strings.Contains(d[0].Reason, "token expired") {
		t.Fatalf("disconnects %+v", d)
	}
	// a fresh token works again
	if _, err := e.connect(t, e.goodOpts(t)); err != nil {
		t.Fatal(err)
	}
}

func TestDropAndExpire(t *testing.T) {
	e := newEnv(t, nil)
	ctx := ctxT(t)
	e.mustConnect(t)
	if err := e.br.WaitConnected(ctx, e.br.ClientID()); err != nil {
		t.Fatal(err)
	}
	if !e.br.DropClient(e.br.ClientID()) {
		t.Fatal("DropClient: not connected")
	}
	if err := e.br.WaitDisconnected(ctx, e.br.ClientID()); err != nil {
		t.Fatal(err)
	}
	e.mustConnect(t)
	if err := e.br.WaitConnected(ctx, e.br.ClientID()); err != nil {
		t.Fatal(err)
	}
	e.br.ExpireTokens()
	if err := e.br.WaitDisconnected(ctx, e.br.ClientID()); err != nil {
		t.Fatal(err)
	}
	d := e.br.Disconnects()
	if len(d) != 2 || !strings.Contains(d[0].Reason, "dropped") || !strings.Contains(d[1].Reason, "token expired") {
		t.Fatalf("disconnects %+v", d)
	}
	if e.br.DropClient(e.br.ClientID()) {
		t.Fatal("DropClient of a disconnected client returned true")
	}
}

func TestParseUsername(t *testing.T) {
	u, err := ParseUsername("hub/dev1/sec-mod/?api-version=2021-04-12&DeviceClientType=azure-iot-device%2F1.18.4%20(node)&model-id=dtmi:x;1")
	if err != nil || u.Host != "hub" || u.DeviceID != "dev1" || u.ModuleID != "sec-mod" || u.APIVersion != "2021-04-12" ||
		u.DeviceClientType != "azure-iot-device/1.18.4 (node)" || u.ModelID != "dtmi:x;1" {
		t.Fatalf("%+v %v", u, err)
	}
	for _, bad := range []string{"", "hub/dev1", "hub/dev1/sec-mod/x/?api-version=1", "hub/dev1/sec-mod/?api-version=", "hub//mod/?api-version=1", "hub/dev1/mod/version=1"} {
		if _, err := ParseUsername(bad); err == nil {
			t.Errorf("ParseUsername(%q) accepted", bad)
		}
	}
}
