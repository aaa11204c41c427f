package edgehub

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/azureiotsecurity/azureiotsecurity/internal/edgetest"
)

var testModule = Identity{IoTHubHostName: "hub.example.net", DeviceID: "dev1", ModuleID: "sec-mod"}

func TestStringToSignMatchesObserved(t *testing.T) {
	// edge-contract.md §1.3: what iothub and the Node SDK sent.
	got := string(StringToSign(testModule, time.Unix(1795888340, 0)))
	want := "hub.example.net%2Fdevices%2Fdev1%2Fmodules%2Fsec-mod\n1795888340"
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestAudienceDoubleEncodesIDs(t *testing.T) {
	id := Identity{IoTHubHostName: "h.net", DeviceID: "dev:1", ModuleID: "m@x"}
	if got, want := Audience(id), edgetest.SASAudience("h.net", "dev:1", "m@x"); got != want {
		t.Fatalf("Audience = %q, want %q", got, want)
	}
	if got := Audience(id); got != "h.net%2Fdevices%2Fdev%253A1%2Fmodules%2Fm%2540x" {
		t.Fatalf("Audience = %q", got)
	}
}

type hmacSigner struct {
	key   []byte
	calls int
	err   error
}

func (s *hmacSigner) Sign(_ context.Context, data []byte) ([]byte, error) {
	s.calls++
	if s.err != nil {
		return nil, s.err
	}
	m := hmac.New(sha256.New, s.key)
	m.Write(data)
	return m.Sum(nil), nil
}

var sigField = regexp.MustCompile(`&sig=([^&]*)&`)

func TestTokenSources(t *testing.T) {
	key, _ := base64.StdEncoding.DecodeString(testKeyB64)
	now := time.Unix(1795884740, 500_000_000)
	clock := func() time.Time { return now }
	se := int64(1795884740 + 3600)
	want := edgetest.SASToken(key, "hub.example.net", "dev1", "sec-mod", se)

	signer := &hmacSigner{key: key}
	ws := NewWorkloadTokenSource(testModule, signer, 0, clock)
	ks, err := NewKeyTokenSource(testModule, Key{b64: testKeyB64}, 0, clock)
	if err != nil {
		t.Fatal(err)
	}
	for name, src := range map[string]TokenSource{"workload": ws, "key": ks} {
		tok, err := src.Token(context.Background())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if tok.Value != want {
			t.Errorf("%s token\n got %s\nwant %s", name, tok.Value, want)
		}
		if tok.Expiry.Unix() != se || !tok.IssuedAt.Equal(now) {
			t.Errorf("%s window %v..%v", name, tok.IssuedAt, tok.Expiry)
		}
		if strings.Contains(tok.Value, "skn=") {
			t.Errorf("%s token has skn", name)
		}
		sig := sigField.FindStringSubmatch(tok.Value)[1]
		if strings.ContainsAny(sig, "+/=") || regexp.MustCompile(`%[0-9a-f]{2}|%[0-9A-F][a-f]`).MatchString(tok.Value) {
			t.Errorf("%s token not escaped with upper-case hex: %s", name, tok.Value)
		}
		p, err := edgetest.ParseSASToken(tok.Value)
		if err != nil {
			t.Fatalf("%s: harness cannot parse token: %v", name, err)
		}
		if p.SE != se || p.HasSKN {
			t.Errorf("%s parsed %+v", name, p)
		}
	}
	if signer.calls != 1 {
		t.Errorf("sign calls = %d, want 1 per token", signer.calls)
	}
}

func TestWorkloadTokenSourceError(t *testing.T) {
	ws := NewWorkloadTokenSource(testModule, &hmacSigner{err: errors.New("boom")}, time.Minute, nil)
	if _, err := ws.Token(context.Background()); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("err = %v", err)
	}
}

func TestKeyTokenSourceRejectsBadKey(t *testing.T) {
	for _, k := range []string{"", "***"} {
		if _, err := NewKeyTokenSource(testModule, Key{b64: k}, 0, nil); err == nil {
			t.Errorf("key %q accepted", k)
		}
	}
}

func TestRenewAt(t *testing.T) {
	tok := Token{IssuedAt: time.Unix(1000, 0), Expiry: time.Unix(1000+3600, 0)}
	for frac, want := range map[float64]int64{0.8: 1000 + 2880, 0.5: 1000 + 1800, 0: 1000 + 2880, 2: 1000 + 2880, 1: 4600} {
		if got := tok.RenewAt(frac).Unix(); got != want {
			t.Errorf("RenewAt(%v) = %d, want %d", frac, got, want)
		}
	}
}

func TestDeviceTokenResource(t *testing.T) {
	id := Identity{IoTHubHostName: "h.net", DeviceID: "d1"}
	if got := Audience(id); got != "h.net%2Fdevices%2Fd1" {
		t.Fatalf("device audience = %q", got)
	}
}
