package oidc

import (
	"context"
	"errors"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/frontdeskhq/frontdesk/identity/store"
)

// Revocation revokes a refresh token (its whole family) or an access token
// (until it expires) of the calling client (RFC 7009). Unknown tokens are
// not an error.
func (s *server) Revocation(ctx context.Context, r *op.ClientRequest[oidc.RevocationRequest]) (*op.Response, error) {
	p := s.p
	now := p.d.Now()
	if t, err := p.d.Store.RefreshTokenByHash(ctx, hashToken(r.Data.Token)); err == nil {
		if t.ClientID == r.Client.GetID() {
			if _, err := p.d.Store.RevokeRefreshFamily(ctx, t.FamilyID, now); err != nil {
				return nil, op.RevocationError(oidc.ErrServerError().WithParent(err))
			}
		}
		return op.NewResponse(nil), nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, op.RevocationError(oidc.ErrServerError().WithParent(err))
	}
	if claims, err := p.verifyAccessToken(ctx, r.Data.Token); err == nil && claims.ClientID == r.Client.GetID() {
		if err := p.d.Store.RevokeAccessToken(ctx, claims.JWTID, claims.Expiration.AsTime()); err != nil {
			return nil, op.RevocationError(oidc.ErrServerError().WithParent(err))
		}
	}
	return op.NewResponse(nil), nil
}
