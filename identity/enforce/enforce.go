// Package enforce is what practice apps import to trust frontdesk's access
// tokens and check permissions. It verifies tokens offline against
// frontdesk's published keys (fetched once, cached, refetched when a token
// names an unknown key, at most once per RefreshInterval), and accepts only
// RFC 9068 access tokens: typ at+jwt, ES256 or RS256 (never none or HMAC),
// the configured issuer and audience, unexpired within a small leeway, and —
// when configured — the app's practice. ID tokens are refused.
//
// Permission checks understand scopes exactly as frontdesk does, because
// this package holds the one permission grammar (ParsePermission, Implies)
// and frontdesk's identity/roles uses it: :all implies :supervisees implies
// :assigned implies :own, a permission without a scope is unrestricted, and
// app.*.login implies every app.<client>.login.
//
// Verification is offline by default, so a token revoked at frontdesk, or
// whose sign-in ended there, is accepted until its exp.
// Config.Introspection is the opt-in that closes this window to a short
// cache TTL: each token is also checked with frontdesk's RFC 7662
// introspection endpoint (see live.go and docs/app-developers.md).
//
// The package depends only on the standard library, golang-jwt (which parses
// the compact token, checks its signature and validates the registered
// claims) and go-jose (which reads frontdesk's JWKS into keys), and it is a
// Go module of its own (identity/enforce/go.mod), so an app importing it
// inherits those two and nothing of the server's dependencies.
package enforce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
)

// AccessTokenType is the typ header of frontdesk access tokens.
const AccessTokenType = "at+jwt"

// algorithms are the signature algorithms accepted (golang-jwt refuses any
// other alg header before a key is looked up, so none and HS256 never reach
// a key).
func algorithms() []string { return []string{string(jose.ES256), string(jose.RS256)} }

// Errors of Verify; test for them with errors.Is.
var (
	// ErrInvalidToken: the token is malformed, of the wrong type or
	// algorithm, badly signed, expired, or for another issuer, audience or
	// practice.
	ErrInvalidToken = errors.New("enforce: invalid access token")
	// ErrKeysUnavailable: the JWKS could not be fetched.
	ErrKeysUnavailable = errors.New("enforce: frontdesk's keys are unavailable")
)

// Config configures a Verifier.
type Config struct {
	// Issuer is frontdesk's issuer (its server.public_url).
	Issuer string
	// Audience is the app's client_id; tokens must name it in aud.
	Audience string
	// Practice, when set, is the only practice slug accepted.
	Practice string
	// JWKSURL defaults to Issuer + "/oauth2/keys".
	JWKSURL string
	// HTTPClient fetches the JWKS; nil means a client with a 10 s timeout.
	HTTPClient *http.Client
	// Leeway tolerates clock skew on exp/nbf/iat; default 30 s.
	Leeway time.Duration
	// RefreshInterval bounds how often an unknown kid triggers a refetch;
	// default 1 minute.
	RefreshInterval time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// CacheSize bounds how many verified tokens are remembered, so a token
	// presented again (every request of a session, for minutes) costs a map
	// look-up and an expiry check instead of a signature verification.
	// 0 means 10000; negative disables the cache.
	CacheSize int
	// Introspection, when set, also asks frontdesk whether each token is
	// still active (RFC 7662), so a revocation, logout, deactivation or
	// password change takes effect in this app within
	// Introspection.CacheTTL instead of at the token's exp. It costs one
	// HTTP round trip to frontdesk per token per CacheTTL. nil (the
	// default) verifies offline only.
	Introspection *Introspection
}

// Claims are the verified claims of an access token.
type Claims struct {
	Issuer      string
	Subject     string
	Audience    []string
	Expiry      time.Time
	IssuedAt    time.Time
	ID          string
	ClientID    string
	Scopes      []string
	Practice    string
	PracticeID  string
	Roles       []string
	Permissions []string
	AMR         []string
	AuthTime    time.Time
	SessionID   string
	// ElevatedUntil is set while the member holds emergency (break-glass)
	// access: Permissions then include the elevated ones, and the token
	// expires no later than this. Apps may show or log it; zero otherwise.
	ElevatedUntil time.Time
}

// Allowed reports whether the token's permissions imply permission.
func (c *Claims) Allowed(permission string) bool { return Allows(c.Permissions, permission) }

// HasRole reports whether the token carries the role key.
func (c *Claims) HasRole(role string) bool { return slices.Contains(c.Roles, role) }

func (c *Claims) clone() *Claims {
	cp := *c
	cp.Audience, cp.Scopes, cp.Roles = slices.Clone(c.Audience), slices.Clone(c.Scopes), slices.Clone(c.Roles)
	cp.Permissions, cp.AMR = slices.Clone(c.Permissions), slices.Clone(c.AMR)
	return &cp
}

// Verifier verifies access tokens. It is safe for concurrent use.
type Verifier struct {
	cfg Config

	mu        sync.RWMutex
	keys      jose.JSONWebKeySet
	fetchedAt time.Time
	fetchMu   sync.Mutex

	cacheMu sync.RWMutex
	cache   map[string]*Claims

	// parser is golang-jwt's, configured once in New: algorithms, issuer,
	// audience, leeway, clock, exp required, iat checked, strict base64.
	// Its ParseWithClaims only reads it, so it is shared by all calls.
	parser *jwt.Parser

	live *liveness // nil unless Config.Introspection is set
}

// New builds a Verifier. Keys are fetched on first use.
func New(cfg Config) (*Verifier, error) {
	cfg.Issuer = strings.TrimSuffix(cfg.Issuer, "/")
	if cfg.Issuer == "" || cfg.Audience == "" {
		return nil, errors.New("enforce: Issuer and Audience are required")
	}
	if cfg.JWKSURL == "" {
		cfg.JWKSURL = cfg.Issuer + "/oauth2/keys"
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Leeway == 0 {
		cfg.Leeway = 30 * time.Second
	}
	if cfg.RefreshInterval == 0 {
		cfg.RefreshInterval = time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.CacheSize == 0 {
		cfg.CacheSize = 10000
	}
	v := &Verifier{cfg: cfg, cache: map[string]*Claims{}}
	v.parser = jwt.NewParser(jwt.WithValidMethods(algorithms()), jwt.WithIssuer(cfg.Issuer),
		jwt.WithAudience(cfg.Audience), jwt.WithLeeway(cfg.Leeway), jwt.WithTimeFunc(cfg.Now),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithStrictDecoding())
	if cfg.Introspection != nil {
		var err error
		if v.live, err = newLiveness(cfg); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// tokenClaims is an access token's payload as enforce reads it: the
// registered claims and frontdesk's private ones, decoded in one pass by
// encoding/json, which is what golang-jwt's ParseWithClaims uses (go-jose's
// JSON package, which its jwt.Claims needs, took a quarter of a first-sight
// RS256 verification). golang-jwt decodes it before it checks the signature,
// but enforce reads it only after the signature checked out, so what it
// reads is what frontdesk wrote: frontdesk's typed claim structs never repeat
// a key or vary its case, and the looser matching of encoding/json
// (case-insensitive keys, the last of repeated keys) accepts nothing
// frontdesk did not sign. Dates are NumericDates (seconds, a float allowed;
// the fraction is dropped, as go-jose's jwt.NumericDate did).
type tokenClaims struct {
	Issuer      string   `json:"iss"`
	Subject     string   `json:"sub"`
	Audience    audience `json:"aud"`
	Expiry      *float64 `json:"exp"`
	NotBefore   *float64 `json:"nbf"`
	IssuedAt    *float64 `json:"iat"`
	ID          string   `json:"jti"`
	ClientID    string   `json:"client_id"`
	Scope       string   `json:"scope"`
	Practice    string   `json:"practice"`
	PracticeID  string   `json:"practice_id"`
	Roles       []string `json:"roles"`
	Permissions []string `json:"permissions"`
	AMR         []string `json:"amr"`
	AuthTime    *float64 `json:"auth_time"`
	SID         string   `json:"sid"`
	Elevated    *float64 `json:"elevated_until"`
}

// audience is the aud claim: one string or an array of strings (RFC 7519
// section 4.1.3), as jwt.Audience reads it.
type audience []string

// UnmarshalJSON reads a string or an array of strings.
func (a *audience) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var one string
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*a = audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*a = many
	return nil
}

// numericDate converts a decoded date claim to whole seconds; nil stays
// nil. (Not jwt.NewNumericDate, which rounds to golang-jwt's package-level
// TimePrecision, a variable an app could change.)
func numericDate(f *float64) *jwt.NumericDate {
	if f == nil {
		return nil
	}
	return &jwt.NumericDate{Time: time.Unix(int64(*f), 0)}
}

// The jwt.Claims methods, which golang-jwt's validator reads.

// GetExpirationTime returns exp.
func (tc *tokenClaims) GetExpirationTime() (*jwt.NumericDate, error) {
	return numericDate(tc.Expiry), nil
}

// GetIssuedAt returns iat.
func (tc *tokenClaims) GetIssuedAt() (*jwt.NumericDate, error) { return numericDate(tc.IssuedAt), nil }

// GetNotBefore returns nbf.
func (tc *tokenClaims) GetNotBefore() (*jwt.NumericDate, error) {
	return numericDate(tc.NotBefore), nil
}

// GetIssuer returns iss.
func (tc *tokenClaims) GetIssuer() (string, error) { return tc.Issuer, nil }

// GetSubject returns sub.
func (tc *tokenClaims) GetSubject() (string, error) { return tc.Subject, nil }

// GetAudience returns aud.
func (tc *tokenClaims) GetAudience() (jwt.ClaimStrings, error) {
	return jwt.ClaimStrings(tc.Audience), nil
}

// unixTime is a decoded date claim as a time (zero when absent).
func unixTime(f *float64) time.Time {
	if f == nil {
		return time.Time{}
	}
	return time.Unix(int64(*f), 0)
}

// Verify checks an access token and returns its claims. The caller may
// modify the returned Claims. With Config.Introspection it also checks that
// frontdesk still reports the token active (ErrTokenRevoked if not,
// ErrLivenessUnavailable if frontdesk cannot be asked).
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	c, err := v.verifyOffline(ctx, token)
	if err != nil || v.live == nil {
		return c, err
	}
	if err := v.live.check(ctx, token, c); err != nil {
		return nil, err
	}
	return c, nil
}

// verifyOffline is Verify without the liveness check: signature, type,
// issuer, audience, expiry and practice, remembered per token.
func (v *Verifier) verifyOffline(ctx context.Context, token string) (*Claims, error) {
	if v.cfg.CacheSize > 0 {
		v.cacheMu.RLock()
		c, ok := v.cache[token]
		v.cacheMu.RUnlock()
		if ok {
			if !v.cfg.Now().Before(c.Expiry.Add(v.cfg.Leeway)) {
				return nil, fmt.Errorf("%w: token is expired", ErrInvalidToken)
			}
			return c.clone(), nil
		}
	}
	c, err := v.verify(ctx, token)
	if err != nil || v.cfg.CacheSize <= 0 {
		return c, err
	}
	v.cacheMu.Lock()
	if len(v.cache) >= v.cfg.CacheSize {
		now := v.cfg.Now()
		for k, old := range v.cache { // drop expired entries, or all if none expired
			if !now.Before(old.Expiry.Add(v.cfg.Leeway)) {
				delete(v.cache, k)
			}
		}
		if len(v.cache) >= v.cfg.CacheSize {
			clear(v.cache)
		}
	}
	v.cache[token] = c.clone()
	v.cacheMu.Unlock()
	return c, nil
}

func (v *Verifier) verify(ctx context.Context, token string) (*Claims, error) {
	// golang-jwt parses the compact serialization only (exactly three
	// segments, strict base64), refuses an alg other than ES256 and RS256,
	// asks keyFor for the key, checks the signature and then exp (required),
	// nbf, iat, issuer and audience.
	var tc tokenClaims
	var keyErr error
	_, err := v.parser.ParseWithClaims(token, &tc, func(t *jwt.Token) (any, error) {
		k, err := v.keyFor(ctx, t)
		keyErr = err
		return k, err
	})
	if keyErr != nil {
		return nil, keyErr // ErrInvalidToken or ErrKeysUnavailable, as keyFor said
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	if v.cfg.Practice != "" && tc.Practice != v.cfg.Practice {
		return nil, fmt.Errorf("%w: token is for another practice", ErrInvalidToken)
	}
	c := &Claims{Issuer: tc.Issuer, Subject: tc.Subject, Audience: tc.Audience, Expiry: unixTime(tc.Expiry),
		ID: tc.ID, ClientID: tc.ClientID, Scopes: strings.Fields(tc.Scope), Practice: tc.Practice,
		PracticeID: tc.PracticeID, Roles: tc.Roles, Permissions: tc.Permissions, AMR: tc.AMR, SessionID: tc.SID,
		IssuedAt: unixTime(tc.IssuedAt), AuthTime: unixTime(tc.AuthTime), ElevatedUntil: unixTime(tc.Elevated)}
	return c, nil
}

// keyFor checks the header golang-jwt parsed (its alg already one of
// algorithms) and returns the public key to check the signature with. It
// refuses a crit header, since enforce understands no JWS extension (RFC
// 7515 section 4.1.11), and b64, the unencoded payload of RFC 7797 that
// golang-jwt does not implement; then a typ other than at+jwt, before any
// key is looked up, so an ID token never causes a JWKS refetch. golang-jwt
// decodes the header into a map with encoding/json: keys are matched
// exactly ("TYP" is not typ), and a repeated key keeps its last value where
// go-jose refused it — the header is signed, and frontdesk never repeats
// one, so that accepts nothing frontdesk did not sign.
func (v *Verifier) keyFor(ctx context.Context, t *jwt.Token) (any, error) {
	// golang-jwt finds the method for alg in a registry every package in
	// the process can write to (jwt.RegisterSigningMethod). Only its own
	// ES256 and RS256 check signatures here: a method registered under
	// either name by anything else in the app is refused, not trusted.
	if t.Method != jwt.SigningMethodES256 && t.Method != jwt.SigningMethodRS256 {
		return nil, fmt.Errorf("%w: alg %q is not golang-jwt's own implementation", ErrInvalidToken, t.Method.Alg())
	}
	for _, name := range []string{"crit", "b64"} {
		if _, ok := t.Header[name]; ok {
			return nil, fmt.Errorf("%w: header %q is not supported", ErrInvalidToken, name)
		}
	}
	typ, _ := t.Header["typ"].(string)
	if !strings.EqualFold(typ, AccessTokenType) && !strings.EqualFold(typ, "application/"+AccessTokenType) {
		return nil, fmt.Errorf("%w: typ %q is not an access token", ErrInvalidToken, typ)
	}
	kid, ok := t.Header["kid"].(string)
	if _, present := t.Header["kid"]; present && !ok {
		return nil, fmt.Errorf("%w: kid is not a string", ErrInvalidToken)
	}
	key, err := v.key(ctx, kid, t.Method.Alg())
	if err != nil {
		return nil, err
	}
	return key.Key, nil
}

// key finds the published key kid, refetching the JWKS when it is unknown
// (rate-limited). The key's own algorithm must match the token's.
func (v *Verifier) key(ctx context.Context, kid, alg string) (*jose.JSONWebKey, error) {
	find := func() *jose.JSONWebKey {
		v.mu.RLock()
		defer v.mu.RUnlock()
		for i := range v.keys.Keys { // as JSONWebKeySet.Key, without copying
			k := &v.keys.Keys[i]
			if k.KeyID == kid && k.IsPublic() && k.Use != "enc" && (k.Algorithm == "" || k.Algorithm == alg) {
				return k // the set is replaced, never modified, on refetch
			}
		}
		return nil
	}
	if k := find(); k != nil {
		return k, nil
	}
	v.fetchMu.Lock()
	defer v.fetchMu.Unlock()
	if k := find(); k != nil { // another goroutine fetched meanwhile
		return k, nil
	}
	v.mu.RLock()
	recent := !v.fetchedAt.IsZero() && v.cfg.Now().Sub(v.fetchedAt) < v.cfg.RefreshInterval
	v.mu.RUnlock()
	if recent {
		return nil, fmt.Errorf("%w: unknown key %q", ErrInvalidToken, kid)
	}
	if err := v.fetch(ctx); err != nil {
		return nil, err
	}
	if k := find(); k != nil {
		return k, nil
	}
	return nil, fmt.Errorf("%w: unknown key %q", ErrInvalidToken, kid)
}

func (v *Verifier) fetch(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.cfg.JWKSURL, nil)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
	}
	resp, err := v.cfg.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: JWKS answered %d", ErrKeysUnavailable, resp.StatusCode)
	}
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set); err != nil {
		return fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
	}
	v.mu.Lock()
	v.keys, v.fetchedAt = set, v.cfg.Now()
	v.mu.Unlock()
	return nil
}

type ctxKey struct{}

// FromContext returns the claims Middleware stored.
func FromContext(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(ctxKey{}).(*Claims)
	return c, ok
}

// Middleware requires a valid Bearer access token, answering 401 otherwise,
// and passes its claims in the request context (FromContext).
func (v *Verifier) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		scheme, token, ok := strings.Cut(auth, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
			w.Header().Set("WWW-Authenticate", `Bearer`)
			http.Error(w, "an access token is required", http.StatusUnauthorized)
			return
		}
		c, err := v.Verify(r.Context(), strings.TrimSpace(token))
		if errors.Is(err, ErrKeysUnavailable) || errors.Is(err, ErrLivenessUnavailable) {
			http.Error(w, "the access token cannot be checked right now; try again", http.StatusServiceUnavailable)
			return
		}
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			http.Error(w, "the access token is not valid", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, c)))
	})
}

// Require answers 403 unless the request's claims (set by Middleware) allow
// permission.
func Require(permission string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := FromContext(r.Context())
		if !ok {
			http.Error(w, "an access token is required", http.StatusUnauthorized)
			return
		}
		if !c.Allowed(permission) {
			w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope"`)
			http.Error(w, "your role does not allow this", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}
