package oidc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// AccessTokenType is the JWT typ of access tokens (RFC 9068).
const AccessTokenType = "at+jwt"

// grant is everything a token response is minted from.
type grant struct {
	client   *client
	subject  string
	practice store.Practice
	member   *store.Member // nil for client credentials
	scopes   []string
	amr      []string
	authTime time.Time
	sid      string
	eff      Effective
	nonce    string
	// claims is what the claims parameter asked for (claims.go).
	claims claimsRequest
	// refresh: issue a refresh token in familyID, expiring at familyExpires
	// (zero: now + refresh_token_ttl).
	refresh       bool
	familyID      string
	familyExpires time.Time
	// rotates is the ID of the refresh token this grant redeems (refresh
	// grant): it is marked used in the same transaction that stores the new
	// one (store.RotateRefreshToken).
	rotates string
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// memberGrant loads what a member's tokens say now: practice, member (who
// must still be allowed in), effective roles and permissions, and the
// client's required permission.
func (p *Provider) memberGrant(ctx context.Context, cl *client, practiceID, memberID string) (*grant, error) {
	return p.memberGrantWith(ctx, cl, practiceID, memberID, store.Member{}, nil)
}

// memberGrantWith is memberGrant with the member's row already read in the
// same statement as what led to it (known), and with it the member's role
// data (knownData, nil if not read); a known of another ID (the zero
// Member) is read afresh, and so is its role data.
func (p *Provider) memberGrantWith(ctx context.Context, cl *client, practiceID, memberID string, known store.Member,
	knownData *store.MemberRoleData) (*grant, error) {
	if cl.practiceID != "" && cl.practiceID != practiceID {
		// A registered app serves only its own practice's members.
		return nil, oidc.ErrInvalidGrant().WithDescription("this app serves another practice")
	}
	practice, err := p.practices.byID(ctx, p.d.Store, practiceID)
	if err != nil {
		return nil, grantReadError(err)
	}
	m := known
	if m.ID != memberID || m.PracticeID != practiceID || memberID == "" {
		if m, err = p.d.Store.MemberByID(ctx, practiceID, memberID); err != nil {
			return nil, grantReadError(err)
		}
		knownData = nil
	}
	if m.Status != store.StatusActive && m.Status != store.StatusLocked {
		return nil, oidc.ErrInvalidGrant().WithDescription("the member can no longer sign in")
	}
	eff, err := p.effective(ctx, m, knownData)
	if err != nil {
		return nil, serverError(err)
	}
	if perm := cl.cfg.RequirePermission; perm != "" && !roles.Allows(eff.Permissions, perm) {
		return nil, oidc.ErrInvalidGrant().WithDescription("the member no longer holds the permission this app requires")
	}
	return &grant{client: cl, subject: m.ID, practice: practice, member: &m, eff: eff}, nil
}

// serverError is the token endpoint's answer to a failure of frontdesk's
// own: 503 with a hint to retry when the database cannot be reached (the
// request changed nothing and the same request will work again), otherwise
// 500. Either way the client's tokens stay as they were.
func serverError(err error) error {
	e := oidc.ErrServerError().WithParent(err)
	if store.IsUnavailable(err) {
		return op.NewStatusError(e.WithDescription("frontdesk cannot reach its database right now; try again in a few seconds"),
			http.StatusServiceUnavailable)
	}
	return e
}

// grantReadError answers a failed read of a grant's practice or member: the
// row being gone refuses the grant, anything else is a server error.
func grantReadError(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return oidc.ErrInvalidGrant().WithParent(err)
	}
	return serverError(err)
}

// refusedGrant reports whether err refuses a grant for cause (invalid_grant)
// rather than failing it.
func refusedGrant(err error) bool {
	var oe *oidc.Error
	return errors.As(err, &oe) && oe.ErrorType == oidc.InvalidGrant
}

// mintAccessToken signs an RFC 9068 access token with key.
func (p *Provider) mintAccessToken(key *signingKey, g *grant) (string, time.Duration, error) {
	ttl := p.set.AccessTokenTTL
	if g.client.cfg.AccessTokenTTL > 0 {
		ttl = g.client.cfg.AccessTokenTTL
	}
	now := p.d.Now().UTC().Truncate(time.Second)
	if until := g.eff.ElevatedUntil; !until.IsZero() && now.Add(ttl).After(until) {
		// A token carrying emergency access ends with it: apps holding it
		// lose the elevated permissions when the elevation ends, not up to
		// one lifetime later.
		ttl = max(until.Truncate(time.Second).Sub(now), time.Second)
	}
	tok, err := key.sign(AccessTokenType, p.accessTokenClaims(g, now, ttl))
	if err != nil {
		return "", 0, fmt.Errorf("oidc: sign access token: %w", err)
	}
	return tok, ttl, nil
}

// respond mints the token response for g: access token, ID token (member
// grants) and, when asked, a rotated refresh token.
func (p *Provider) respond(ctx context.Context, g *grant, code string) (*op.Response, error) {
	key, err := p.keys.Signing(ctx, g.client.cfg.AccessTokenAlg)
	if err != nil {
		return nil, serverError(err)
	}
	at, ttl, err := p.mintAccessToken(key, g)
	if err != nil {
		return nil, serverError(err)
	}
	resp := &oidc.AccessTokenResponse{AccessToken: at, TokenType: oidc.BearerToken, ExpiresIn: uint64(ttl / time.Second),
		Scope: g.scopes}
	if g.member != nil {
		idKey := key
		if g.client.cfg.IDTokenAlg != g.client.cfg.AccessTokenAlg {
			if idKey, err = p.keys.Signing(ctx, g.client.cfg.IDTokenAlg); err != nil {
				return nil, serverError(err)
			}
		}
		resp.IDToken, err = p.idToken(idKey, g, at, code)
		if err != nil {
			return nil, serverError(err)
		}
	}
	if g.refresh {
		now := p.d.Now()
		expires := g.familyExpires
		if expires.IsZero() {
			expires = now.Add(p.set.RefreshTokenTTL)
		}
		rt := p.randomToken(32)
		next := store.RefreshToken{ID: p.d.NewID(), FamilyID: g.familyID,
			ClientID: g.client.cfg.ID, PracticeID: g.practice.ID, MemberID: g.subject, SessionID: g.sid,
			Scopes: g.scopes, AMR: g.amr, AuthTime: g.authTime, CreatedAt: now, ExpiresAt: expires}
		var err error
		if g.rotates != "" {
			err = p.d.Store.RotateRefreshToken(ctx, g.rotates, next, hashToken(rt), now)
		} else {
			err = p.d.Store.CreateRefreshToken(ctx, next, hashToken(rt))
		}
		switch {
		case errors.Is(err, store.ErrRefreshReplayed):
			p.d.Logger.WarnContext(ctx, "refresh token replayed; its family is revoked", "client", g.client.cfg.ID)
			return nil, oidc.ErrInvalidGrant().WithDescription("the refresh token was already used; log in again")
		case errors.Is(err, store.ErrNotFound):
			return nil, oidc.ErrInvalidGrant().WithDescription("the refresh token is unknown, revoked or expired")
		case err != nil:
			return nil, serverError(err)
		}
		resp.RefreshToken = rt
	}
	r := op.NewResponse(resp)
	r.Header.Set("Cache-Control", "no-store")
	r.Header.Set("Pragma", "no-cache")
	return r, nil
}
