package oidc

import (
	"context"
	"errors"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/frontdeskhq/frontdesk/identity/store"
)

// CodeExchange redeems an authorization code. The code is consumed before
// anything else is checked, so a failed PKCE attempt burns it; PKCE S256 is
// verified for every client.
func (s *server) CodeExchange(ctx context.Context, r *op.ClientRequest[oidc.AccessTokenRequest]) (*op.Response, error) {
	p := s.p
	cl, ok := r.Client.(*client)
	if !ok || !cl.allowsGrant(oidc.GrantTypeCode) {
		return nil, oidc.ErrUnauthorizedClient()
	}
	ar, err := p.d.Store.ConsumeAuthCode(ctx, hashToken(r.Data.Code), p.d.Now())
	switch {
	case errors.Is(err, store.ErrCodeReplayed):
		p.d.Logger.WarnContext(ctx, "authorization code replayed; tokens issued from it revoked", "client", cl.cfg.ID)
		return nil, oidc.ErrInvalidGrant().WithDescription("the code was already used")
	case errors.Is(err, store.ErrNotFound):
		return nil, oidc.ErrInvalidGrant().WithDescription("the code is unknown or expired")
	case err != nil:
		return nil, serverError(err)
	}
	if ar.ClientID != cl.cfg.ID {
		return nil, oidc.ErrInvalidGrant().WithDescription("the code was issued to another client")
	}
	ap, err := decodeParams(ar)
	if err != nil {
		return nil, serverError(err)
	}
	if r.Data.RedirectURI != ap.RedirectURI {
		return nil, oidc.ErrInvalidGrant().WithDescription("redirect_uri does not match the authorization request")
	}
	switch {
	case ap.CodeChallenge == "" && cl.cfg.PKCEOptional:
		// Logged in without PKCE (require_pkce: false): a code_verifier
		// now would be a downgrade attempt (RFC 9700 section 2.1.1).
		if r.Data.CodeVerifier != "" {
			return nil, oidc.ErrInvalidGrant().WithDescription("code_verifier was sent but the authorization request had no code_challenge")
		}
	default:
		challenge := &oidc.CodeChallenge{Challenge: ap.CodeChallenge, Method: oidc.CodeChallengeMethodS256}
		if ap.CodeChallenge == "" || op.AuthorizeCodeChallenge(r.Data.CodeVerifier, challenge) != nil {
			return nil, oidc.ErrInvalidGrant().WithDescription("code_verifier is missing or does not match")
		}
	}
	g, err := p.memberGrant(ctx, cl, ar.PracticeID, ar.MemberID)
	if err != nil {
		return nil, err
	}
	g.scopes, g.amr, g.authTime, g.sid, g.nonce = ap.Scopes, ar.AMR, ar.AuthTime, ar.SessionID, ap.Nonce
	g.claims = ap.Claims
	g.refresh = slices.Contains(ap.Scopes, oidc.ScopeOfflineAccess) && cl.allowsGrant(oidc.GrantTypeRefreshToken)
	g.familyID = ar.ID
	return p.respond(ctx, g, r.Data.Code)
}
