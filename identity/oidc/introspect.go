package oidc

import (
	"context"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/frontdeskhq/frontdesk/identity/store"
)

// Introspect answers RFC 7662 for an authenticated confidential client about
// its own tokens; anything else is reported inactive.
func (s *server) Introspect(ctx context.Context, r *op.Request[op.IntrospectionRequest]) (*op.Response, error) {
	p := s.p
	cc := r.Data.ClientCredentials
	var cl *client
	if cc != nil {
		var err error
		if cl, err = p.lookupClient(ctx, cc.ClientID); err != nil {
			return nil, serverError(err)
		}
	}
	if cl == nil || !cl.checkSecret(cc.ClientSecret) || r.Data.IntrospectionRequest == nil {
		return nil, op.NewStatusError(oidc.ErrInvalidClient().WithDescription("client authentication failed"), 401)
	}
	resp := &oidc.IntrospectionResponse{}
	claims, err := p.verifyAccessToken(ctx, r.Data.Token)
	if store.IsUnavailable(err) {
		// "Inactive" would be a false answer that logs people out of the
		// app; the app retries on 503 (identity/enforce fails closed).
		return nil, serverError(err)
	}
	if err == nil {
		if claims.ClientID == cl.cfg.ID || slices.Contains(claims.Audience, cl.cfg.ID) {
			resp.Active, resp.Scope, resp.ClientID, resp.TokenType = true, claims.Scopes, claims.ClientID, oidc.BearerToken
			resp.Expiration, resp.IssuedAt, resp.NotBefore = claims.Expiration, claims.IssuedAt, claims.NotBefore
			resp.Subject, resp.Audience, resp.Issuer, resp.JWTID = claims.Subject, claims.Audience, claims.Issuer, claims.JWTID
			resp.AuthTime, resp.AuthenticationMethodsReferences = claims.AuthTime, claims.AuthenticationMethodsReferences
			resp.Claims = claims.Claims
		}
		return op.NewResponse(resp), nil
	}
	t, err := p.d.Store.RefreshTokenByHash(ctx, hashToken(r.Data.Token))
	if store.IsUnavailable(err) {
		return nil, serverError(err)
	}
	if err == nil {
		now := p.d.Now()
		if t.ClientID == cl.cfg.ID && t.UsedAt.IsZero() && t.RevokedAt.IsZero() && now.Before(t.ExpiresAt) {
			resp.Active, resp.Scope, resp.ClientID, resp.TokenType = true, t.Scopes, t.ClientID, "refresh_token"
			resp.Subject, resp.Expiration, resp.Issuer = t.MemberID, oidc.FromTime(t.ExpiresAt), p.issuer
		}
	}
	return op.NewResponse(resp), nil
}
