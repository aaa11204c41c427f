package edgehub

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// TLSConfig builds the client TLS configuration for edgeHub from the
// workload trust bundle. It fails closed: a missing or unparseable bundle,
// or one without a single certificate, is an error. It never sets
// InsecureSkipVerify.
func TLSConfig(bundlePEM []byte, serverName string) (*tls.Config, error) {
	if serverName == "" {
		return nil, errors.New("tls: no server name (gateway host name) to verify")
	}
	if len(bundlePEM) == 0 {
		return nil, errors.New("tls: trust bundle is empty")
	}
	pool, n, err := parseBundle(bundlePEM)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, errors.New("tls: trust bundle holds no PEM CERTIFICATE block")
	}
	return clientConfig(pool.CertPool, serverName), nil
}

// SystemTLSConfig is the standalone-mode configuration: the system roots,
// plus extraCAPEM if non-empty (e.g. a test CA or EdgeModuleCACertificateFile).
func SystemTLSConfig(serverName string, extraCAPEM []byte) (*tls.Config, error) {
	if serverName == "" {
		return nil, errors.New("tls: no server name to verify")
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		return nil, fmt.Errorf("tls: system roots: %w", err)
	}
	if len(extraCAPEM) > 0 {
		extra, n, err := parseBundle(extraCAPEM)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, errors.New("tls: CA file holds no PEM CERTIFICATE block")
		}
		for _, c := range extra.certs {
			pool.AddCert(c)
		}
	}
	return clientConfig(pool, serverName), nil
}

func clientConfig(pool *x509.CertPool, serverName string) *tls.Config {
	return &tls.Config{
		RootCAs:    pool,
		ServerName: serverName,
		MinVersion: tls.VersionTLS12,
	}
}

// certPool is a pool plus the certificates in it (x509.CertPool cannot
// be enumerated).
type certPool struct {
	*x509.CertPool
	certs []*x509.Certificate
}

// parseBundle parses every CERTIFICATE block; any unparseable block or a
// non-certificate PEM block is an error. Text between blocks is ignored.
func parseBundle(bundle []byte) (*certPool, int, error) {
	p := &certPool{CertPool: x509.NewCertPool()}
	rest := bundle
	for i := 1; ; i++ {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return nil, 0, fmt.Errorf("tls: trust bundle block %d is %q, not CERTIFICATE", i, b.Type)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, 0, fmt.Errorf("tls: trust bundle block %d: %w", i, err)
		}
		p.AddCert(c)
		p.certs = append(p.certs, c)
	}
	if begins := bytes.Count(bundle, []byte("-----BEGIN ")); begins != len(p.certs) {
		return nil, 0, fmt.Errorf("tls: trust bundle has %d PEM headers but %d decodable blocks", begins, len(p.certs))
	}
	return p, len(p.certs), nil
}

// TrustSource yields the TLS configuration for a new connection.
type TrustSource interface {
	TLSConfig(ctx context.Context) (*tls.Config, error)
}

// BundleFetcher fetches the trust bundle; *WorkloadClient is one.
type BundleFetcher interface {
	TrustBundle(ctx context.Context) ([]byte, error)
}

// WorkloadTrust fetches the trust bundle afresh for every connection.
type WorkloadTrust struct {
	f          BundleFetcher
	serverName string
}

// NewWorkloadTrust returns a TrustSource over f verifying serverName.
func NewWorkloadTrust(f BundleFetcher, serverName string) *WorkloadTrust {
	return &WorkloadTrust{f: f, serverName: serverName}
}

// TLSConfig fetches the bundle and builds the configuration.
func (w *WorkloadTrust) TLSConfig(ctx context.Context) (*tls.Config, error) {
	b, err := w.f.TrustBundle(ctx)
	if err != nil {
		return nil, fmt.Errorf("trust bundle: %w", err)
	}
	return TLSConfig(b, w.serverName)
}

// StaticTrust always yields the same configuration (standalone mode).
type StaticTrust struct{ cfg *tls.Config }

// NewStaticTrust wraps cfg, which must not be nil.
func NewStaticTrust(cfg *tls.Config) (*StaticTrust, error) {
	if cfg == nil {
		return nil, errors.New("static trust: nil tls config")
	}
	if cfg.InsecureSkipVerify {
		return nil, errors.New("static trust: InsecureSkipVerify is not allowed")
	}
	return &StaticTrust{cfg: cfg}, nil
}

// TLSConfig returns a clone of the configuration.
func (s *StaticTrust) TLSConfig(context.Context) (*tls.Config, error) { return s.cfg.Clone(), nil }
