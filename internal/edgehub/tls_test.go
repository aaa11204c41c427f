package edgehub

import (
	"context"
	"crypto/tls"
	"errors"
	"strings"
	"testing"

	"github.com/azureiotsecurity/azureiotsecurity/internal/edgetest"
)

func newCA(t *testing.T) *edgetest.CA {
	t.Helper()
	ca, err := edgetest.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func TestTLSConfigFailsClosed(t *testing.T) {
	ca := newCA(t)
	good := ca.PEM()
	tests := []struct {
		name   string
		bundle []byte
		server string
		want   string
	}{
		{"nil", nil, "localhost", "empty"},
		{"no server name", good, "", "server name"},
		{"garbage", []byte("not a certificate"), "localhost", "no PEM CERTIFICATE"},
		{"json", []byte(`{"certificate":"x"}`), "localhost", "no PEM CERTIFICATE"},
		{"bad der", []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), "localhost", "block 1"},
		{"bad base64", append(append([]byte{}, good...), "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n"...), "localhost", "PEM headers"},
		{"private key", []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), "localhost", "not CERTIFICATE"},
	}
	for _, tt := range tests {
		cfg, err := TLSConfig(tt.bundle, tt.server)
		if err == nil || cfg != nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: cfg=%v err=%v, want error containing %q", tt.name, cfg, err, tt.want)
		}
	}
	cfg, err := TLSConfig(append([]byte("# comment\n"), good...), "localhost")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.InsecureSkipVerify || cfg.MinVersion != tls.VersionTLS12 || cfg.ServerName != "localhost" || cfg.RootCAs == nil {
		t.Fatalf("cfg = %+v", cfg)
	}
}

// handshake dials a TLS server presenting cert and reports the client error.
func handshake(t *testing.T, cfg *tls.Config, cert tls.Certificate) error {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			_ = c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	c, err := tls.Dial("tcp", ln.Addr().String(), cfg)
	if err == nil {
		c.Close()
	}
	return err
}

func TestTLSConfigVerifies(t *testing.T) {
	ca, other := newCA(t), newCA(t)
	cert, err := ca.ServerCert("localhost", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	ok, _ := TLSConfig(ca.PEM(), "localhost")
	if err := handshake(t, ok, cert); err != nil {
		t.Fatalf("trusted server refused: %v", err)
	}
	wrongCA, _ := TLSConfig(other.PEM(), "localhost")
	if err := handshake(t, wrongCA, cert); err == nil {
		t.Fatal("server of another CA accepted")
	}
	wrongName, _ := TLSConfig(ca.PEM(), "edgehub.example")
	if err := handshake(t, wrongName, cert); err == nil {
		t.Fatal("wrong server name accepted")
	}
}

func TestSystemTLSConfig(t *testing.T) {
	ca := newCA(t)
	cfg, err := SystemTLSConfig("localhost", ca.PEM())
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := ca.ServerCert()
	if err := handshake(t, cfg, cert); err != nil {
		t.Fatalf("extra CA not trusted: %v", err)
	}
	if _, err := SystemTLSConfig("localhost", []byte("junk")); err == nil {
		t.Fatal("junk CA file accepted")
	}
	if _, err := SystemTLSConfig("", nil); err == nil {
		t.Fatal("empty server name accepted")
	}
}

type bundleFunc func(context.Context) ([]byte, error)

func (f bundleFunc) TrustBundle(ctx context.Context) ([]byte, error) { return f(ctx) }

func TestWorkloadTrust(t *testing.T) {
	ca := newCA(t)
	calls := 0
	wt := NewWorkloadTrust(bundleFunc(func(context.Context) ([]byte, error) {
		calls++
		if calls == 2 {
			return nil, errors.New("daemon down")
		}
		return ca.PEM(), nil
	}), "localhost")
	if _, err := wt.TLSConfig(context.Background()); err != nil {
		t.Fatal(err)
	}
	if cfg, err := wt.TLSConfig(context.Background()); err == nil || cfg != nil {
		t.Fatalf("fetch failure: cfg=%v err=%v", cfg, err)
	}
	if _, err := NewStaticTrust(&tls.Config{InsecureSkipVerify: true}); err == nil { //nolint:gosec // must be refused
		t.Fatal("insecure static config accepted")
	}
}
