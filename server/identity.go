package server

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/keeldb/keel/reducer"
)

// Issuer is an external identity provider (an OIDC issuer) whose tokens
// the server accepts: a token whose iss claim is Name and whose
// signature one of Keys verifies (RS256/384/512 and PS256/384/512 for
// *rsa.PublicKey, ES256/384/512 for *ecdsa.PublicKey, EdDSA for
// ed25519.PublicKey; server.New refuses a key of any other type). The
// token's sub claim, with Name, makes the identity; exp and nbf are
// checked when present; Audience, when set, must be in aud.
type Issuer struct {
	Name     string
	Keys     []crypto.PublicKey
	Audience string
}

// ErrToken is matched by every refused token.
var ErrToken = errors.New("keel: server: invalid token")

// IdentityOf returns the identity of the subject sub of issuer iss: 32
// hex digits of SHA-256 over both, so that two issuers' subjects never
// share an identity.
func IdentityOf(iss, sub string) reducer.Identity {
	h := sha256.Sum256([]byte(iss + "\x00" + sub))
	return reducer.Identity(hex.EncodeToString(h[:16]))
}

// tokens issues and checks identity tokens.
type tokens struct {
	issuer  string
	key     []byte
	ttl     time.Duration
	clock   func() time.Time
	issuers map[string]Issuer
}

type claims struct {
	jwt.RegisteredClaims
}

// issue returns a new identity and its signed token.
func (t *tokens) issue() (reducer.Identity, string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", err
	}
	sub := hex.EncodeToString(b[:])
	now := t.clock()
	c := claims{jwt.RegisteredClaims{Issuer: t.issuer, Subject: sub, IssuedAt: jwt.NewNumericDate(now)}}
	if t.ttl > 0 {
		c.ExpiresAt = jwt.NewNumericDate(now.Add(t.ttl))
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(t.key)
	if err != nil {
		return "", "", err
	}
	return IdentityOf(t.issuer, sub), tok, nil
}

// check verifies a token: one this server signed, or one of a
// configured issuer.
func (t *tokens) check(s string) (reducer.Identity, error) {
	var iss string
	// exp and nbf are checked, iat is not: an issuer whose clock runs a
	// little ahead of this server's makes tokens "issued" in the future,
	// which are good all the same.
	p := jwt.NewParser(jwt.WithTimeFunc(t.clock))
	tok, err := p.ParseWithClaims(s, &claims{}, func(tok *jwt.Token) (any, error) {
		c := tok.Claims.(*claims)
		iss = c.Issuer
		if iss == t.issuer {
			if _, ok := tok.Method.(*jwt.SigningMethodHMAC); !ok || tok.Method.Alg() != "HS256" {
				return nil, fmt.Errorf("a token of this server is signed with HS256, not %s", tok.Method.Alg())
			}
			return t.key, nil
		}
		is, ok := t.issuers[iss]
		if !ok {
			return nil, fmt.Errorf("issuer %q is not trusted", iss)
		}
		if _, ok := tok.Method.(*jwt.SigningMethodHMAC); ok {
			return nil, fmt.Errorf("issuer %q signs with public keys, not %s", iss, tok.Method.Alg())
		}
		if is.Audience != "" {
			found := false
			for _, a := range c.Audience {
				found = found || a == is.Audience
			}
			if !found {
				return nil, fmt.Errorf("the token is not for audience %q", is.Audience)
			}
		}
		ks := jwt.VerificationKeySet{}
		for _, k := range is.Keys {
			ks.Keys = append(ks.Keys, k)
		}
		return ks, nil
	})
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrToken, err)
	}
	c := tok.Claims.(*claims)
	if c.Subject == "" {
		return "", fmt.Errorf("%w: no sub claim", ErrToken)
	}
	// With a TTL, a token of this server lasts that long after it was
	// issued, whatever its exp: one issued before the TTL was set (no exp)
	// or under a longer one expires too.
	if c.Issuer == t.issuer && t.ttl > 0 {
		if c.IssuedAt == nil || !t.clock().Before(c.IssuedAt.Add(t.ttl)) {
			return "", fmt.Errorf("%w: %w: issued more than %v ago (Options.TokenTTL)", ErrToken, jwt.ErrTokenExpired, t.ttl)
		}
	}
	return IdentityOf(c.Issuer, c.Subject), nil
}
