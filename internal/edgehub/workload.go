package edgehub

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sirupsen/logrus"
)

// workloadAPIVersion is what every Microsoft SDK sends, whatever
// IOTEDGE_APIVERSION says; aziot-edged accepts it for both routes.
const workloadAPIVersion = "2018-06-28"

// maxWorkloadBody bounds how much of a workload response is read.
const maxWorkloadBody = 1 << 20

// WorkloadOptions tune the workload API client. Zero values take defaults.
type WorkloadOptions struct {
	Timeout       time.Duration // per request; default 5s
	MaxAttempts   int           // per call, including the first; default 5
	MinBackoff    time.Duration // default 200ms
	MaxBackoff    time.Duration // default 5s
	MaxConcurrent int           // concurrent requests; default 3 (the daemon refuses >10)
	Metrics       *WorkloadMetrics
	Log           *logrus.Entry
}

func (o *WorkloadOptions) defaults() {
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 200 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Second
	}
	if o.MaxConcurrent <= 0 {
		o.MaxConcurrent = 3
	}
	if o.Metrics == nil {
		o.Metrics = NewWorkloadMetrics(nil)
	}
	if o.Log == nil {
		o.Log = discardLog()
	}
}

// WorkloadClient talks to the IoT Edge workload API of one module. Each
// client owns its transport; nothing is shared between clients.
type WorkloadClient struct {
	id   Identity
	base *url.URL // scheme+host (+path prefix) requests are made against
	http *http.Client
	sem  chan struct{}
	o    WorkloadOptions
}

// NewWorkloadClient returns a client for id.WorkloadURI (unix:// or http(s)://).
func NewWorkloadClient(id Identity, o WorkloadOptions) (*WorkloadClient, error) {
	o.defaults()
	if id.WorkloadURI == nil {
		return nil, errors.New("workload client: identity has no workload URI")
	}
	tr := &http.Transport{
		MaxIdleConns:          o.MaxConcurrent,
		IdleConnTimeout:       30 * time.Second,
		ResponseHeaderTimeout: o.Timeout,
		DisableCompression:    true,
	}
	base := *id.WorkloadURI
	switch base.Scheme {
	case "unix":
		sock := base.Path
		d := &net.Dialer{Timeout: o.Timeout}
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.DialContext(ctx, "unix", sock)
		}
		base = url.URL{Scheme: "http", Host: "workload"}
	case "http", "https":
		base.Path = strings.TrimSuffix(base.Path, "/")
		tr.DialContext = (&net.Dialer{Timeout: o.Timeout}).DialContext
	default:
		return nil, fmt.Errorf("workload client: unsupported scheme %q", base.Scheme)
	}
	return &WorkloadClient{
		id:   id,
		base: &base,
		http: &http.Client{Transport: tr, Timeout: o.Timeout},
		sem:  make(chan struct{}, o.MaxConcurrent),
		o:    o,
	}, nil
}

// Close releases idle connections.
func (c *WorkloadClient) Close() { c.http.CloseIdleConnections() }

// Sign returns HMAC-SHA256(module key, data) computed by the daemon.
func (c *WorkloadClient) Sign(ctx context.Context, data []byte) ([]byte, error) {
	body, _ := json.Marshal(struct {
		KeyID string `json:"keyId"`
		Algo  string `json:"algo"`
		Data  string `json:"data"`
	}{"primary", "HMACSHA256", base64.StdEncoding.EncodeToString(data)})
	path := "/modules/" + url.PathEscape(c.id.ModuleID) + "/genid/" + url.PathEscape(c.id.GenerationID) + "/sign"
	var resp struct {
		Digest string `json:"digest"`
	}
	if err := c.call(ctx, "sign", http.MethodPost, path, body, &resp); err != nil {
		return nil, err
	}
	digest, err := base64.StdEncoding.DecodeString(resp.Digest)
	if err != nil || len(digest) == 0 {
		c.o.Metrics.errors.WithLabelValues("sign", reasonDecode).Inc()
		return nil, errors.New("workload sign: response has no valid base64 digest")
	}
	return digest, nil
}

// TrustBundle returns the PEM certificates edgeHub's server certificate
// chains to.
func (c *WorkloadClient) TrustBundle(ctx context.Context) ([]byte, error) {
	var resp struct {
		Certificate string `json:"certificate"`
	}
	if err := c.call(ctx, "trust_bundle", http.MethodGet, "/trust-bundle", nil, &resp); err != nil {
		return nil, err
	}
	if strings.TrimSpace(resp.Certificate) == "" {
		c.o.Metrics.errors.WithLabelValues("trust_bundle", reasonDecode).Inc()
		return nil, errors.New("workload trust-bundle: response has no certificate")
	}
	return []byte(resp.Certificate), nil
}

// call runs one operation with bounded, backed-off retries.
func (c *WorkloadClient) call(ctx context.Context, op, method, path string, body []byte, out any) error {
	bo := backoff{base: c.o.MinBackoff, max: c.o.MaxBackoff}
	var last error
	for attempt := 0; attempt < c.o.MaxAttempts; attempt++ {
		if attempt > 0 {
			d := bo.delay(attempt - 1)
			c.o.Log.WithFields(logrus.Fields{"operation": op, "attempt": attempt + 1, "retry_in": d}).
				WithError(last).Warn("workload API request failed, retrying")
			if err := sleep(ctx, d); err != nil {
				return fmt.Errorf("workload %s: %w (last error: %w)", op, err, last)
			}
		}
		c.o.Metrics.requests.WithLabelValues(op).Inc()
		raw, err := c.do(ctx, method, path, body)
		if err == nil {
			if err := json.Unmarshal(raw, out); err != nil {
				c.o.Metrics.errors.WithLabelValues(op, reasonDecode).Inc()
				return fmt.Errorf("workload %s: decode response: %w", op, err)
			}
			return nil
		}
		var we *WorkloadError
		if !errors.As(err, &we) {
			return fmt.Errorf("workload %s: %w", op, err) // cancelled
		}
		c.o.Metrics.errors.WithLabelValues(op, we.Reason).Inc()
		we.Op = op
		if !we.Temporary {
			return we
		}
		last = we
	}
	return fmt.Errorf("workload %s: giving up after %d attempts: %w", op, c.o.MaxAttempts, last)
}

// do performs one HTTP request, holding a concurrency slot.
func (c *WorkloadClient) do(ctx context.Context, method, path string, body []byte) ([]byte, error) {
	select {
	case c.sem <- struct{}{}:
		defer func() { <-c.sem }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	rctx, cancel := context.WithTimeout(ctx, c.o.Timeout)
	defer cancel()
	u := *c.base
	u.Path += path
	u.RawQuery = "api-version=" + workloadAPIVersion
	req, err := http.NewRequestWithContext(rctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, &WorkloadError{Reason: reasonRequest, Err: err}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err() // the caller gave up: no retry
		}
		return nil, classifyTransport(c.id.WorkloadURI, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxWorkloadBody+1))
	if err != nil {
		return nil, &WorkloadError{Reason: reasonConnection, Temporary: true, Err: fmt.Errorf("read response: %w", err)}
	}
	if len(raw) > maxWorkloadBody {
		return nil, &WorkloadError{Reason: reasonDecode, Status: resp.StatusCode, Err: fmt.Errorf("response larger than %d bytes", maxWorkloadBody)}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return raw, nil
	}
	return nil, statusError(resp.StatusCode, raw)
}
