package oidc

import (
	"context"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// ClientCredentialsExchange issues an access token to an app's back end. The
// subject is the client; a client bound to one practice gets its claims.
func (s *server) ClientCredentialsExchange(ctx context.Context, r *op.ClientRequest[oidc.ClientCredentialsRequest]) (*op.Response, error) {
	p := s.p
	cl, ok := r.Client.(*client)
	if !ok || !cl.allowsGrant(oidc.GrantTypeClientCredentials) {
		return nil, oidc.ErrUnauthorizedClient()
	}
	var scopes []string
	for _, sc := range r.Data.Scope {
		if sc == oidc.ScopeOpenID || sc == oidc.ScopeOfflineAccess || !cl.IsScopeAllowed(sc) {
			return nil, oidc.ErrInvalidScope().WithDescription("scope %q is not allowed for client credentials", sc)
		}
		scopes = append(scopes, sc)
	}
	g := &grant{client: cl, subject: cl.cfg.ID, scopes: scopes}
	if cl.cfg.Practice != "" {
		practice, err := p.d.Accounts.Practice(ctx, cl.cfg.Practice)
		if err != nil {
			return nil, serverError(err)
		}
		g.practice = practice
	}
	return p.respond(ctx, g, "")
}
