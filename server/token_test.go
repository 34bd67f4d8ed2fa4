package server_test

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"
	"github.com/keeldb/keel/server"
)

// TestTokenTTLBoundsEveryToken: with TokenTTL set, a token of this
// server is good for TokenTTL after it was issued, whatever its exp says:
// tokens issued before the TTL was set (without exp), or under a longer
// one, expire too.
func TestTokenTTLBoundsEveryToken(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := newFixture(t, false, server.Options{TokenKey: key, TokenTTL: time.Hour, Clock: func() time.Time { return now }})
	sign := func(c jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	good := sign(jwt.MapClaims{"iss": "keel:srvmod", "sub": "ada", "iat": now.Add(-time.Minute).Unix()})
	c := f.dialJSON(t, good)
	if ic := c.expect("InitialConnection"); ic.str("identity") != string(server.IdentityOf("keel:srvmod", "ada")) {
		t.Fatalf("a token within its TTL: %s", ic.raw)
	}
	for name, tok := range map[string]string{
		"no exp, issued before the TTL": sign(jwt.MapClaims{"iss": "keel:srvmod", "sub": "ada", "iat": now.Add(-2 * time.Hour).Unix()}),
		"an exp beyond the TTL":         sign(jwt.MapClaims{"iss": "keel:srvmod", "sub": "ada", "iat": now.Add(-2 * time.Hour).Unix(), "exp": now.Add(time.Hour).Unix()}),
		"neither iat nor exp":           sign(jwt.MapClaims{"iss": "keel:srvmod", "sub": "ada"}),
	} {
		c := f.dialJSON(t, tok)
		if _, err := c.tryNext(10 * time.Second); websocket.CloseStatus(err) != server.StatusInvalidToken {
			t.Errorf("%s: %v, want close 4001", name, err)
		}
	}
}

// TestCloseReasonValidUTF8: a refusal's reason, cut to fit a close
// frame, stays valid UTF-8 (a browser fails a connection whose close
// reason is not, and its client never sees status 4001).
func TestCloseReasonValidUTF8(t *testing.T) {
	f := newFixture(t, false, server.Options{})
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iss": strings.Repeat("é", 100), "sub": "ada"}).
		SignedString([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	c := f.dialJSON(t, tok)
	_, err = c.tryNext(10 * time.Second)
	var ce websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != server.StatusInvalidToken {
		t.Fatalf("%v, want close 4001", err)
	}
	if !utf8.ValidString(ce.Reason) || len(ce.Reason) > 123 {
		t.Fatalf("close reason %q (%d bytes): want valid UTF-8 of at most 123 bytes", ce.Reason, len(ce.Reason))
	}
}
