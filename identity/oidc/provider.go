package oidc

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/config"
	"github.com/frontdeskhq/frontdesk/identity/outbound"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// Effective is what a member may do in a practice, as copied into tokens.
type Effective struct {
	Roles       []string
	Permissions []string
	Supervisors []string
	// Supervisees, CosignNotes and CosignTreatmentPlans are practitioner
	// claims: whom the member supervises, and which supervisors must
	// co-sign their clinical notes and treatment plans.
	Supervisees          []string
	CosignNotes          []string
	CosignTreatmentPlans []string
	// ElevatedUntil is when an active emergency-access elevation ends; zero
	// when none is active. Its permissions are already in Permissions.
	ElevatedUntil time.Time
}

// ClaimsSource computes a member's effective roles and permissions when a
// token is minted. The role model (identity/roles) provides the real one.
type ClaimsSource interface {
	Effective(ctx context.Context, practiceID, memberID string) (Effective, error)
}

// ClaimsFunc adapts a function to ClaimsSource.
type ClaimsFunc func(ctx context.Context, practiceID, memberID string) (Effective, error)

// Effective calls f.
func (f ClaimsFunc) Effective(ctx context.Context, practiceID, memberID string) (Effective, error) {
	return f(ctx, practiceID, memberID)
}

// Accounts is what the provider needs from the account service.
type Accounts interface {
	Practice(ctx context.Context, slug string) (store.Practice, error)
	Authenticate(ctx context.Context, practiceSlug, token string) (account.Principal, error)
	Logout(ctx context.Context, token string, meta account.Meta) error
	// CheckLoginPolicy refuses (account.ErrStrongLoginRequired) a session
	// started with a password alone by a member who must log in with a
	// passkey or single sign-on.
	CheckLoginPolicy(ctx context.Context, pr account.Principal) error
}

// Deps are the provider's collaborators.
type Deps struct {
	Store    *store.Store
	Accounts Accounts
	// Claims computes roles and permissions; nil uses the member's stored
	// role keys with no permissions (until the role model is wired).
	Claims ClaimsSource
	Logger *slog.Logger
	Now    func() time.Time
	Random io.Reader
	NewID  func() string
	// HTTPClient delivers back-channel logout; nil means a client with a
	// 5 s timeout.
	HTTPClient *http.Client
	// Outbound guards back-channel logout to registered apps, whose URIs a
	// practice administrator chose: only public addresses and the
	// operator's outbound.allowed_ranges are reached (identity/outbound).
	// nil means public addresses only. HTTPClient, for the clients of the
	// configuration file (which the operator vouches for), is not guarded.
	Outbound *outbound.Guard
	// Resolver resolves a registered app's back-channel logout host when
	// the app is registered or changed; nil means net.DefaultResolver.
	Resolver outbound.Resolver
}

// Settings configure the provider.
type Settings struct {
	// Issuer is server.public_url: one issuer for every practice.
	Issuer string
	// MasterKey (32 bytes) encrypts the signing keys at rest.
	MasterKey       []byte
	AccessTokenTTL  time.Duration
	IDTokenTTL      time.Duration
	RefreshTokenTTL time.Duration
	CodeTTL         time.Duration
	AuthRequestTTL  time.Duration
	// KeyPublishAhead is how long a rotated-in key is published before it
	// signs (default 10 minutes).
	KeyPublishAhead time.Duration
	Clients         []ClientConfig
	// SessionCookie is the name of the browser-session cookie.
	SessionCookie string
}

// Paths the provider serves (relative to the issuer).
const (
	DiscoveryPath = "/.well-known/openid-configuration"
	// PathPrefix is the prefix of every other provider endpoint.
	PathPrefix   = "/oauth2/"
	authorizeRel = "oauth2/authorize"
	callbackPath = "/oauth2/authorize/callback"
)

// BindingCookie binds an auth request to the browser that started it.
const BindingCookie = "__Host-frontdesk_authreq"

// Errors of the login step; test for them with errors.Is.
var (
	// ErrAuthRequestInvalid: the auth request is unknown, expired, already
	// completed, for another practice, or was started in another browser.
	ErrAuthRequestInvalid = errors.New("oidc: this login request has expired or belongs to another browser")
	// ErrPermissionRequired: the client requires a permission the member lacks.
	ErrPermissionRequired = errors.New("oidc: the app requires a permission the member does not hold")
)

// PermissionError says which app needs which permission.
type PermissionError struct {
	ClientID   string
	Permission string
}

func (e *PermissionError) Error() string {
	return fmt.Sprintf("oidc: app %q requires permission %q", e.ClientID, e.Permission)
}

// Is makes errors.Is(err, ErrPermissionRequired) true.
func (e *PermissionError) Is(target error) bool { return target == ErrPermissionRequired }

// Provider is the OpenID provider. It is an http.Handler for the discovery
// document and everything under /oauth2/, and offers the login pages the
// calls they need to finish an authorization request.
type Provider struct {
	d       Deps
	set     Settings
	issuer  string
	keys    *KeyManager
	clients map[string]*client
	apps    *appCache // registered apps (apps.go)
	// corsOrigins caches the registered public apps' origins (cors.go).
	corsOrigins originSet
	// appHTTP delivers back-channel logout to registered apps: every
	// connection checked by d.Outbound, no redirects followed.
	appHTTP *http.Client
	// longestToken is the longest lifetime of an access or ID token any
	// client, configured or registered, may be issued.
	longestToken time.Duration
	// practices caches practices by ID for grants (grantcache.go).
	practices practiceCache
	store     *storage
	op        *op.Provider
	server    *server
	handler   http.Handler
}

// New builds the provider and makes sure signing keys exist.
func New(ctx context.Context, d Deps, set Settings) (*Provider, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Random == nil {
		d.Random = rand.Reader
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.HTTPClient == nil {
		d.HTTPClient = &http.Client{Timeout: 5 * time.Second}
	}
	if d.Resolver == nil {
		d.Resolver = net.DefaultResolver
	}
	if d.Claims == nil {
		d.Claims = storedRoles{d.Store}
	}
	pub, err := url.Parse(set.Issuer)
	if err != nil || pub.Host == "" {
		return nil, fmt.Errorf("oidc: issuer %q is not an absolute URL", set.Issuer)
	}
	if set.KeyPublishAhead == 0 {
		set.KeyPublishAhead = 10 * time.Minute
	}
	for _, ttl := range []*time.Duration{&set.AccessTokenTTL, &set.IDTokenTTL, &set.RefreshTokenTTL, &set.CodeTTL, &set.AuthRequestTTL} {
		if *ttl <= 0 {
			return nil, errors.New("oidc: every token lifetime must be positive")
		}
	}
	p := &Provider{d: d, set: set, issuer: strings.TrimSuffix(set.Issuer, "/"), clients: map[string]*client{}, apps: &appCache{},
		appHTTP: d.Outbound.Client(outbound.ClientOptions{Timeout: 5 * time.Second})}
	if d.NewID == nil {
		p.d.NewID = p.randomID
	}
	// A registered app may have access tokens of up to
	// config.MaxAccessTokenTTL: keys stay published at least that long.
	longest := max(set.AccessTokenTTL, set.IDTokenTTL, config.MaxAccessTokenTTL)
	for _, c := range set.Clients {
		longest = max(longest, c.AccessTokenTTL)
	}
	p.longestToken = longest
	p.keys, err = NewKeyManager(d.Store, set.MasterKey, p.d.Random, d.Now, p.d.NewID, KeyManagerOptions{
		PublishAhead: set.KeyPublishAhead, RetireAfter: longest + time.Minute, CacheTTL: 30 * time.Second})
	if err != nil {
		return nil, err
	}
	if err := p.keys.EnsureKeys(ctx); err != nil {
		return nil, err
	}
	for _, c := range set.Clients {
		cl, err := newClient(c, set.IDTokenTTL)
		if err != nil {
			return nil, err
		}
		cl.loginURL = func(id string) string { return p.issuer + "/" } // unused: Authorize redirects itself
		p.clients[c.ID] = cl
		if c.PKCEOptional {
			d.Logger.WarnContext(ctx, "client may log in without PKCE (require_pkce: false); it must send a nonce",
				"client", c.ID)
		}
	}
	cryptoKey, err := deriveKey(set.MasterKey, "oidc library crypto")
	if err != nil {
		return nil, err
	}
	cfg := &op.Config{
		CodeMethodS256:                    true,
		AuthMethodPost:                    true,
		GrantTypeRefreshToken:             true,
		DefaultLogoutRedirectURI:          p.issuer + "/",
		BackChannelLogoutSupported:        true,
		BackChannelLogoutSessionSupported: true,
		SupportedScopes:                   defaultScopes,
		SupportedClaims:                   supportedClaims(),
	}
	copy(cfg.CryptoKey[:], cryptoKey)
	p.store = &storage{p: p}
	opts := []op.Option{}
	if pub.Scheme == "http" {
		opts = append(opts, op.WithAllowInsecure())
	}
	p.op, err = op.NewProvider(cfg, p.store, op.StaticIssuer(p.issuer), opts...)
	if err != nil {
		return nil, fmt.Errorf("oidc: provider: %w", err)
	}
	endpoints := op.Endpoints{
		Authorization: op.NewEndpoint(authorizeRel),
		Token:         op.NewEndpoint("oauth2/token"),
		Introspection: op.NewEndpoint("oauth2/introspect"),
		Userinfo:      op.NewEndpoint("oauth2/userinfo"),
		Revocation:    op.NewEndpoint("oauth2/revoke"),
		EndSession:    op.NewEndpoint("oauth2/end_session"),
		JwksURI:       op.NewEndpoint("oauth2/keys"),
	}
	p.server = &server{LegacyServer: op.NewLegacyServer(p.op, endpoints), p: p}
	// The library's CORS handler (every origin, with credentials) is
	// replaced by frontdesk's policy (cors.go).
	p.handler = p.cors(op.RegisterLegacyServer(p.server, p.callback, op.WithServerCORSOptions(nil)))
	return p, nil
}

// ServeHTTP serves the discovery document and the /oauth2/ endpoints.
func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	auth := r.Header.Get("Authorization")
	p.handler.ServeHTTP(answerWriter{w, len(auth) > 6 && strings.EqualFold(auth[:6], "basic ")}, r)
}

// answerWriter adds to the provider library's error answers the headers it
// leaves out: Retry-After to a 503 (serverError: the database cannot be
// reached), and WWW-Authenticate to a 401 answering a client that
// authenticated with HTTP Basic (RFC 6749 section 5.2: a failed
// client_secret_basic at the token or revocation endpoint).
type answerWriter struct {
	http.ResponseWriter
	basic bool // the request carried HTTP Basic credentials
}

func (w answerWriter) WriteHeader(code int) {
	switch {
	case code == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "":
		w.Header().Set("Retry-After", "5")
	case code == http.StatusUnauthorized && w.basic && w.Header().Get("WWW-Authenticate") == "":
		w.Header().Set("WWW-Authenticate", `Basic realm="frontdesk", charset="UTF-8"`)
	}
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w answerWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Issuer returns the issuer identifier.
func (p *Provider) Issuer() string { return p.issuer }

// Keys returns the signing-key manager (for rotation).
func (p *Provider) Keys() *KeyManager { return p.keys }

func (p *Provider) randomToken(n int) string {
	b := make([]byte, n)
	if _, err := io.ReadFull(p.d.Random, b); err != nil {
		panic(fmt.Sprintf("oidc: random source failed: %v", err)) // crypto/rand does not fail
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func (p *Provider) randomID() string { return p.randomToken(16) }

func hashToken(v string) []byte {
	h := sha256.Sum256([]byte(v))
	return h[:]
}

// storedRoles is the fallback ClaimsSource: the member's stored role keys and
// no permissions.
type storedRoles struct{ st *store.Store }

func (s storedRoles) Effective(ctx context.Context, practiceID, memberID string) (Effective, error) {
	m, err := s.st.MemberByID(ctx, practiceID, memberID)
	if err != nil {
		return Effective{}, err
	}
	return Effective{Roles: m.Roles}, nil
}
