package oidc

import (
	"encoding/json"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/frontdeskhq/frontdesk/identity/account"
)

// The one definition of frontdesk's claims (architecture review §1.3(b)):
// which claims exist, which scope releases them and where they go. Access
// tokens, ID tokens, userinfo and discovery all follow claimGroups; the
// token payloads are typed structs for speed (mint.go), and
// TestClaimsOneDefinition holds their JSON names, userinfo's answer and
// discovery's claims_supported to this table.
//
// Claims follow scopes (OpenID Connect Core 5.4): the ID token carries what
// identifies the login, plus a group whose scope was granted and that is
// meant for it (roles, practitioner); profile and email claims come from
// userinfo. The claims request parameter (Core 5.5) adds a group to the ID
// token or userinfo when one of its claims is asked for there.

// claimDest is where a claim may be carried.
type claimDest uint8

const (
	destAccess claimDest = 1 << iota
	destID
	destUserinfo
)

// claimGroup is a set of claims released together.
type claimGroup struct {
	// scope releases the group; "openid" groups are protocol claims.
	scope string
	names []string
	// always: destinations carrying the group whatever the scopes.
	always claimDest
	// scoped: destinations carrying it when scope is granted. The claims
	// parameter may ask for a group at any destination.
	scoped claimDest
}

// ScopeRoles releases the practice claims (practice, practice_id, roles,
// permissions, elevated_until) in ID tokens and userinfo, as Keycloak's
// scope of that name does. Access tokens always carry them: frontdesk's
// APIs and the apps' back ends authorize on them.
const ScopeRoles = "roles"

// claimGroups is the claims table.
func claimGroups() []claimGroup {
	return []claimGroup{
		{scope: oidc.ScopeOpenID, always: destID,
			names: []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "client_id", "at_hash", "c_hash", "sid"}},
		{scope: oidc.ScopeOpenID, always: destAccess,
			names: []string{"iss", "sub", "aud", "exp", "iat", "nbf", "auth_time", "amr", "client_id", "jti", "scope", "sid", "userinfo_claims"}},
		{scope: oidc.ScopeOpenID, always: destUserinfo, names: []string{"sub"}},
		{scope: ScopeRoles, always: destAccess, scoped: destID | destUserinfo,
			names: []string{"practice", "practice_id", "roles", "permissions", "elevated_until"}},
		{scope: oidc.ScopeProfile, scoped: destUserinfo, names: []string{"name", "updated_at"}},
		{scope: oidc.ScopeEmail, scoped: destUserinfo, names: []string{"email", "email_verified"}},
		{scope: ScopePractitioner, scoped: destID | destUserinfo,
			names: []string{"legal_name", "preferred_name", "credentials", "npi", "taxonomy", "supervisors", "supervisees", "cosign_notes", "cosign_treatment_plans"}},
	}
}

// supportedClaims lists every claim once, for discovery.
func supportedClaims() []string {
	var out []string
	for _, g := range claimGroups() {
		for _, n := range g.names {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	return out
}

// releases reports whether the group of scope reaches dest for a grant of
// scopes, with extra the groups the claims parameter asked for at dest.
func releases(dest claimDest, scope string, scopes, extra []string) bool {
	for _, g := range claimGroups() {
		if g.scope != scope {
			continue
		}
		if g.always&dest != 0 {
			return true
		}
		if g.scoped&dest != 0 && slices.Contains(scopes, scope) {
			return true
		}
		if g.scope != oidc.ScopeOpenID && slices.Contains(extra, scope) {
			// The claims parameter asked for the group here.
			return true
		}
	}
	return false
}

// claimScope is the scope of the group a (non-protocol) claim belongs to,
// "" for an unknown or protocol claim.
func claimScope(name string) string {
	for _, g := range claimGroups() {
		if g.scope != oidc.ScopeOpenID && slices.Contains(g.names, name) {
			return g.scope
		}
	}
	return ""
}

// isClaimScope reports whether scope releases a (non-protocol) group.
func isClaimScope(scope string) bool {
	for _, g := range claimGroups() {
		if g.scope != oidc.ScopeOpenID && g.scope == scope {
			return true
		}
	}
	return false
}

// claimsRequest is the part of a claims request parameter (Core 5.5) that
// frontdesk honours: the groups asked for in the ID token and in userinfo,
// and whether acr was asked for in the ID token.
type claimsRequest struct {
	ID       []string `json:"id,omitempty"`
	Userinfo []string `json:"userinfo,omitempty"`
	ACR      bool     `json:"acr,omitempty"`
}

// maxClaimsParam bounds the claims parameter.
const maxClaimsParam = 4096

// parseClaimsRequest reads a claims parameter. Claims a client may not have
// (their scope is not allowed for it) and unknown claims are ignored, as
// Core 5.5 allows; a malformed parameter is an error.
func parseClaimsRequest(raw string, allowed func(scope string) bool) (claimsRequest, error) {
	var cr claimsRequest
	if raw == "" {
		return cr, nil
	}
	if len(raw) > maxClaimsParam {
		return cr, oidc.ErrInvalidRequest().WithDescription("the claims parameter is too long")
	}
	var req struct {
		IDToken  map[string]json.RawMessage `json:"id_token"`
		Userinfo map[string]json.RawMessage `json:"userinfo"`
	}
	if err := json.Unmarshal([]byte(raw), &req); err != nil {
		return cr, oidc.ErrInvalidRequest().WithDescription("the claims parameter is not a JSON object of id_token and userinfo requests")
	}
	groups := func(m map[string]json.RawMessage) []string {
		var out []string
		for name := range m {
			if s := claimScope(name); s != "" && allowed(s) && !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
		slices.Sort(out)
		return out
	}
	cr.ID, cr.Userinfo = groups(req.IDToken), groups(req.Userinfo)
	_, cr.ACR = req.IDToken["acr"]
	return cr, nil
}

// ACR values frontdesk asserts (acr_values_supported): how the session
// being used logged in.
const (
	ACRPassword = "urn:frontdesk:acr:pwd"
	ACRPasskey  = "urn:frontdesk:acr:hwk"
	ACRSSO      = "urn:frontdesk:acr:fed"
)

// acrValues lists the ACR values for discovery.
func acrValues() []string { return []string{ACRPassword, ACRPasskey, ACRSSO} }

// acrFor is the acr of a session with amr.
func acrFor(amr []string) string {
	switch {
	case slices.Contains(amr, account.MethodHardwareKey):
		return ACRPasskey
	case slices.Contains(amr, account.MethodFederated):
		return ACRSSO
	default:
		return ACRPassword
	}
}
