package oidc

import (
	"context"
	"errors"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/frontdeskhq/frontdesk/identity/store"
)

// RefreshToken rotates a refresh token: the presented one is used up, a new
// one joins its family, and roles and permissions are read afresh. A used
// token presented again revokes the whole family.
func (s *server) RefreshToken(ctx context.Context, r *op.ClientRequest[oidc.RefreshTokenRequest]) (*op.Response, error) {
	p := s.p
	cl, ok := r.Client.(*client)
	if !ok || !cl.allowsGrant(oidc.GrantTypeRefreshToken) {
		return nil, oidc.ErrUnauthorizedClient()
	}
	now := p.d.Now()
	tokenHash := hashToken(r.Data.RefreshToken)
	// The usual case costs one read here and one write transaction when the
	// new token is stored (respond → store.RotateRefreshToken), which marks
	// this one used only if it still is unused, unrevoked and unexpired.
	// Anything else, and every refusal below, goes through UseRefreshToken
	// first, so an unusable token is burnt (and a replayed one revokes its
	// family) exactly as strictly as before.
	// The member's row and role data come with the token: one statement,
	// not three (on PostgreSQL, one round trip).
	t, m, roleData, err := p.d.Store.RefreshTokenWithMember(ctx, tokenHash, now)
	usable := err == nil && t.UsedAt.IsZero() && t.RevokedAt.IsZero() && now.Before(t.ExpiresAt)
	if err == nil && !usable {
		t, err = p.d.Store.UseRefreshToken(ctx, tokenHash, now)
	}
	burn := func() {
		if _, err := p.d.Store.UseRefreshToken(ctx, tokenHash, now); err != nil && !errors.Is(err, store.ErrRefreshReplayed) {
			p.d.Logger.ErrorContext(ctx, "using up refresh token failed", "err", err)
		}
	}
	switch {
	case errors.Is(err, store.ErrRefreshReplayed):
		p.d.Logger.WarnContext(ctx, "refresh token replayed; its family is revoked", "client", cl.cfg.ID)
		return nil, oidc.ErrInvalidGrant().WithDescription("the refresh token was already used; log in again")
	case errors.Is(err, store.ErrNotFound):
		return nil, oidc.ErrInvalidGrant().WithDescription("the refresh token is unknown, revoked or expired")
	case err != nil:
		return nil, serverError(err)
	}
	revoke := func() {
		burn()
		if _, err := p.d.Store.RevokeRefreshFamily(ctx, t.FamilyID, now); err != nil {
			p.d.Logger.ErrorContext(ctx, "revoking refresh family failed", "err", err)
		}
	}
	if t.ClientID != cl.cfg.ID {
		revoke()
		return nil, oidc.ErrInvalidGrant().WithDescription("the refresh token was issued to another client")
	}
	scopes := t.Scopes
	if len(r.Data.Scopes) > 0 {
		for _, sc := range r.Data.Scopes {
			if !slices.Contains(t.Scopes, sc) {
				// A request for more than was granted is refused (RFC 6749
				// §6) but does not use the token up: relying parties send
				// their configured scope again on every refresh, and a
				// malformed request is no sign of theft.
				return nil, oidc.ErrInvalidScope().WithDescription("a refresh cannot add scopes; ask only for scopes granted at login, or log in again to get more")
			}
		}
		scopes = r.Data.Scopes
	}
	g, err := p.memberGrantWith(ctx, cl, t.PracticeID, t.MemberID, m, &roleData)
	if err != nil {
		// A grant refused for cause ends the family; a failure of
		// frontdesk's own (the database unreachable) must not.
		if refusedGrant(err) {
			revoke()
		}
		return nil, err
	}
	g.scopes, g.amr, g.authTime, g.sid = scopes, t.AMR, t.AuthTime, t.SessionID
	g.refresh, g.familyID, g.familyExpires, g.rotates = true, t.FamilyID, t.ExpiresAt, t.ID
	return p.respond(ctx, g, "")
}
