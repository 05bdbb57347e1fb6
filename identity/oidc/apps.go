package oidc

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/config"
	"github.com/frontdeskhq/frontdesk/identity/problem"
	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// Apps are OpenID clients that a practice registers itself (admin API,
// console), stored in the database next to the clients of the configuration
// file. The provider finds both: a configured client first, then a registered
// app. A registered app is bound to its practice — it can only send that
// practice's members to log in, and only their tokens are issued to it.
//
// Looking a registered app up costs one indexed read, cached in the process
// for AppCacheTTL (unknown IDs too, so a flood of made-up client IDs does not
// reach the database). A change made through this process takes effect at
// once; other replicas see it within AppCacheTTL. Removal also revokes the
// app's refresh tokens in the database, so no replica can refresh them.

// AppCacheTTL is how long a replica may keep answering with a registered
// app's previous state (secret, redirect URIs, existence) after it changed
// on another replica.
const AppCacheTTL = 5 * time.Second

// appCacheMax bounds the cache; when full it is emptied.
const appCacheMax = 10000

// ErrInvalidApp means an app registration was refused; the message says
// what to fix.
var ErrInvalidApp = problem.New(problem.Invalid, "invalid_request", "oidc: invalid app", "")

// AppClientPrefix starts the client ID of every registered app, so it never
// collides with a configured client's ID.
const AppClientPrefix = "app_"

// Limits of a registration.
const (
	maxAppRedirectURIs = 10
	maxRedirectURILen  = 2000
	maxAppNameRunes    = 100
)

// AppRequest is what registering an app needs.
type AppRequest struct {
	Name         string
	RedirectURIs []string
	// GrantTypes: authorization_code, refresh_token, client_credentials;
	// empty means authorization_code and refresh_token.
	GrantTypes []string
	// Confidential apps get a secret (and may use client_credentials);
	// public apps (a tablet or desktop app) authenticate with PKCE alone.
	Confidential bool
	// RequirePermission, when not "", is a permission of the catalogue a
	// member must hold to log in to the app and to refresh its tokens (as
	// require_permission for a configured client).
	RequirePermission string
	// BackchannelLogoutURI, when not "", receives OpenID back-channel
	// logout tokens (see CheckBackchannelLogoutURI).
	BackchannelLogoutURI string
	// AccessTokenTTL is the lifetime of the access tokens issued to the app,
	// config.MinAccessTokenTTL to config.MaxAccessTokenTTL; 0 means the
	// provider's default.
	AccessTokenTTL time.Duration
	// IDTokenAlg (id_token_signed_response_alg) signs the app's ID and
	// logout tokens: RS256 (default when "") or ES256. AccessTokenAlg signs
	// its access tokens: ES256 (default when "") or RS256.
	IDTokenAlg     string
	AccessTokenAlg string
	// DisplayName is what staff see on their home page ("" shows Name);
	// LaunchURL is the address their home page opens the app at (https, or
	// http on a loopback address; "" keeps the app off the home page).
	DisplayName string
	LaunchURL   string
}

// AppUpdate is a change to a registered app; nil fields stay as they are.
type AppUpdate struct {
	RequirePermission    *string
	BackchannelLogoutURI *string
	AccessTokenTTL       *time.Duration
	IDTokenAlg           *string
	AccessTokenAlg       *string
	DisplayName          *string
	LaunchURL            *string
}

// CheckLaunch checks an app's display name (one line, at most 100
// characters; "" for none) and launch URL ("" for none, else an absolute
// https URL, or http on a loopback address), returning the trimmed name.
func CheckLaunch(displayName, launchURL string) (string, error) {
	name := ""
	if displayName != "" {
		var err error
		if name, err = account.CheckText("display_name", displayName, maxAppNameRunes); err != nil {
			return "", ErrInvalidApp.Withf("%w", err)
		}
	}
	if launchURL != "" {
		if err := checkAppURI("launch URL", launchURL); err != nil {
			return "", err
		}
	}
	return name, nil
}

// CheckSigningAlg checks an app's token algorithm: ES256 or RS256.
func CheckSigningAlg(what, alg string) error {
	if alg != AlgES256 && alg != AlgRS256 {
		return ErrInvalidApp.Withf("%s %q is not offered; use ES256 or RS256", what, truncateURI(alg))
	}
	return nil
}

type appEntry struct {
	cl *client // nil: no such app
	at time.Time
}

// appCache keeps registered apps for AppCacheTTL.
type appCache struct {
	mu      sync.Mutex
	entries map[string]appEntry
}

func (c *appCache) get(id string, now time.Time) (appEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	if !ok || now.Sub(e.at) >= AppCacheTTL || now.Before(e.at) {
		return appEntry{}, false
	}
	return e, true
}

func (c *appCache) put(id string, e appEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= appCacheMax {
		c.entries = make(map[string]appEntry)
	}
	c.entries[id] = e
}

func (c *appCache) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, id)
}

// lookupClient finds a client by ID: a configured one, else a registered
// app. It returns (nil, nil) when there is none.
func (p *Provider) lookupClient(ctx context.Context, id string) (*client, error) {
	if c, ok := p.clients[id]; ok {
		return c, nil
	}
	if !strings.HasPrefix(id, AppClientPrefix) || len(id) > 64 {
		return nil, nil
	}
	now := p.d.Now()
	if e, ok := p.apps.get(id, now); ok {
		return e.cl, nil
	}
	a, err := p.d.Store.AppByClientID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		p.apps.put(id, appEntry{at: now})
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	cl, err := p.appClient(a)
	if err != nil {
		return nil, err
	}
	p.apps.put(id, appEntry{cl: cl, at: now})
	return cl, nil
}

// appClient turns a stored app into a client bound to its practice.
func (p *Provider) appClient(a store.App) (*client, error) {
	cfg := ClientConfig{ID: a.ClientID, RedirectURIs: a.RedirectURIs, GrantTypes: a.GrantTypes, Practice: a.PracticeSlug,
		RequirePermission: a.RequirePermission, BackchannelLogoutURI: a.BackchannelLogoutURI, AccessTokenTTL: a.AccessTokenTTL,
		IDTokenAlg: a.IDTokenAlg, AccessTokenAlg: a.AccessTokenAlg}
	if a.Confidential {
		if len(a.SecretHash) != sha256.Size {
			return nil, fmt.Errorf("oidc: app %q has no usable secret hash", a.ClientID)
		}
		// newClient hashes a configured secret; a stored app has only the
		// hash, swapped in below.
		cfg.Secret = "stored-as-hash"
	}
	cl, err := newClient(cfg, p.set.IDTokenTTL)
	if err != nil {
		return nil, err
	}
	if a.Confidential {
		cl.secretHash = slices.Clone(a.SecretHash)
	}
	cl.practiceID = a.PracticeID
	cl.registered = true
	cl.name = cmp.Or(a.DisplayName, a.Name)
	cl.loginURL = func(string) string { return p.issuer + "/" }
	return cl, nil
}

// CheckRedirectURI checks one redirect URI of an app: an absolute https URL,
// or http on a loopback address (127.0.0.1 or [::1]) for apps on the
// person's own computer; no wildcards, fragments, user information, spaces or
// control characters, and written in the form it will be compared in (the
// provider compares redirect URIs as exact strings).
func CheckRedirectURI(raw string) error {
	return checkAppURI("redirect URI", raw)
}

// CheckBackchannelLogoutURI checks an app's back-channel logout URI by the
// rules of CheckRedirectURI; "" (none) is accepted. The URI passing does not
// make every address reachable: registering an app refuses an address
// outside the public internet and outbound.allowed_ranges
// (Provider.checkBackchannelReachable), and delivery checks again on every
// connection (identity/outbound), so http on a loopback address passes here
// but is accepted for an app only when the operator allows loopback in
// outbound.allowed_ranges. An app on a developer's own computer is better
// configured in the configuration file (clients:), whose URIs the operator
// vouches for and which are not guarded.
func CheckBackchannelLogoutURI(raw string) error {
	if raw == "" {
		return nil
	}
	return checkAppURI("back-channel logout URI", raw)
}

// checkBackchannelReachable refuses, when the app is registered or changed,
// a back-channel logout URI that delivery would refuse anyway: a literal
// address, or a name all of whose addresses are, outside the public
// internet and the operator's outbound.allowed_ranges (the same early check
// as an SSO issuer's, outbound.Guard.CheckHost). A name that does not
// resolve now is accepted; every delivery is checked again when it connects.
func (p *Provider) checkBackchannelReachable(ctx context.Context, raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return ErrInvalidApp.Withf("back-channel logout URI: %w", err)
	}
	if err := p.d.Outbound.CheckHost(ctx, p.d.Resolver, u.Hostname()); err != nil {
		p.d.Logger.InfoContext(ctx, "back-channel logout URI refused", "host", u.Hostname(), "err", err)
		return ErrInvalidApp.Withf("back-channel logout URI %s: its host is not on the public internet (loopback, "+
			"private or link-local), so frontdesk would not deliver to it; use a public address, or ask your operator "+
			"to allow the range (outbound.allowed_ranges)", truncateURI(raw))
	}
	return nil
}

// CheckAccessTokenTTL checks an app's access-token lifetime: 0 (the
// provider's default) or within the bounds of a configured client's.
func CheckAccessTokenTTL(ttl time.Duration) error {
	if ttl != 0 && (ttl < config.MinAccessTokenTTL || ttl > config.MaxAccessTokenTTL || ttl%time.Second != 0) {
		return ErrInvalidApp.Withf("access token lifetime %s must be whole seconds between %s and %s (%d to %d seconds), or 0 for the server's default", ttl, config.MinAccessTokenTTL, config.MaxAccessTokenTTL,
			int(config.MinAccessTokenTTL.Seconds()), int(config.MaxAccessTokenTTL.Seconds()))
	}
	return nil
}

// checkAppURI checks a URI of an app (what names it in the error).
func checkAppURI(what, raw string) error {
	bad := func(why string) error {
		return ErrInvalidApp.Withf("%s %q %s", what, truncateURI(raw), why)
	}
	if raw == "" || len(raw) > maxRedirectURILen {
		return bad(fmt.Sprintf("must be 1 to %d characters", maxRedirectURILen))
	}
	if strings.ContainsFunc(raw, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) || r > unicode.MaxASCII }) {
		return bad("must be plain ASCII without spaces; percent-encode anything else")
	}
	if strings.Contains(raw, "*") {
		return bad("must not contain wildcards; register each URI exactly")
	}
	if strings.Contains(raw, "#") {
		return bad("must not contain a fragment (#)")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.Host == "" {
		return bad("is not an absolute URL")
	}
	if u.User != nil {
		return bad("must not contain user information")
	}
	if u.String() != raw {
		return bad("is not written in canonical form; write it as " + truncateURI(u.String()))
	}
	switch u.Scheme {
	case "https":
	case "http":
		ip := net.ParseIP(u.Hostname())
		if ip == nil || !ip.IsLoopback() {
			return bad("must use https; plain http is allowed only on a loopback address (127.0.0.1 or [::1])")
		}
	default:
		return bad("must use https (or http on a loopback address)")
	}
	return nil
}

func truncateURI(s string) string {
	if len(s) > 80 {
		return strings.ToValidUTF8(s[:80], "") + "…"
	}
	return s
}

// checkAppRequest validates and normalises a registration.
func checkAppRequest(req AppRequest) (AppRequest, error) {
	name, err := account.CheckText("name", req.Name, maxAppNameRunes)
	if err != nil {
		return req, ErrInvalidApp.Withf("%w", err)
	}
	req.Name = name
	if req.DisplayName, err = CheckLaunch(req.DisplayName, req.LaunchURL); err != nil {
		return req, err
	}
	if req.RequirePermission, err = CheckAppPermission(req.RequirePermission); err != nil {
		return req, err
	}
	if err := CheckBackchannelLogoutURI(req.BackchannelLogoutURI); err != nil {
		return req, err
	}
	if err := CheckAccessTokenTTL(req.AccessTokenTTL); err != nil {
		return req, err
	}
	if req.IDTokenAlg == "" {
		req.IDTokenAlg = AlgRS256
	}
	if req.AccessTokenAlg == "" {
		req.AccessTokenAlg = AlgES256
	}
	if err := CheckSigningAlg("id_token_signed_response_alg", req.IDTokenAlg); err != nil {
		return req, err
	}
	if err := CheckSigningAlg("access_token_signing_alg", req.AccessTokenAlg); err != nil {
		return req, err
	}
	if len(req.GrantTypes) == 0 {
		req.GrantTypes = []string{string(oidc.GrantTypeCode), string(oidc.GrantTypeRefreshToken)}
	}
	if len(req.GrantTypes) > len(allowedGrants) {
		return req, ErrInvalidApp.Withf("list each grant type once")
	}
	grants := slices.Clone(req.GrantTypes)
	slices.Sort(grants)
	if len(slices.Compact(slices.Clone(grants))) != len(grants) {
		return req, ErrInvalidApp.Withf("list each grant type once")
	}
	for _, g := range grants {
		if !slices.Contains(allowedGrants, g) {
			return req, ErrInvalidApp.Withf("grant type %q is not offered; use authorization_code, refresh_token or client_credentials", truncateURI(g))
		}
	}
	code := slices.Contains(grants, string(oidc.GrantTypeCode))
	if slices.Contains(grants, string(oidc.GrantTypeRefreshToken)) && !code {
		return req, ErrInvalidApp.Withf("refresh_token needs authorization_code")
	}
	if slices.Contains(grants, string(oidc.GrantTypeClientCredentials)) && !req.Confidential {
		return req, ErrInvalidApp.Withf("client_credentials needs a confidential app (one with a secret)")
	}
	req.GrantTypes = grants
	switch {
	case code && len(req.RedirectURIs) == 0:
		return req, ErrInvalidApp.Withf("an app that logs people in needs at least one redirect URI")
	case !code && len(req.RedirectURIs) > 0:
		return req, ErrInvalidApp.Withf("redirect URIs are only for apps with the authorization_code grant")
	case len(req.RedirectURIs) > maxAppRedirectURIs:
		return req, ErrInvalidApp.Withf("register at most %d redirect URIs", maxAppRedirectURIs)
	}
	for i, u := range req.RedirectURIs {
		if err := CheckRedirectURI(u); err != nil {
			return req, err
		}
		if slices.Contains(req.RedirectURIs[:i], u) {
			return req, ErrInvalidApp.Withf("redirect URI %q is listed twice", truncateURI(u))
		}
	}
	if req.RedirectURIs == nil {
		req.RedirectURIs = []string{}
	}
	return req, nil
}

// CheckAppPermission checks the permission an app is to require: "" (none)
// or any permission of the catalogue that roles.Validate accepts — an
// app.<client>.login (app.*.login included) or another permission, with a
// scope exactly when the catalogue gives it one. Surrounding spaces are
// dropped.
func CheckAppPermission(perm string) (string, error) {
	perm = strings.TrimSpace(perm)
	if perm == "" {
		return "", nil
	}
	if err := roles.Validate(perm); err != nil {
		msg := "it is not valid"
		if p, ok := problem.As(err); ok && p.Reason != "" {
			msg = p.Reason
		}
		return "", ErrInvalidApp.Withf("required permission is not in the permission catalogue: %s", msg)
	}
	return perm, nil
}

// newAppSecret returns a fresh 256-bit secret and its SHA-256 hash.
func (p *Provider) newAppSecret() (string, []byte) {
	secret := p.randomToken(32)
	h := sha256.Sum256([]byte(secret))
	return secret, h[:]
}

// describeApp is an app's audit description (never its secret or hash).
func describeApp(a store.App) string {
	kind := "public"
	if a.Confidential {
		kind = "confidential"
	}
	return fmt.Sprintf("name=%q kind=%s grants=%s redirect_uris=%s require_permission=%s backchannel_logout_uri=%s access_token_ttl=%s id_token_signed_response_alg=%s access_token_signing_alg=%s display_name=%q launch_url=%s",
		a.Name, kind, strings.Join(a.GrantTypes, ","), strings.Join(a.RedirectURIs, ","), a.RequirePermission,
		a.BackchannelLogoutURI, describeTTL(a.AccessTokenTTL), a.IDTokenAlg, a.AccessTokenAlg, a.DisplayName, a.LaunchURL)
}

// describeTTL is an app's access-token lifetime for the audit trail.
func describeTTL(ttl time.Duration) string {
	if ttl == 0 {
		return "default"
	}
	return ttl.String()
}

func appAudit(a store.App, action, actorID string, meta account.Meta, at time.Time) store.AuditEvent {
	ua := meta.UserAgent
	if len(ua) > 256 {
		ua = strings.ToValidUTF8(ua[:256], "")
	}
	return store.AuditEvent{PracticeID: a.PracticeID, At: at, Action: action, Outcome: "success", ActorID: actorID,
		ClientAddr: meta.ClientAddr, UserAgent: ua, RequestID: meta.RequestID,
		Details: map[string]string{"client_id": a.ClientID}}
}

// RegisterApp registers an app for the practice. A confidential app's secret
// is returned here once and stored only as a hash. The caller has checked
// the actor's permission; the registration is audited.
func (p *Provider) RegisterApp(ctx context.Context, practiceID, actorID string, req AppRequest, meta account.Meta) (store.App, string, error) {
	req, err := checkAppRequest(req)
	if err != nil {
		return store.App{}, "", err
	}
	if err := p.checkBackchannelReachable(ctx, req.BackchannelLogoutURI); err != nil {
		return store.App{}, "", err
	}
	now := p.d.Now()
	a := store.App{ClientID: AppClientPrefix + p.randomToken(16), PracticeID: practiceID, Name: req.Name,
		RedirectURIs: req.RedirectURIs, GrantTypes: req.GrantTypes, Confidential: req.Confidential,
		RequirePermission: req.RequirePermission, BackchannelLogoutURI: req.BackchannelLogoutURI,
		AccessTokenTTL: req.AccessTokenTTL, IDTokenAlg: req.IDTokenAlg, AccessTokenAlg: req.AccessTokenAlg,
		DisplayName: req.DisplayName, LaunchURL: req.LaunchURL, CreatedBy: actorID, CreatedAt: now, UpdatedAt: now}
	var secret string
	if a.Confidential {
		secret, a.SecretHash = p.newAppSecret()
		a.SecretRotatedAt = now
	}
	if _, taken := p.clients[a.ClientID]; taken {
		return store.App{}, "", fmt.Errorf("oidc: generated client ID collides with a configured client")
	}
	err = p.d.Store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.CreateApp(ctx, a); err != nil {
			return err
		}
		ev := appAudit(a, "app.register", actorID, meta, now)
		ev.Details["before"], ev.Details["after"] = "", describeApp(a)
		return tx.AppendAudit(ctx, ev)
	})
	if err != nil {
		return store.App{}, "", fmt.Errorf("oidc: register app: %w", err)
	}
	p.corsOrigins.forget()
	p.apps.forget(a.ClientID)
	stored, err := p.d.Store.PracticeApp(ctx, practiceID, a.ClientID)
	if err != nil {
		return store.App{}, "", fmt.Errorf("oidc: register app: %w", err)
	}
	return stored, secret, nil
}

// RotateAppSecret gives a confidential app a new secret (returned once) and
// makes the old one stop working at once in this process and within
// AppCacheTTL on every other. A public app has no secret to rotate.
func (p *Provider) RotateAppSecret(ctx context.Context, practiceID, clientID, actorID string, meta account.Meta) (store.App, string, error) {
	now := p.d.Now()
	secret, hash := p.newAppSecret()
	var a store.App
	err := p.d.Store.InTx(ctx, func(tx *store.Store) error {
		var err error
		if a, err = tx.PracticeApp(ctx, practiceID, clientID); err != nil {
			return err
		}
		if !a.Confidential {
			return ErrInvalidApp.Withf("a public app has no secret to rotate")
		}
		before := a.SecretRotatedAt
		if err := tx.SetAppSecret(ctx, practiceID, clientID, hash, now); err != nil {
			return err
		}
		ev := appAudit(a, "app.rotate_secret", actorID, meta, now)
		ev.Details["before"] = "secret issued " + before.UTC().Format(time.RFC3339)
		ev.Details["after"] = "secret issued " + now.UTC().Format(time.RFC3339)
		return tx.AppendAudit(ctx, ev)
	})
	p.corsOrigins.forget()
	p.apps.forget(clientID)
	if err != nil {
		return store.App{}, "", fmt.Errorf("oidc: rotate app secret: %w", err)
	}
	a, err = p.d.Store.PracticeApp(ctx, practiceID, clientID)
	if err != nil {
		return store.App{}, "", fmt.Errorf("oidc: rotate app secret: %w", err)
	}
	return a, secret, nil
}

// SetAppPermission changes the permission a registered app requires ("" for
// none); it is UpdateApp with that field alone.
func (p *Provider) SetAppPermission(ctx context.Context, practiceID, clientID, actorID, perm string, meta account.Meta) (store.App, error) {
	return p.UpdateApp(ctx, practiceID, clientID, actorID, AppUpdate{RequirePermission: &perm}, meta)
}

// UpdateApp changes what can be changed of a registered app after
// registration: the permission it requires, its back-channel logout URI,
// its access-token lifetime and its token signing algorithms. Every field is checked before anything is
// written; the changes are made in one transaction. They take effect at once
// in this process and within AppCacheTTL on every other: from then on a
// member without the required permission gets no code and their next
// refresh is refused; new access tokens get the new lifetime. The fields
// that change are audited with before and after.
func (p *Provider) UpdateApp(ctx context.Context, practiceID, clientID, actorID string, upd AppUpdate, meta account.Meta) (store.App, error) {
	if upd.RequirePermission != nil {
		perm, err := CheckAppPermission(*upd.RequirePermission)
		if err != nil {
			return store.App{}, err
		}
		upd.RequirePermission = &perm
	}
	if upd.BackchannelLogoutURI != nil {
		if err := CheckBackchannelLogoutURI(*upd.BackchannelLogoutURI); err != nil {
			return store.App{}, err
		}
		if err := p.checkBackchannelReachable(ctx, *upd.BackchannelLogoutURI); err != nil {
			return store.App{}, err
		}
	}
	if upd.AccessTokenTTL != nil {
		if err := CheckAccessTokenTTL(*upd.AccessTokenTTL); err != nil {
			return store.App{}, err
		}
	}
	if upd.IDTokenAlg != nil {
		if err := CheckSigningAlg("id_token_signed_response_alg", *upd.IDTokenAlg); err != nil {
			return store.App{}, err
		}
	}
	if upd.AccessTokenAlg != nil {
		if err := CheckSigningAlg("access_token_signing_alg", *upd.AccessTokenAlg); err != nil {
			return store.App{}, err
		}
	}
	if upd.DisplayName != nil || upd.LaunchURL != nil {
		var name, launch string
		if upd.DisplayName != nil {
			name = *upd.DisplayName
		}
		if upd.LaunchURL != nil {
			launch = *upd.LaunchURL
		}
		name, err := CheckLaunch(name, launch)
		if err != nil {
			return store.App{}, err
		}
		if upd.DisplayName != nil {
			upd.DisplayName = &name
		}
	}
	now := p.d.Now()
	err := p.d.Store.InTx(ctx, func(tx *store.Store) error {
		a, err := tx.PracticeApp(ctx, practiceID, clientID)
		if err != nil {
			return err
		}
		var before, after []string
		if v := upd.RequirePermission; v != nil && *v != a.RequirePermission {
			if err := tx.SetAppRequirePermission(ctx, practiceID, clientID, *v, now); err != nil {
				return err
			}
			before, after = append(before, "require_permission="+a.RequirePermission), append(after, "require_permission="+*v)
		}
		if v := upd.BackchannelLogoutURI; v != nil && *v != a.BackchannelLogoutURI {
			if err := tx.SetAppBackchannelLogoutURI(ctx, practiceID, clientID, *v, now); err != nil {
				return err
			}
			before, after = append(before, "backchannel_logout_uri="+a.BackchannelLogoutURI), append(after, "backchannel_logout_uri="+*v)
		}
		if v := upd.AccessTokenTTL; v != nil && *v != a.AccessTokenTTL {
			if err := tx.SetAppAccessTokenTTL(ctx, practiceID, clientID, *v, now); err != nil {
				return err
			}
			before, after = append(before, "access_token_ttl="+describeTTL(a.AccessTokenTTL)), append(after, "access_token_ttl="+describeTTL(*v))
		}
		name, launch := a.DisplayName, a.LaunchURL
		if v := upd.DisplayName; v != nil {
			name = *v
		}
		if v := upd.LaunchURL; v != nil {
			launch = *v
		}
		if name != a.DisplayName || launch != a.LaunchURL {
			if err := tx.SetAppLaunch(ctx, practiceID, clientID, name, launch, now); err != nil {
				return err
			}
			if name != a.DisplayName {
				before, after = append(before, fmt.Sprintf("display_name=%q", a.DisplayName)), append(after, fmt.Sprintf("display_name=%q", name))
			}
			if launch != a.LaunchURL {
				before, after = append(before, "launch_url="+a.LaunchURL), append(after, "launch_url="+launch)
			}
		}
		idAlg, atAlg := a.IDTokenAlg, a.AccessTokenAlg
		if v := upd.IDTokenAlg; v != nil {
			idAlg = *v
		}
		if v := upd.AccessTokenAlg; v != nil {
			atAlg = *v
		}
		if idAlg != a.IDTokenAlg || atAlg != a.AccessTokenAlg {
			if err := tx.SetAppSigningAlgs(ctx, practiceID, clientID, idAlg, atAlg, now); err != nil {
				return err
			}
			if idAlg != a.IDTokenAlg {
				before, after = append(before, "id_token_signed_response_alg="+a.IDTokenAlg), append(after, "id_token_signed_response_alg="+idAlg)
			}
			if atAlg != a.AccessTokenAlg {
				before, after = append(before, "access_token_signing_alg="+a.AccessTokenAlg), append(after, "access_token_signing_alg="+atAlg)
			}
		}
		if len(after) == 0 {
			return nil // nothing changes, nothing to audit
		}
		ev := appAudit(a, "app.update", actorID, meta, now)
		ev.Details["before"] = strings.Join(before, " ")
		ev.Details["after"] = strings.Join(after, " ")
		return tx.AppendAudit(ctx, ev)
	})
	p.corsOrigins.forget()
	p.apps.forget(clientID)
	if err != nil {
		return store.App{}, fmt.Errorf("oidc: update app: %w", err)
	}
	a, err := p.d.Store.PracticeApp(ctx, practiceID, clientID)
	if err != nil {
		return store.App{}, fmt.Errorf("oidc: update app: %w", err)
	}
	return a, nil
}

// RemoveApp removes a registered app: it can no longer start logins or get
// tokens, and its refresh tokens are revoked. Access tokens it already holds
// stay valid until they expire (apps verify them offline). It reports how
// many refresh tokens were revoked.
func (p *Provider) RemoveApp(ctx context.Context, practiceID, clientID, actorID string, meta account.Meta) (int64, error) {
	now := p.d.Now()
	var n int64
	err := p.d.Store.InTx(ctx, func(tx *store.Store) error {
		a, err := tx.PracticeApp(ctx, practiceID, clientID)
		if err != nil {
			return err
		}
		if n, err = tx.RemoveApp(ctx, practiceID, clientID, now); err != nil {
			return err
		}
		ev := appAudit(a, "app.remove", actorID, meta, now)
		ev.Details["before"], ev.Details["after"] = describeApp(a), ""
		ev.Details["refresh_tokens_revoked"] = fmt.Sprint(n)
		return tx.AppendAudit(ctx, ev)
	})
	p.corsOrigins.forget()
	p.apps.forget(clientID)
	if err != nil {
		return 0, fmt.Errorf("oidc: remove app: %w", err)
	}
	return n, nil
}

// Apps lists the practice's registered apps.
func (p *Provider) Apps(ctx context.Context, practiceID string) ([]store.App, error) {
	apps, err := p.d.Store.ListApps(ctx, practiceID)
	if err != nil {
		return nil, fmt.Errorf("oidc: apps: %w", err)
	}
	return apps, nil
}

// App returns one of the practice's registered apps.
func (p *Provider) App(ctx context.Context, practiceID, clientID string) (store.App, error) {
	a, err := p.d.Store.PracticeApp(ctx, practiceID, clientID)
	if err != nil {
		return store.App{}, fmt.Errorf("oidc: app: %w", err)
	}
	return a, nil
}
