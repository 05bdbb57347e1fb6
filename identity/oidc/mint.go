package oidc

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"fmt"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/frontdeskhq/frontdesk/identity/store"
)

// Token minting, the hot path of every grant. The claims of access and ID
// tokens are typed structs marshalled once: the library's claim types merge
// their private claims by encoding, decoding into a map and encoding again,
// which cost more than a third of a token's CPU outside the signature. The
// claim names and values are those the library produced (tests decode them);
// signing is golang-jwt's (sign), with each key's headers made once.

// practiceClaims are the practice claims (the roles scope, claims.go) of
// access and ID tokens.
type practiceClaims struct {
	Practice      string   `json:"practice"`
	PracticeID    string   `json:"practice_id"`
	Roles         []string `json:"roles"`
	Permissions   []string `json:"permissions"`
	ElevatedUntil int64    `json:"elevated_until,omitempty"`
}

func (g *grant) practiceClaims() *practiceClaims {
	c := &practiceClaims{Practice: g.practice.Slug, PracticeID: g.practice.ID,
		Roles: nonNil(g.eff.Roles), Permissions: nonNil(g.eff.Permissions)}
	if !g.eff.ElevatedUntil.IsZero() {
		c.ElevatedUntil = g.eff.ElevatedUntil.Unix()
	}
	return c
}

// accessTokenClaims is an RFC 9068 access token's payload.
type accessTokenClaims struct {
	Issuer     string   `json:"iss"`
	Subject    string   `json:"sub"`
	Audience   []string `json:"aud"`
	Expiration int64    `json:"exp"`
	IssuedAt   int64    `json:"iat"`
	NotBefore  int64    `json:"nbf"`
	AuthTime   int64    `json:"auth_time,omitempty"`
	AMR        []string `json:"amr,omitempty"`
	ClientID   string   `json:"client_id"`
	JWTID      string   `json:"jti"`
	Scope      string   `json:"scope,omitempty"`
	SessionID  string   `json:"sid,omitempty"`
	// UserinfoClaims are the claim groups (scope names) the claims
	// parameter asked userinfo for; userinfo reads them back.
	UserinfoClaims []string `json:"userinfo_claims,omitempty"`
	*practiceClaims
}

// idTokenClaims is an ID token's payload, as op.CreateIDToken built it for
// frontdesk's grants: the standard claims, the userinfo claims the scopes
// allow, and the practice claims.
type idTokenClaims struct {
	Issuer     string   `json:"iss"`
	Subject    string   `json:"sub"`
	Audience   []string `json:"aud"`
	Expiration int64    `json:"exp"`
	IssuedAt   int64    `json:"iat"`
	AuthTime   int64    `json:"auth_time,omitempty"`
	Nonce      string   `json:"nonce,omitempty"`
	AMR        []string `json:"amr,omitempty"`
	AZP        string   `json:"azp"`
	ClientID   string   `json:"client_id"`
	AtHash     string   `json:"at_hash,omitempty"`
	CodeHash   string   `json:"c_hash,omitempty"`
	SessionID  string   `json:"sid,omitempty"`
	ACR        string   `json:"acr,omitempty"`
	*practiceClaims
	*practitionerClaims
	*profileClaims
	*emailClaims
}

// profileClaims come with the profile scope (userinfo, or the ID token when
// the claims parameter asks for them there).
type profileClaims struct {
	Name      string `json:"name,omitempty"`
	UpdatedAt int64  `json:"updated_at,omitempty"`
}

// emailClaims come with the email scope (as profileClaims).
type emailClaims struct {
	Email         string `json:"email"`
	EmailVerified bool   `json:"email_verified"`
}

// practitionerClaims come with the practitioner scope.
type practitionerClaims struct {
	LegalName string `json:"legal_name"`
	// PreferredName is the name the practitioner goes by (the display
	// name); Credentials their post-nominal letters ("LCSW, PhD").
	PreferredName string   `json:"preferred_name"`
	Credentials   string   `json:"credentials"`
	NPI           string   `json:"npi"`
	Taxonomy      string   `json:"taxonomy"`
	Supervisors   []string `json:"supervisors"`
	// Supervisees, CosignNotes and CosignTreatmentPlans: see Effective.
	Supervisees          []string `json:"supervisees"`
	CosignNotes          []string `json:"cosign_notes"`
	CosignTreatmentPlans []string `json:"cosign_treatment_plans"`
}

// tokenHeaders are a signing key's golang-jwt signing method and the JOSE
// headers of its two token types (alg, kid and typ), made once for the
// key's lifetime. A header map is shared by every token the key signs and
// only read (jwt.Token.SignedString marshals it), so one serves concurrent
// requests; nothing may write to it after it is made.
type tokenHeaders struct {
	once   sync.Once
	method jwt.SigningMethod
	access map[string]any // typ at+jwt
	id     map[string]any // typ JWT
	err    error
}

func (k *signingKey) tokenHeaders() (*tokenHeaders, error) {
	h := &k.headers
	h.once.Do(func() {
		switch key := k.private.(type) {
		case *ecdsa.PrivateKey:
			if k.alg != jose.ES256 || key.Curve != elliptic.P256() {
				h.err = fmt.Errorf("key %s: an ECDSA key signs ES256 on P-256 only, not %s", k.id, k.alg)
				return
			}
			h.method = jwt.SigningMethodES256
		case *rsa.PrivateKey:
			if k.alg != jose.RS256 {
				h.err = fmt.Errorf("key %s: an RSA key signs RS256 only, not %s", k.id, k.alg)
				return
			}
			h.method = jwt.SigningMethodRS256
		default:
			h.err = fmt.Errorf("key %s: unsupported private key type %T", k.id, k.private)
			return
		}
		h.access = map[string]any{"alg": h.method.Alg(), "kid": k.id, "typ": AccessTokenType}
		h.id = map[string]any{"alg": h.method.Alg(), "kid": k.id, "typ": "JWT"}
	})
	if h.err != nil {
		return nil, fmt.Errorf("oidc: signer: %w", h.err)
	}
	return h, nil
}

// sign signs claims as a compact JWS of type typ (AccessTokenType or
// "JWT") with golang-jwt: the header is alg, kid and typ, the payload the
// claims' JSON (encoding/json), as go-jose produced them before. golang-jwt
// builds the JWS with less work around the signature than go-jose's general
// signer (its header sanitising, its own JSON package, the JWS object).
func (k *signingKey) sign(typ string, claims jwt.Claims) (string, error) {
	h, err := k.tokenHeaders()
	if err != nil {
		return "", err
	}
	header := h.id
	if typ == AccessTokenType {
		header = h.access
	}
	t := &jwt.Token{Method: h.method, Header: header, Claims: claims}
	jws, err := t.SignedString(k.private)
	if err != nil {
		return "", fmt.Errorf("oidc: sign: %w", err)
	}
	return jws, nil
}

// The claim structs implement jwt.Claims (golang-jwt signs only values of
// that interface); signing reads none of these methods, which report the
// registered claims for anyone who validates the value.

func numericDate(t int64) *jwt.NumericDate {
	if t == 0 {
		return nil
	}
	return jwt.NewNumericDate(time.Unix(t, 0))
}

// GetExpirationTime implements jwt.Claims.
func (c *accessTokenClaims) GetExpirationTime() (*jwt.NumericDate, error) {
	return numericDate(c.Expiration), nil
}

// GetIssuedAt implements jwt.Claims.
func (c *accessTokenClaims) GetIssuedAt() (*jwt.NumericDate, error) {
	return numericDate(c.IssuedAt), nil
}

// GetNotBefore implements jwt.Claims.
func (c *accessTokenClaims) GetNotBefore() (*jwt.NumericDate, error) {
	return numericDate(c.NotBefore), nil
}

// GetIssuer implements jwt.Claims.
func (c *accessTokenClaims) GetIssuer() (string, error) { return c.Issuer, nil }

// GetSubject implements jwt.Claims.
func (c *accessTokenClaims) GetSubject() (string, error) { return c.Subject, nil }

// GetAudience implements jwt.Claims.
func (c *accessTokenClaims) GetAudience() (jwt.ClaimStrings, error) { return c.Audience, nil }

// GetExpirationTime implements jwt.Claims.
func (c *idTokenClaims) GetExpirationTime() (*jwt.NumericDate, error) {
	return numericDate(c.Expiration), nil
}

// GetIssuedAt implements jwt.Claims.
func (c *idTokenClaims) GetIssuedAt() (*jwt.NumericDate, error) { return numericDate(c.IssuedAt), nil }

// GetNotBefore implements jwt.Claims: ID tokens carry no nbf.
func (c *idTokenClaims) GetNotBefore() (*jwt.NumericDate, error) { return nil, nil }

// GetIssuer implements jwt.Claims.
func (c *idTokenClaims) GetIssuer() (string, error) { return c.Issuer, nil }

// GetSubject implements jwt.Claims.
func (c *idTokenClaims) GetSubject() (string, error) { return c.Subject, nil }

// GetAudience implements jwt.Claims.
func (c *idTokenClaims) GetAudience() (jwt.ClaimStrings, error) { return c.Audience, nil }

// idToken mints g's ID token with key: expiry and issued-at from the real
// clock (relying parties check them against theirs), at_hash of the access
// token and c_hash of the code when given, and the claim groups claims.go
// releases to ID tokens for the grant's scopes and claims request.
func (p *Provider) idToken(key *signingKey, g *grant, accessToken, code string) (string, error) {
	now := time.Now().UTC()
	c := &idTokenClaims{Issuer: p.issuer, Subject: g.subject, Audience: []string{g.client.cfg.ID},
		Expiration: now.Add(g.client.IDTokenLifetime()).Unix(), IssuedAt: now.Unix(),
		AuthTime: oidcTime(g.authTime), Nonce: g.nonce, AMR: g.amr, AZP: g.client.cfg.ID, ClientID: g.client.cfg.ID,
		SessionID: g.sid}
	var err error
	if accessToken != "" {
		if c.AtHash, err = oidc.ClaimHash(accessToken, key.alg); err != nil {
			return "", fmt.Errorf("oidc: at_hash: %w", err)
		}
	}
	if code != "" {
		if c.CodeHash, err = oidc.ClaimHash(code, key.alg); err != nil {
			return "", fmt.Errorf("oidc: c_hash: %w", err)
		}
	}
	if g.claims.ACR {
		c.ACR = acrFor(g.amr)
	}
	extra := g.claims.ID
	if releases(destID, ScopeRoles, g.scopes, extra) {
		c.practiceClaims = g.practiceClaims()
	}
	if m := g.member; m != nil {
		if releases(destID, ScopePractitioner, g.scopes, extra) {
			c.practitionerClaims = g.practitionerClaims()
		}
		if releases(destID, oidc.ScopeProfile, g.scopes, extra) {
			c.profileClaims = &profileClaims{Name: displayName(m.DisplayName, m.LegalName), UpdatedAt: oidcTime(m.UpdatedAt)}
		}
		if releases(destID, oidc.ScopeEmail, g.scopes, extra) {
			c.emailClaims = &emailClaims{Email: m.Email, EmailVerified: emailVerified(m.Status)}
		}
	}
	return key.sign("JWT", c)
}

func (g *grant) practitionerClaims() *practitionerClaims {
	m := g.member
	return &practitionerClaims{LegalName: m.LegalName, PreferredName: m.DisplayName, Credentials: m.Credentials,
		NPI: m.NPI, Taxonomy: m.Taxonomy,
		Supervisors: nonNil(g.eff.Supervisors), Supervisees: nonNil(g.eff.Supervisees),
		CosignNotes: nonNil(g.eff.CosignNotes), CosignTreatmentPlans: nonNil(g.eff.CosignTreatmentPlans)}
}

// accessToken builds g's access-token claims issued at now, expiring after ttl.
func (p *Provider) accessTokenClaims(g *grant, now time.Time, ttl time.Duration) *accessTokenClaims {
	c := &accessTokenClaims{Issuer: p.issuer, Subject: g.subject, Audience: []string{g.client.cfg.ID},
		Expiration: now.Add(ttl).Unix(), IssuedAt: now.Unix(), NotBefore: now.Unix(), AuthTime: oidcTime(g.authTime),
		AMR: g.amr, ClientID: g.client.cfg.ID, JWTID: p.d.NewID(), Scope: strings.Join(g.scopes, " "),
		UserinfoClaims: g.claims.Userinfo}
	switch {
	case g.rotates != "":
		// The jti names the grant, so revoking the grant (the refresh
		// family: refresh-token revocation, code or refresh replay, logout)
		// ends this token too (store.CheckAccessToken).
		c.JWTID = store.RefreshedJTI(g.familyID, c.JWTID)
	case g.familyID != "":
		c.JWTID = store.GrantJTI(g.familyID, c.JWTID)
	}
	if g.practice.ID != "" {
		c.SessionID = g.sid
		c.practiceClaims = g.practiceClaims()
	}
	return c
}

func oidcTime(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// emailVerified: active (and locked) members proved their address by using
// the link mailed to it.
func emailVerified(status store.MemberStatus) bool {
	return status == store.StatusActive || status == store.StatusLocked
}

// displayName is the name claim: the display name, else the legal name.
func displayName(display, legal string) string {
	if display == "" {
		return legal
	}
	return display
}
