package oidc

import (
	"context"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/frontdeskhq/frontdesk/identity/store"
)

// UserInfo answers with the member's current claims for a valid access token.
func (s *server) UserInfo(ctx context.Context, r *op.Request[oidc.UserInfoRequest]) (*op.Response, error) {
	p := s.p
	claims, err := p.verifyAccessToken(ctx, r.Data.AccessToken)
	if store.IsUnavailable(err) {
		// Whether the token is still live cannot be read: say so (503, try
		// again) rather than calling a good token invalid.
		return nil, serverError(err)
	}
	if err != nil {
		return nil, op.NewStatusError(oidc.ErrAccessDenied().WithDescription("access token invalid"), 401)
	}
	practiceID, _ := claims.Claims["practice_id"].(string)
	cl, err := p.lookupClient(ctx, claims.ClientID)
	if err != nil {
		return nil, serverError(err)
	}
	if practiceID == "" || cl == nil || claims.Subject == claims.ClientID {
		return nil, op.NewStatusError(oidc.ErrAccessDenied().WithDescription("the token does not name a member"), 403)
	}
	g, err := p.memberGrant(ctx, cl, practiceID, claims.Subject)
	if err != nil && !refusedGrant(err) {
		return nil, err
	}
	if err != nil {
		return nil, op.NewStatusError(oidc.ErrAccessDenied().WithDescription("access token invalid"), 401)
	}
	g.scopes = claims.Scopes
	g.sid, _ = claims.Claims["sid"].(string)
	if extra, ok := claims.Claims["userinfo_claims"].([]any); ok {
		for _, e := range extra {
			if s, ok := e.(string); ok && isClaimScope(s) {
				g.claims.Userinfo = append(g.claims.Userinfo, s)
			}
		}
	}
	info := &oidc.UserInfo{}
	p.store.fillUserinfo(info, g)
	return op.NewResponse(info), nil
}

// fillUserinfo sets userinfo's claims: sub, and the groups claims.go
// releases to userinfo for the token's scopes and claims request.
func (s *storage) fillUserinfo(info *oidc.UserInfo, g *grant) {
	info.Subject = g.subject
	extra := g.claims.Userinfo
	if releases(destUserinfo, ScopeRoles, g.scopes, extra) {
		pc := g.practiceClaims()
		info.AppendClaims("practice", pc.Practice)
		info.AppendClaims("practice_id", pc.PracticeID)
		info.AppendClaims("roles", pc.Roles)
		info.AppendClaims("permissions", pc.Permissions)
		if pc.ElevatedUntil != 0 {
			// Emergency access is visible to apps, which may show or log it.
			info.AppendClaims("elevated_until", pc.ElevatedUntil)
		}
	}
	m := g.member
	if m == nil {
		return
	}
	if releases(destUserinfo, oidc.ScopeEmail, g.scopes, extra) {
		info.Email = m.Email
		info.EmailVerified = oidc.Bool(emailVerified(m.Status))
	}
	if releases(destUserinfo, oidc.ScopeProfile, g.scopes, extra) {
		info.Name = displayName(m.DisplayName, m.LegalName)
		if !m.UpdatedAt.IsZero() {
			info.UpdatedAt = oidc.FromTime(m.UpdatedAt)
		}
	}
	if releases(destUserinfo, ScopePractitioner, g.scopes, extra) {
		pc := g.practitionerClaims()
		info.AppendClaims("legal_name", pc.LegalName)
		info.AppendClaims("preferred_name", pc.PreferredName)
		info.AppendClaims("credentials", pc.Credentials)
		info.AppendClaims("npi", pc.NPI)
		info.AppendClaims("taxonomy", pc.Taxonomy)
		info.AppendClaims("supervisors", pc.Supervisors)
		info.AppendClaims("supervisees", pc.Supervisees)
		info.AppendClaims("cosign_notes", pc.CosignNotes)
		info.AppendClaims("cosign_treatment_plans", pc.CosignTreatmentPlans)
	}
}
