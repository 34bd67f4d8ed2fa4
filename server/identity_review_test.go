package server_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"
	"github.com/keeldb/keel/internal/keeltest"
	"github.com/keeldb/keel/server"
	"github.com/keeldb/keel/server/internal/srvmod"
)

// TestIssuerTokenIssuedAtAhead: a token of an external issuer whose iat
// is a little after the server's clock (the issuer's clock runs ahead)
// is accepted, as Issuer promises: exp and nbf are what is checked, and
// iat says only when the token was made.
func TestIssuerTokenIssuedAtAhead(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := newFixture(t, false, server.Options{Clock: func() time.Time { return now },
		Issuers: []server.Issuer{{Name: "https://idp.test", Keys: []crypto.PublicKey{&key.PublicKey}}}})
	tok, err := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"iss": "https://idp.test", "sub": "alice",
		"iat": now.Add(2 * time.Second).Unix(), "exp": now.Add(time.Hour).Unix()}).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	c := f.dialJSON(t, tok)
	m, err := c.tryNext(10 * time.Second)
	if err != nil {
		t.Fatalf("a fresh token of a trusted issuer whose clock is 2s ahead: %v", err)
	}
	if m.typ != "InitialConnection" || m.str("identity") != string(server.IdentityOf("https://idp.test", "alice")) {
		t.Fatalf("%s", m.raw)
	}
}

// TestTokenAttacks: tokens an attacker can make without a key are
// refused with 4001: alg none, HS256 keyed with an issuer's public key
// (algorithm confusion), a public-key signature claiming this server's
// issuer, a token not yet valid, one without sub.
func TestTokenAttacks(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := newFixture(t, false, server.Options{Clock: func() time.Time { return now },
		Issuers: []server.Issuer{{Name: "https://idp.test", Keys: []crypto.PublicKey{&key.PublicKey}}}})
	sign := func(m jwt.SigningMethod, k any, c jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(m, c).SignedString(k)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	ext := jwt.MapClaims{"iss": "https://idp.test", "sub": "alice"}
	own := jwt.MapClaims{"iss": "keel:srvmod", "sub": "alice"}
	for name, tok := range map[string]string{
		"none, external":          sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, ext),
		"none, this server":       sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, own),
		"HS256 with the pub key":  sign(jwt.SigningMethodHS256, pub, ext),
		"ES256 as this server":    sign(jwt.SigningMethodES256, key, own),
		"not yet valid":           sign(jwt.SigningMethodES256, key, jwt.MapClaims{"iss": "https://idp.test", "sub": "alice", "nbf": now.Add(time.Minute).Unix()}),
		"no sub":                  sign(jwt.SigningMethodES256, key, jwt.MapClaims{"iss": "https://idp.test"}),
		"no iss, any HS256 key":   sign(jwt.SigningMethodHS256, []byte(strings.Repeat("k", 32)), jwt.MapClaims{"sub": "alice"}),
		"external, expired by 1s": sign(jwt.SigningMethodES256, key, jwt.MapClaims{"iss": "https://idp.test", "sub": "alice", "exp": now.Add(-time.Second).Unix()}),
	} {
		c := f.dialJSON(t, tok)
		_, err := c.tryNext(10 * time.Second)
		var ce websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != server.StatusInvalidToken || !strings.HasPrefix(ce.Reason, "keel: server: invalid token: ") {
			t.Errorf("%s: %v, want close 4001 with the reason", name, err)
		}
	}
}

// TestBearerSchemeAnyCase: the Authorization header's scheme is matched
// without regard to case (RFC 9110: "bearer" is "Bearer"), so a client
// that writes it in lower case keeps its identity instead of being given
// a new one.
func TestBearerSchemeAnyCase(t *testing.T) {
	f := newFixture(t, false, server.Options{})
	first := f.dialJSON(t, "")
	m, err := first.tryNext(10 * time.Second)
	if err != nil || m.typ != "InitialConnection" {
		t.Fatalf("first connection: %v %s", err, m.raw)
	}
	id, tok := m.str("identity"), m.str("token")
	for _, h := range []string{"bearer " + tok, "BEARER " + tok, "Bearer  " + tok} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		ws, _, err := websocket.Dial(ctx, f.url, &websocket.DialOptions{Subprotocols: []string{server.ProtocolJSON},
			HTTPHeader: http.Header{"Authorization": {h}}})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		c := &jclient{t: t, ws: ws}
		m, err := c.tryNext(10 * time.Second)
		ws.CloseNow()
		if err != nil || m.typ != "InitialConnection" {
			t.Fatalf("Authorization %q: %v %s", h[:7], err, m.raw)
		}
		if got := m.str("identity"); got != id {
			t.Errorf("Authorization %q: identity %s, want the token's %s", h[:7], got, id)
		}
	}
}

// TestIssuerRefused: New refuses an Issuer it could never verify a token
// of, or whose identities could collide, with ErrOptions naming it: no
// name, this server's own name, no keys, a key that is no public key of
// a JWT algorithm (a secret, a private key), or a NUL in its name.
func TestIssuerRefused(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	db := keeltest.Memory(t, srvmod.Module)
	for name, is := range map[string]server.Issuer{
		"no name":         {Keys: []crypto.PublicKey{&key.PublicKey}},
		"this server's":   {Name: "keel:srvmod", Keys: []crypto.PublicKey{&key.PublicKey}},
		"no keys":         {Name: "https://idp.test"},
		"a secret":        {Name: "https://idp.test", Keys: []crypto.PublicKey{[]byte(strings.Repeat("k", 32))}},
		"a private key":   {Name: "https://idp.test", Keys: []crypto.PublicKey{&key.PublicKey, key}},
		"a NUL in a name": {Name: "https://idp.test\x00x", Keys: []crypto.PublicKey{&key.PublicKey}},
	} {
		_, err := server.New(db, server.Options{Issuers: []server.Issuer{is}})
		if !errors.Is(err, server.ErrOptions) || !strings.Contains(err.Error(), "issuer") || strings.Count(err.Error(), "keel: ") != 1 {
			t.Errorf("%s: New: %v, want ErrOptions naming the issuer", name, err)
		}
	}
}
