package edgehub

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/amenzhinsky/iothub/common"
)

// DefaultTokenLifetime is the SAS token lifetime Microsoft's SDKs use.
const DefaultTokenLifetime = time.Hour

// Token is a SAS token and the validity window it was minted for. Value is
// a credential: never log it.
type Token struct {
	Value    string
	IssuedAt time.Time
	Expiry   time.Time // the token's se
}

// RenewAt is when a holder should replace the token: after fraction of
// its lifetime (0 < fraction ≤ 1; otherwise 0.8).
func (t Token) RenewAt(fraction float64) time.Time {
	if fraction <= 0 || fraction > 1 {
		fraction = 0.8
	}
	life := t.Expiry.Sub(t.IssuedAt)
	return t.IssuedAt.Add(time.Duration(float64(life) * fraction))
}

// TokenSource mints SAS tokens for one identity.
type TokenSource interface {
	Token(ctx context.Context) (Token, error)
}

// Signer computes HMAC-SHA256 with the identity's key; *WorkloadClient is one.
type Signer interface {
	Sign(ctx context.Context, data []byte) ([]byte, error)
}

// resource is the unescaped token resource: the hub host, and the device
// and module ids query-escaped once (.NET "double encodes" them; the whole
// resource is escaped again when signed and when put in the token).
func resource(id Identity) string {
	r := id.IoTHubHostName + "/devices/" + url.QueryEscape(id.DeviceID)
	if id.ModuleID != "" {
		r += "/modules/" + url.QueryEscape(id.ModuleID)
	}
	return r
}

// Audience is the token's sr field as sent: QueryEscape(resource), with
// upper-case hex, e.g. "hub.example.net%2Fdevices%2Fdev1%2Fmodules%2Fsec-mod".
func Audience(id Identity) string { return url.QueryEscape(resource(id)) }

// StringToSign is sr + "\n" + se (Unix seconds).
func StringToSign(id Identity, expiry time.Time) []byte {
	return []byte(Audience(id) + "\n" + strconv.FormatInt(expiry.Unix(), 10))
}

// sourceBase holds what both token sources share.
type sourceBase struct {
	id       Identity
	lifetime time.Duration
	now      func() time.Time
}

func (b sourceBase) window() (time.Time, time.Time) {
	now := b.now()
	// se has one-second resolution; round the expiry down so Expiry is exact.
	return now, now.Add(b.lifetime).Truncate(time.Second)
}

func newBase(id Identity, lifetime time.Duration, now func() time.Time) sourceBase {
	if lifetime <= 0 {
		lifetime = DefaultTokenLifetime
	}
	if now == nil {
		now = time.Now
	}
	return sourceBase{id: id, lifetime: lifetime, now: now}
}

// WorkloadTokenSource signs tokens with the IoT Edge workload API: one
// Sign call per token.
type WorkloadTokenSource struct {
	sourceBase
	signer Signer
}

// NewWorkloadTokenSource returns a source that signs through s. lifetime
// ≤ 0 means DefaultTokenLifetime; now nil means time.Now.
func NewWorkloadTokenSource(id Identity, s Signer, lifetime time.Duration, now func() time.Time) *WorkloadTokenSource {
	return &WorkloadTokenSource{sourceBase: newBase(id, lifetime, now), signer: s}
}

// Token mints a token, calling the workload sign endpoint once (the
// client's own bounded retries aside).
func (w *WorkloadTokenSource) Token(ctx context.Context) (Token, error) {
	issued, se := w.window()
	digest, err := w.signer.Sign(ctx, StringToSign(w.id, se))
	if err != nil {
		return Token{}, fmt.Errorf("sign sas token: %w", err)
	}
	sas := common.SharedAccessSignature{
		Sr:  resource(w.id),
		Sig: base64.StdEncoding.EncodeToString(digest),
		Se:  se,
	}
	return Token{Value: sas.String(), IssuedAt: issued, Expiry: se}, nil
}

// KeyTokenSource signs tokens locally with a shared access key
// (standalone mode).
type KeyTokenSource struct {
	sourceBase
	key Key
}

// NewKeyTokenSource returns a source that signs with key.
func NewKeyTokenSource(id Identity, key Key, lifetime time.Duration, now func() time.Time) (*KeyTokenSource, error) {
	if b, err := key.bytes(); err != nil || len(b) == 0 {
		return nil, errors.New("key token source: key is empty or not base64")
	}
	return &KeyTokenSource{sourceBase: newBase(id, lifetime, now), key: key}, nil
}

// Token mints a token.
func (k *KeyTokenSource) Token(context.Context) (Token, error) {
	issued, se := k.window()
	sas, err := common.NewSharedAccessSignature(resource(k.id), "", k.key.b64, se)
	if err != nil {
		return Token{}, errors.New("sign sas token: key is not base64") // never wrap: may quote the key
	}
	return Token{Value: sas.String(), IssuedAt: issued, Expiry: se}, nil
}
