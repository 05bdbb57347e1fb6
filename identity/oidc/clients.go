package oidc

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// ClientConfig declares one relying party (a practice app). It mirrors the
// clients: section of the configuration.
type ClientConfig struct {
	ID string
	// Secret is the client secret; "" makes a public client (PKCE only). It is
	// kept only as a SHA-256 hash (client secrets are long random strings, so
	// a fast hash is enough and keeps client authentication cheap).
	Secret                 string
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	// GrantTypes: authorization_code, refresh_token, client_credentials.
	// Empty means authorization_code and refresh_token.
	GrantTypes []string
	// Scopes the client may request beyond openid; empty means the standard
	// set (openid profile email offline_access practitioner roles).
	Scopes               []string
	BackchannelLogoutURI string
	// RequirePermission, when set, must be among a member's effective
	// permissions for the client to get a code.
	RequirePermission string
	// AccessTokenTTL overrides the provider's access-token lifetime.
	AccessTokenTTL time.Duration
	// Practice binds the client to one practice (slug); "" serves any.
	Practice string
	// SigningAlg, the older single setting, is the default of IDTokenAlg
	// and AccessTokenAlg when they are "".
	SigningAlg string
	// IDTokenAlg signs ID tokens and back-channel logout tokens
	// (id_token_signed_response_alg): RS256 (default, as OpenID Connect
	// Core 2 makes it) or ES256.
	IDTokenAlg string
	// AccessTokenAlg signs access tokens: ES256 (default: cheaper to sign
	// on every refresh) or RS256.
	AccessTokenAlg string
	// PKCEOptional (require_pkce: false) lets a confidential client log in
	// without PKCE; it must then send a nonce. OAuth 2.1 (section 7.5.1)
	// allows it for confidential OpenID clients that use nonce.
	PKCEOptional bool
}

// The scopes frontdesk knows.
const (
	ScopePractitioner = "practitioner"
)

var defaultScopes = []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopeOfflineAccess, ScopePractitioner, ScopeRoles}

var allowedGrants = []string{string(oidc.GrantTypeCode), string(oidc.GrantTypeRefreshToken), string(oidc.GrantTypeClientCredentials)}

// client is a registered client; it implements op.Client.
type client struct {
	cfg        ClientConfig
	secretHash []byte // nil for public clients
	grants     []oidc.GrantType
	scopes     []string
	idTokenTTL time.Duration
	loginURL   func(id string) string
	// practiceID binds a registered app to its practice ("" for configured
	// clients, bound by slug only when cfg.Practice is set).
	practiceID string
	// registered is true for an app a practice registered (apps.go): its
	// back-channel logout goes through the guarded client (identity/outbound).
	registered bool
	// name is what the login page calls a registered app (its display
	// name, else its name); "" for configured clients, which have none.
	name string
}

func newClient(c ClientConfig, idTokenTTL time.Duration) (*client, error) {
	cl := &client{cfg: c, idTokenTTL: idTokenTTL}
	if c.Secret != "" {
		h := sha256.Sum256([]byte(c.Secret))
		cl.secretHash = h[:]
		cl.cfg.Secret = ""
	}
	grants := c.GrantTypes
	if len(grants) == 0 {
		grants = []string{string(oidc.GrantTypeCode), string(oidc.GrantTypeRefreshToken)}
	}
	for _, g := range grants {
		if !slices.Contains(allowedGrants, g) {
			return nil, fmt.Errorf("oidc: client %q: grant type %q is not offered; use one of %v", c.ID, g, allowedGrants)
		}
		if g == string(oidc.GrantTypeClientCredentials) && cl.secretHash == nil {
			return nil, fmt.Errorf("oidc: client %q: client_credentials needs a client secret", c.ID)
		}
		cl.grants = append(cl.grants, oidc.GrantType(g))
	}
	cl.scopes = c.Scopes
	if len(cl.scopes) == 0 {
		cl.scopes = defaultScopes
	}
	if c.PKCEOptional && cl.secretHash == nil {
		return nil, fmt.Errorf("oidc: client %q: only a confidential client (one with a secret) may log in without PKCE", c.ID)
	}
	for _, a := range []struct {
		alg *string
		def string
	}{{&cl.cfg.IDTokenAlg, AlgRS256}, {&cl.cfg.AccessTokenAlg, AlgES256}} {
		if *a.alg == "" {
			*a.alg = c.SigningAlg
		}
		if *a.alg == "" {
			*a.alg = a.def
		}
		if *a.alg != AlgES256 && *a.alg != AlgRS256 {
			return nil, fmt.Errorf("oidc: client %q: signing algorithm %q is not offered; use ES256 or RS256", c.ID, *a.alg)
		}
	}
	return cl, nil
}

// checkSecret compares a presented secret in constant time.
func (c *client) checkSecret(secret string) bool {
	if c.secretHash == nil {
		return false
	}
	h := sha256.Sum256([]byte(secret))
	return subtle.ConstantTimeCompare(h[:], c.secretHash) == 1
}

func (c *client) GetID() string                    { return c.cfg.ID }
func (c *client) RedirectURIs() []string           { return c.cfg.RedirectURIs }
func (c *client) PostLogoutRedirectURIs() []string { return c.cfg.PostLogoutRedirectURIs }
func (c *client) ApplicationType() op.ApplicationType {
	return op.ApplicationTypeWeb
}
func (c *client) AuthMethod() oidc.AuthMethod {
	if c.secretHash == nil {
		return oidc.AuthMethodNone
	}
	return oidc.AuthMethodBasic
}
func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *client) GrantTypes() []oidc.GrantType { return c.grants }
func (c *client) LoginURL(id string) string    { return c.loginURL(id) }
func (c *client) AccessTokenType() op.AccessTokenType {
	return op.AccessTokenTypeJWT
}
func (c *client) IDTokenLifetime() time.Duration { return c.idTokenTTL }
func (c *client) DevMode() bool                  { return false }
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) IsScopeAllowed(scope string) bool { return slices.Contains(c.scopes, scope) }

// IDTokenUserinfoClaimsAssertion is true: ID tokens carry email and name even
// when an access token is issued with them (the contract promises them).
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *client) ClockSkew() time.Duration             { return 0 }

func (c *client) allowsGrant(g oidc.GrantType) bool { return slices.Contains(c.grants, g) }
