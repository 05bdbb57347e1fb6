// Package sso lets a practice's members log in through the practice's own
// upstream OpenID providers (Google Workspace, Microsoft Entra ID or any
// OpenID Connect provider): single sign-on. It is a domain service: it does
// not import net/http's server side. The protocol work is
// golang.org/x/oauth2 (authorization code with PKCE S256) and
// github.com/coreos/go-oidc/v3 (discovery, ID-token signature, issuer,
// audience and expiry checks).
//
// Linking rules (see docs/security.md):
//   - an upstream identity is resolved to a member only by its (issuer,
//     subject) link in sso_identities — never by its email;
//   - a link is made only (a) by accepting an invitation through SSO — the
//     upstream email must be verified and equal the invitation's email, or
//     be in the provider's allowed domains — in the same transaction that
//     consumes the invitation, (b) by the signed-in member from their account
//     page after a recent login, or (c) by an administrator approving a join
//     request (optional, off by default, only from the allowed domains);
//   - when a provider has allowed domains, every use (login, link, invitation,
//     join) needs a verified upstream email in one of them;
//   - a login through SSO records amr ["fed"] and honours the practice's
//     lockout policy like a passkey login.
//
// A begun flow (state, nonce, PKCE verifier) is stored server-side under the
// hash of its state, bound to the browser by the hash of a cookie value,
// single use and short-lived. Provider client secrets are stored encrypted
// with AES-256-GCM under a key derived (HKDF-SHA256) from the master key that
// also protects the token-signing keys.
package sso

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	gooidc "github.com/coreos/go-oidc/v3/oidc"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/onboarding"
	"github.com/frontdeskhq/frontdesk/identity/outbound"
	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// Provider kinds (presets).
const (
	// KindGoogle is Google Workspace (issuer https://accounts.google.com).
	KindGoogle = "google"
	// KindEntra is Microsoft Entra ID, single tenant
	// (issuer https://login.microsoftonline.com/{tenant}/v2.0).
	KindEntra = "entra"
	// KindGeneric is any OpenID Connect provider given by its issuer.
	KindGeneric = "generic"
)

// Errors; callers turn them into messages for people. None says whether an
// account exists.
var (
	// ErrInvalid: a provider setting is unusable; see the wrapped InvalidError.
	ErrInvalid = errors.New("sso: invalid provider settings")
	// ErrProviderNotFound: the practice has no such provider.
	ErrProviderNotFound = errors.New("sso: no such provider")
	// ErrProviderExists: the practice already has a provider with that issuer and client ID.
	ErrProviderExists = errors.New("sso: a provider with this issuer and client ID already exists")
	// ErrFlowInvalid: the state is unknown, expired, already used, or was
	// begun in another browser or for another practice. Start again.
	ErrFlowInvalid = errors.New("sso: this sign-in expired or was already used; start again")
	// ErrUpstream: the upstream provider could not be reached or refused the
	// code, or its ID token did not verify (issuer, audience, expiry,
	// signature, nonce).
	ErrUpstream = errors.New("sso: the upstream sign-in could not be verified")
	// ErrCancelled: the upstream provider returned an error (the person
	// cancelled or was refused there).
	ErrCancelled = errors.New("sso: the sign-in was cancelled or refused at the provider")
	// ErrNotLinked: the upstream identity is not linked to any member here.
	ErrNotLinked = errors.New("sso: this account is not linked to a member of the practice")
	// ErrDomainNotAllowed: the upstream email is unverified or not in the
	// provider's allowed domains.
	ErrDomainNotAllowed = errors.New("sso: this account's email domain is not allowed here")
	// ErrEmailMismatch: accepting an invitation with an upstream email that
	// is neither the invitation's email nor in an allowed domain.
	ErrEmailMismatch = errors.New("sso: this account's email does not match the invitation")
	// ErrAlreadyLinked: the upstream identity is already linked to a member
	// of the practice.
	ErrAlreadyLinked = errors.New("sso: this account is already linked to a member")
	// ErrJoinNotFound: no such pending join request.
	ErrJoinNotFound = errors.New("sso: no such pending join request")
)

// InvalidError names the setting that is unusable and why.
type InvalidError struct {
	Field  string
	Reason string
}

func (e *InvalidError) Error() string { return e.Field + ": " + e.Reason }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

// Config tunes the service.
type Config struct {
	// PublicURL is frontdesk's external base URL; the redirect URI
	// registered at the upstream is PublicURL + /p/{practice}/sso/callback.
	PublicURL string
	// Timeout bounds every call to an upstream provider; 0 means 10s.
	Timeout time.Duration
	// FlowTTL is how long a begun sign-in may be finished; 0 means 10m.
	FlowTTL time.Duration
	// ReauthWindow is how recent a login must be to link an upstream
	// account from the account page; 0 means 10m.
	ReauthWindow time.Duration
	// DiscoveryTTL is how long a provider's discovery document (and its key
	// set) is reused; 0 means 1h.
	DiscoveryTTL time.Duration
}

// Deps are the service's collaborators.
type Deps struct {
	Store    *store.Store
	Accounts *account.Service
	// Onboarding checks and redeems invitations accepted through single
	// sign-on.
	Onboarding *onboarding.Service
	Logger     *slog.Logger
	Now        func() time.Time
	NewID      func() string
	Random     io.Reader // crypto/rand.Reader in production
	// MasterKey (32 bytes) derives the client-secret encryption key.
	MasterKey []byte
	// Outbound guards every call to an upstream provider — discovery and
	// the token, key set and userinfo endpoints discovery names — and the
	// check of a generic issuer when it is added: only public addresses
	// and the operator's outbound.allowed_ranges are reached. nil means
	// public addresses only.
	Outbound *outbound.Guard
	// TLS is the TLS configuration of upstream calls (extra roots from
	// sso.ca_file); nil means the system roots.
	TLS *tls.Config
	// Resolver resolves a generic issuer's host when it is added; nil
	// means net.DefaultResolver.
	Resolver outbound.Resolver
	// Permissions answers administrators' permission checks; nil lets only
	// the operator manage providers.
	Permissions account.Permissions
	// RoleKeys lists the role keys of a practice's model (join requests'
	// default role must be one); nil accepts none.
	RoleKeys func(ctx context.Context, practiceID string) ([]string, error)
}

// Service configures providers and runs sign-ins. It is safe for concurrent
// use.
type Service struct {
	d    Deps
	cfg  Config
	aead cipher.AEAD
	// http calls the upstream providers through d.Outbound: bounded by
	// cfg.Timeout, no proxy, redirects not followed.
	http *http.Client

	mu       sync.Mutex
	upstream map[string]cachedUpstream // by issuer
}

type cachedUpstream struct {
	p       *gooidc.Provider
	fetched time.Time
}

// New returns a Service.
func New(d Deps, cfg Config) (*Service, error) {
	if d.Store == nil || d.Accounts == nil || d.Onboarding == nil || d.Logger == nil || d.Now == nil || d.NewID == nil || d.Random == nil {
		return nil, errors.New("sso: Store, Accounts, Onboarding, Logger, Now, NewID and Random are required")
	}
	if len(d.MasterKey) != 32 {
		return nil, fmt.Errorf("sso: master key must be 32 bytes, got %d", len(d.MasterKey))
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.FlowTTL <= 0 {
		cfg.FlowTTL = 10 * time.Minute
	}
	if cfg.ReauthWindow <= 0 {
		cfg.ReauthWindow = 10 * time.Minute
	}
	if cfg.DiscoveryTTL <= 0 {
		cfg.DiscoveryTTL = time.Hour
	}
	if u, err := url.Parse(cfg.PublicURL); err != nil || u.Host == "" {
		return nil, fmt.Errorf("sso: public URL %q is not absolute", cfg.PublicURL)
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	if d.Resolver == nil {
		d.Resolver = net.DefaultResolver
	}
	key, err := hkdf.Key(sha256.New, d.MasterKey, nil, "frontdesk sso client-secret encryption", 32)
	if err != nil {
		return nil, fmt.Errorf("sso: derive key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("sso: cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("sso: cipher: %w", err)
	}
	// Upstream token and discovery endpoints are called directly; a
	// redirect there is not followed (and would be checked if it were).
	hc := d.Outbound.Client(outbound.ClientOptions{Timeout: cfg.Timeout, TLS: d.TLS})
	return &Service{d: d, cfg: cfg, aead: aead, http: hc, upstream: map[string]cachedUpstream{}}, nil
}

// CallbackURL is the redirect URI to register at the upstream provider for
// a practice.
func (s *Service) CallbackURL(practiceSlug string) string {
	return s.cfg.PublicURL + "/p/" + practiceSlug + "/sso/callback"
}

// seal encrypts a client secret, bound to its provider and practice.
func (s *Service) seal(p store.SSOProvider, secret string) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := io.ReadFull(s.d.Random, nonce); err != nil {
		return nil, fmt.Errorf("sso: nonce: %w", err)
	}
	return s.aead.Seal(nonce, nonce, []byte(secret), []byte(p.PracticeID+"|"+p.ID)), nil
}

// open decrypts a provider's client secret.
func (s *Service) open(p store.SSOProvider) (string, error) {
	ns := s.aead.NonceSize()
	if len(p.ClientSecretEnc) < ns {
		return "", fmt.Errorf("sso: provider %s: client secret is damaged", p.ID)
	}
	pt, err := s.aead.Open(nil, p.ClientSecretEnc[:ns], p.ClientSecretEnc[ns:], []byte(p.PracticeID+"|"+p.ID))
	if err != nil {
		return "", fmt.Errorf("sso: provider %s: client secret cannot be decrypted: is the master key the one it was stored with? %w", p.ID, err)
	}
	return string(pt), nil
}

// NewProvider is a provider to add.
type NewProvider struct {
	// Kind is google, entra or generic.
	Kind string
	// DisplayName is shown on the login page ("Sign in with ..."); default
	// by kind.
	DisplayName string
	// Issuer is required for generic; for google it must be empty or the
	// Google issuer; for entra it is built from Tenant when empty.
	Issuer string
	// Tenant is the Entra directory (tenant) ID, a GUID.
	Tenant       string
	ClientID     string
	ClientSecret string
	// AllowedDomains are the practice's verified email domains for this
	// provider.
	AllowedDomains []string
	// JoinEnabled lets people from AllowedDomains ask to join with JoinRole,
	// pending approval. Off by default.
	JoinEnabled bool
	JoinRole    string
}

// Provider is a provider as administrators see it. It never carries the
// client secret.
type Provider struct {
	ID             string    `json:"id"`
	Kind           string    `json:"kind"`
	DisplayName    string    `json:"display_name"`
	Issuer         string    `json:"issuer"`
	ClientID       string    `json:"client_id"`
	AllowedDomains []string  `json:"allowed_domains"`
	JoinEnabled    bool      `json:"join_enabled"`
	JoinRole       string    `json:"join_role,omitempty"`
	RedirectURI    string    `json:"redirect_uri"`
	CreatedAt      time.Time `json:"created_at"`
}

func (s *Service) view(slug string, p store.SSOProvider) Provider {
	d := p.AllowedDomains
	if d == nil {
		d = []string{}
	}
	return Provider{ID: p.ID, Kind: p.Kind, DisplayName: p.DisplayName, Issuer: p.Issuer, ClientID: p.ClientID,
		AllowedDomains: d, JoinEnabled: p.JoinEnabled, JoinRole: p.JoinRole, RedirectURI: s.CallbackURL(slug),
		CreatedAt: p.CreatedAt}
}

// Google's issuer.
const googleIssuer = "https://accounts.google.com"

func cleanText(field, v string, maxLen int, required bool) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" && required {
		return "", &InvalidError{Field: field, Reason: "is required"}
	}
	if len(v) > maxLen || !utf8.ValidString(v) || strings.IndexFunc(v, unicode.IsControl) >= 0 {
		return "", &InvalidError{Field: field, Reason: fmt.Sprintf("must be at most %d characters without control characters", maxLen)}
	}
	return v, nil
}

// normaliseDomain checks one email domain (example.org) and lower-cases it.
func normaliseDomain(d string) (string, error) {
	d = strings.ToLower(strings.TrimSpace(d))
	if d == "" || len(d) > 253 || strings.HasPrefix(d, ".") || strings.HasSuffix(d, ".") || !strings.Contains(d, ".") {
		return "", &InvalidError{Field: "allowed_domains", Reason: fmt.Sprintf("%q is not a domain such as clinic.example", truncate(d, 64))}
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return "", &InvalidError{Field: "allowed_domains", Reason: fmt.Sprintf("%q is not a domain such as clinic.example", truncate(d, 64))}
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return "", &InvalidError{Field: "allowed_domains", Reason: fmt.Sprintf("%q is not a domain such as clinic.example (use the punycode form)", truncate(d, 64))}
			}
		}
	}
	return d, nil
}

func truncate(v string, n int) string {
	if len(v) <= n {
		return v
	}
	return v[:n]
}

// isGUID reports whether v looks like an Entra tenant ID.
func isGUID(v string) bool {
	if len(v) != 36 {
		return false
	}
	for i, c := range v {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// validate turns in into a provider row (without ID and secret).
func (s *Service) validate(ctx context.Context, practiceID string, in NewProvider) (store.SSOProvider, error) {
	p := store.SSOProvider{PracticeID: practiceID, Kind: strings.ToLower(strings.TrimSpace(in.Kind))}
	var err error
	switch p.Kind {
	case KindGoogle:
		if in.Issuer != "" && in.Issuer != googleIssuer {
			return p, &InvalidError{Field: "issuer", Reason: "must be empty for google (it is " + googleIssuer + ")"}
		}
		p.Issuer = googleIssuer
	case KindEntra:
		tenant := strings.TrimSpace(in.Tenant)
		switch {
		case in.Issuer != "" && tenant == "":
			p.Issuer = strings.TrimSpace(in.Issuer)
			if !strings.HasPrefix(p.Issuer, "https://login.microsoftonline.com/") || !strings.HasSuffix(p.Issuer, "/v2.0") {
				return p, &InvalidError{Field: "issuer", Reason: "must be https://login.microsoftonline.com/{tenant}/v2.0"}
			}
			tenant = strings.TrimSuffix(strings.TrimPrefix(p.Issuer, "https://login.microsoftonline.com/"), "/v2.0")
		case in.Issuer == "":
			p.Issuer = "https://login.microsoftonline.com/" + tenant + "/v2.0"
		default:
			return p, &InvalidError{Field: "tenant", Reason: "give either the tenant or the issuer, not both"}
		}
		// A tenant-specific issuer is required: "common" or "organizations"
		// would accept every Microsoft account in the world.
		if !isGUID(tenant) {
			return p, &InvalidError{Field: "tenant", Reason: "must be your directory (tenant) ID, a GUID shown in the Entra admin center"}
		}
	case KindGeneric:
		p.Issuer = strings.TrimSpace(in.Issuer)
		u, err := url.Parse(p.Issuer)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil || len(p.Issuer) > 512 {
			return p, &InvalidError{Field: "issuer", Reason: "must be the provider's https issuer URL, for example https://idp.example.org"}
		}
		if err := s.checkIssuerHost(ctx, u.Hostname()); err != nil {
			return p, err
		}
	default:
		return p, &InvalidError{Field: "kind", Reason: "must be google, entra or generic"}
	}
	defaultName := map[string]string{KindGoogle: "Google", KindEntra: "Microsoft", KindGeneric: ""}[p.Kind]
	if strings.TrimSpace(in.DisplayName) == "" {
		in.DisplayName = defaultName
	}
	if p.DisplayName, err = cleanText("display_name", in.DisplayName, 64, true); err != nil {
		return p, err
	}
	if p.ClientID, err = cleanText("client_id", in.ClientID, 256, true); err != nil {
		return p, err
	}
	if in.ClientSecret == "" || len(in.ClientSecret) > 1024 {
		return p, &InvalidError{Field: "client_secret", Reason: "is required (at most 1024 characters): the secret the provider issued for this client"}
	}
	if len(in.AllowedDomains) > 50 {
		return p, &InvalidError{Field: "allowed_domains", Reason: "at most 50 domains"}
	}
	for _, d := range in.AllowedDomains {
		nd, err := normaliseDomain(d)
		if err != nil {
			return p, err
		}
		if !slices.Contains(p.AllowedDomains, nd) {
			p.AllowedDomains = append(p.AllowedDomains, nd)
		}
	}
	slices.Sort(p.AllowedDomains)
	if in.JoinEnabled {
		if len(p.AllowedDomains) == 0 {
			return p, &InvalidError{Field: "join_enabled", Reason: "needs allowed_domains: only people from the practice's verified domains may ask to join"}
		}
		role := strings.TrimSpace(in.JoinRole)
		var keys []string
		if s.d.RoleKeys != nil {
			if keys, err = s.d.RoleKeys(ctx, practiceID); err != nil {
				return p, fmt.Errorf("sso: role model: %w", err)
			}
		}
		if !slices.Contains(keys, role) {
			return p, &InvalidError{Field: "join_role", Reason: fmt.Sprintf("must be a role of this practice (%s)", strings.Join(keys, ", "))}
		}
		p.JoinEnabled, p.JoinRole = true, role
	} else if in.JoinRole != "" {
		return p, &InvalidError{Field: "join_role", Reason: "is only used with join_enabled"}
	}
	return p, nil
}

// checkIssuerHost refuses up front a generic issuer frontdesk will not
// connect to: a literal address that is not public, or a name that resolves
// only to such addresses (unless the operator allowed their range). A name
// that does not resolve now is accepted; every connection is checked again
// when it is made.
func (s *Service) checkIssuerHost(ctx context.Context, host string) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	if err := s.d.Outbound.CheckHost(ctx, s.d.Resolver, host); err != nil {
		return &InvalidError{Field: "issuer", Reason: "is on a private, loopback or link-local address, which frontdesk " +
			"does not connect to on a practice's behalf. Use the provider's public issuer URL; if the provider runs " +
			"on your own network, ask the operator to allow its address range (outbound.allowed_ranges in the " +
			"configuration file)"}
	}
	return nil
}

// authorize checks that actor may act on practice p with perm.
func (s *Service) authorize(ctx context.Context, p store.Practice, a account.Actor, perm string) error {
	if a.Operator {
		return nil
	}
	if s.d.Permissions == nil {
		return account.ErrForbidden
	}
	m, err := s.d.Store.MemberByID(ctx, p.ID, a.MemberID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && m.Status != store.StatusActive) {
		return account.ErrForbidden
	}
	if err != nil {
		return fmt.Errorf("sso: actor: %w", err)
	}
	ok, err := s.d.Permissions.Allowed(ctx, p.ID, m.ID, perm)
	if err != nil {
		return fmt.Errorf("sso: permission: %w", err)
	}
	if !ok {
		return account.ErrForbidden.Withf("this needs the %s permission", perm)
	}
	return nil
}

func actorID(a account.Actor) string {
	if a.Operator {
		return account.OperatorActorID
	}
	return a.MemberID
}

// AddProvider validates and stores a provider for the practice; the client
// secret is stored encrypted and never returned. The actor needs
// settings.edit, and with join on, must be allowed to give the join role
// (account.Service.MayGrantRoles: nobody grants a permission they do not
// hold). The issuer is not contacted: a wrong issuer shows on the
// first sign-in (and in the log).
func (s *Service) AddProvider(ctx context.Context, practiceSlug string, a account.Actor, in NewProvider, meta account.Meta) (Provider, error) {
	pr, err := s.d.Accounts.Practice(ctx, practiceSlug)
	if err != nil {
		return Provider{}, err
	}
	if err := s.authorize(ctx, pr, a, roles.PermEditSettings); err != nil {
		s.d.Accounts.AuditBestEffort(ctx, store.AuditEvent{PracticeID: pr.ID, Action: "sso.provider.add", Outcome: "failure",
			ActorID: actorID(a), Details: map[string]string{"reason": "forbidden"}}, meta)
		return Provider{}, err
	}
	p, err := s.validate(ctx, pr.ID, in)
	if err != nil {
		return Provider{}, err
	}
	if p.JoinEnabled {
		// Approved joins get this role: offering it is giving it, so the
		// actor must be allowed to give it (as when inviting).
		if err := s.d.Accounts.MayGrantRoles(ctx, pr, a, []string{p.JoinRole}); err != nil {
			s.d.Accounts.AuditBestEffort(ctx, store.AuditEvent{PracticeID: pr.ID, Action: "sso.provider.add", Outcome: "failure",
				ActorID: actorID(a), Details: map[string]string{"reason": "join_role_not_grantable", "join_role": p.JoinRole}}, meta)
			return Provider{}, err
		}
	}
	p.ID, p.CreatedAt = s.d.NewID(), s.d.Now()
	if p.ClientSecretEnc, err = s.seal(p, in.ClientSecret); err != nil {
		return Provider{}, err
	}
	err = s.d.Store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.CreateSSOProvider(ctx, p); err != nil {
			return err
		}
		return s.d.Accounts.Audit(ctx, tx, store.AuditEvent{PracticeID: pr.ID, Action: "sso.provider.add", Outcome: "success",
			ActorID: actorID(a), Details: map[string]string{"provider": p.ID, "kind": p.Kind, "issuer": p.Issuer,
				"client_id": p.ClientID, "allowed_domains": strings.Join(p.AllowedDomains, ","),
				"join_enabled": fmt.Sprint(p.JoinEnabled), "join_role": p.JoinRole}}, meta)
	})
	if errors.Is(err, store.ErrConflict) {
		return Provider{}, ErrProviderExists
	}
	if err != nil {
		return Provider{}, fmt.Errorf("sso: add provider: %w", err)
	}
	return s.view(pr.Slug, p), nil
}

// Providers lists the practice's providers. The actor needs settings.view.
func (s *Service) Providers(ctx context.Context, practiceSlug string, a account.Actor) ([]Provider, error) {
	pr, err := s.d.Accounts.Practice(ctx, practiceSlug)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, pr, a, roles.PermViewSettings); err != nil {
		return nil, err
	}
	list, err := s.d.Store.SSOProviders(ctx, pr.ID)
	if err != nil {
		return nil, fmt.Errorf("sso: providers: %w", err)
	}
	out := make([]Provider, 0, len(list))
	for _, p := range list {
		out = append(out, s.view(pr.Slug, p))
	}
	return out, nil
}

// RemoveProvider deletes a provider with its links, begun flows and join
// requests: nobody can log in through it any more. The actor needs
// settings.edit.
func (s *Service) RemoveProvider(ctx context.Context, practiceSlug string, a account.Actor, id string, meta account.Meta) error {
	pr, err := s.d.Accounts.Practice(ctx, practiceSlug)
	if err != nil {
		return err
	}
	if err := s.authorize(ctx, pr, a, roles.PermEditSettings); err != nil {
		s.d.Accounts.AuditBestEffort(ctx, store.AuditEvent{PracticeID: pr.ID, Action: "sso.provider.remove", Outcome: "failure",
			ActorID: actorID(a), Details: map[string]string{"reason": "forbidden"}}, meta)
		return err
	}
	if len(id) > 64 {
		return ErrProviderNotFound
	}
	err = s.d.Store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.DeleteSSOProvider(ctx, pr.ID, id); err != nil {
			return err
		}
		return s.d.Accounts.Audit(ctx, tx, store.AuditEvent{PracticeID: pr.ID, Action: "sso.provider.remove", Outcome: "success",
			ActorID: actorID(a), Details: map[string]string{"provider": id}}, meta)
	})
	if errors.Is(err, store.ErrNotFound) {
		return ErrProviderNotFound
	}
	if err != nil {
		return fmt.Errorf("sso: remove provider: %w", err)
	}
	return nil
}

// Button is a provider as the login page offers it.
type Button struct {
	ID          string
	DisplayName string
}

// Buttons lists the practice's providers for the login and invitation
// pages. It needs no permission (the names are public on the login page).
func (s *Service) Buttons(ctx context.Context, practiceSlug string) ([]Button, error) {
	pr, err := s.d.Accounts.Practice(ctx, practiceSlug)
	if err != nil {
		return nil, err
	}
	list, err := s.d.Store.SSOProviders(ctx, pr.ID)
	if err != nil {
		return nil, fmt.Errorf("sso: providers: %w", err)
	}
	out := make([]Button, 0, len(list))
	for _, p := range list {
		out = append(out, Button{ID: p.ID, DisplayName: p.DisplayName})
	}
	return out, nil
}
