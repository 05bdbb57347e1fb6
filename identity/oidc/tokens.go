package oidc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
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

// idRequest presents a grant to the library's ID-token builder; it
// implements op.AuthRequest so the nonce is included.
type idRequest struct{ g *grant }

func (r *idRequest) GetID() string                         { return "" }
func (r *idRequest) GetACR() string                        { return "" }
func (r *idRequest) GetAMR() []string                      { return r.g.amr }
func (r *idRequest) GetAudience() []string                 { return []string{r.g.client.cfg.ID} }
func (r *idRequest) GetAuthTime() time.Time                { return r.g.authTime }
func (r *idRequest) GetClientID() string                   { return r.g.client.cfg.ID }
func (r *idRequest) GetCodeChallenge() *oidc.CodeChallenge { return nil }
func (r *idRequest) GetNonce() string                      { return r.g.nonce }
func (r *idRequest) GetRedirectURI() string                { return "" }
func (r *idRequest) GetResponseType() oidc.ResponseType    { return oidc.ResponseTypeCode }
func (r *idRequest) GetResponseMode() oidc.ResponseMode    { return oidc.ResponseModeQuery }
func (r *idRequest) GetScopes() []string                   { return r.g.scopes }
func (r *idRequest) GetState() string                      { return "" }
func (r *idRequest) GetSubject() string                    { return r.g.subject }
func (r *idRequest) Done() bool                            { return true }

// privateClaims are the practice claims of ID and access tokens.
func (g *grant) privateClaims() map[string]any {
	c := map[string]any{
		"practice":    g.practice.Slug,
		"practice_id": g.practice.ID,
		"roles":       nonNil(g.eff.Roles),
		"permissions": nonNil(g.eff.Permissions),
	}
	if g.sid != "" {
		c["sid"] = g.sid
	}
	if !g.eff.ElevatedUntil.IsZero() {
		// Emergency access is visible to apps, which may show or log it.
		c["elevated_until"] = g.eff.ElevatedUntil.Unix()
	}
	return c
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
	return p.memberGrantWith(ctx, cl, practiceID, memberID, store.Member{})
}

// memberGrantWith is memberGrant with the member's row already read in the
// same statement as what led to it (known); a known of another ID (the zero
// Member) is read afresh.
func (p *Provider) memberGrantWith(ctx context.Context, cl *client, practiceID, memberID string, known store.Member) (*grant, error) {
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
	}
	if m.Status != store.StatusActive && m.Status != store.StatusLocked {
		return nil, oidc.ErrInvalidGrant().WithDescription("the member can no longer sign in")
	}
	eff, err := p.effective(ctx, m)
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
	key, err := p.keys.Signing(ctx, g.client.cfg.SigningAlg)
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
		resp.IDToken, err = p.idToken(key, g, at, code)
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
	challenge := &oidc.CodeChallenge{Challenge: ap.CodeChallenge, Method: oidc.CodeChallengeMethodS256}
	if err := op.AuthorizeCodeChallenge(r.Data.CodeVerifier, challenge); err != nil {
		return nil, oidc.ErrInvalidGrant().WithDescription("code_verifier is missing or does not match")
	}
	g, err := p.memberGrant(ctx, cl, ar.PracticeID, ar.MemberID)
	if err != nil {
		return nil, err
	}
	g.scopes, g.amr, g.authTime, g.sid, g.nonce = ap.Scopes, ar.AMR, ar.AuthTime, ar.SessionID, ap.Nonce
	g.refresh = slices.Contains(ap.Scopes, oidc.ScopeOfflineAccess) && cl.allowsGrant(oidc.GrantTypeRefreshToken)
	g.familyID = ar.ID
	return p.respond(ctx, g, r.Data.Code)
}

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
	// The member's row comes with the token: one statement, not two.
	t, m, err := p.d.Store.RefreshTokenWithMember(ctx, tokenHash)
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
				burn()
				return nil, oidc.ErrInvalidScope().WithDescription("a refresh cannot add scopes")
			}
		}
		scopes = r.Data.Scopes
	}
	g, err := p.memberGrantWith(ctx, cl, t.PracticeID, t.MemberID, m)
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

// The grants frontdesk does not offer.

// JWTProfile is not offered.
func (s *server) JWTProfile(context.Context, *op.Request[oidc.JWTProfileGrantRequest]) (*op.Response, error) {
	return nil, oidc.ErrUnsupportedGrantType()
}

// TokenExchange is not offered.
func (s *server) TokenExchange(context.Context, *op.ClientRequest[oidc.TokenExchangeRequest]) (*op.Response, error) {
	return nil, oidc.ErrUnsupportedGrantType()
}

// DeviceToken is not offered.
func (s *server) DeviceToken(context.Context, *op.ClientRequest[oidc.DeviceAccessTokenRequest]) (*op.Response, error) {
	return nil, oidc.ErrUnsupportedGrantType()
}

// DeviceAuthorization is not offered.
func (s *server) DeviceAuthorization(context.Context, *op.ClientRequest[oidc.DeviceAuthorizationRequest]) (*op.Response, error) {
	return nil, oidc.ErrUnsupportedGrantType()
}

// verifyAccessToken checks an access token: typ at+jwt, an allowed
// algorithm, our signature, issuer, expiry, and still live
// (store.CheckAccessToken: not revoked, nor its grant; its session, member
// and any emergency access it carries not ended). The admin API makes the
// same liveness check (identity/adminapi).
func (p *Provider) verifyAccessToken(ctx context.Context, token string) (*oidc.AccessTokenClaims, error) {
	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if err != nil || len(jws.Signatures) != 1 {
		return nil, errors.New("oidc: access token malformed")
	}
	typ, _ := jws.Signatures[0].Header.ExtraHeaders[jose.HeaderType].(string)
	if !strings.EqualFold(typ, AccessTokenType) && !strings.EqualFold(typ, "application/"+AccessTokenType) {
		return nil, errors.New("oidc: not an access token")
	}
	claims, err := op.VerifyAccessToken[*oidc.AccessTokenClaims](op.ContextWithIssuer(ctx, p.issuer), token, p.op.AccessTokenVerifier(op.ContextWithIssuer(ctx, p.issuer)))
	if err != nil {
		return nil, fmt.Errorf("oidc: access token: %w", err)
	}
	if err := p.d.Store.CheckAccessToken(ctx, AccessTokenRef(claims), p.d.Now()); err != nil {
		return nil, fmt.Errorf("oidc: access token: %w", err)
	}
	return claims, nil
}

// AccessTokenRef is what the liveness of a verified access token depends on.
func AccessTokenRef(claims *oidc.AccessTokenClaims) store.AccessTokenRef {
	practiceID, _ := claims.Claims["practice_id"].(string)
	sid, _ := claims.Claims["sid"].(string)
	_, elevated := claims.Claims["elevated_until"]
	return store.AccessTokenRef{JTI: claims.JWTID, SessionID: sid, PracticeID: practiceID, Subject: claims.Subject,
		ClientID: claims.ClientID, IssuedAt: claims.IssuedAt.AsTime(), Elevated: elevated}
}

// UserInfo answers with the member's current claims for a valid access token.
func (s *server) UserInfo(ctx context.Context, r *op.Request[oidc.UserInfoRequest]) (*op.Response, error) {
	p := s.p
	claims, err := p.verifyAccessToken(ctx, r.Data.AccessToken)
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
	if err != nil {
		return nil, op.NewStatusError(oidc.ErrAccessDenied().WithDescription("access token invalid"), 401)
	}
	g.scopes = claims.Scopes
	g.sid, _ = claims.Claims["sid"].(string)
	info := &oidc.UserInfo{}
	p.store.fillUserinfo(info, g, claims.Scopes)
	return op.NewResponse(info), nil
}

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
	if claims, err := p.verifyAccessToken(ctx, r.Data.Token); err == nil {
		if claims.ClientID == cl.cfg.ID || slices.Contains(claims.Audience, cl.cfg.ID) {
			resp.Active, resp.Scope, resp.ClientID, resp.TokenType = true, claims.Scopes, claims.ClientID, oidc.BearerToken
			resp.Expiration, resp.IssuedAt, resp.NotBefore = claims.Expiration, claims.IssuedAt, claims.NotBefore
			resp.Subject, resp.Audience, resp.Issuer, resp.JWTID = claims.Subject, claims.Audience, claims.Issuer, claims.JWTID
			resp.AuthTime, resp.AuthenticationMethodsReferences = claims.AuthTime, claims.AuthenticationMethodsReferences
			resp.Claims = claims.Claims
		}
		return op.NewResponse(resp), nil
	}
	if t, err := p.d.Store.RefreshTokenByHash(ctx, hashToken(r.Data.Token)); err == nil {
		now := p.d.Now()
		if t.ClientID == cl.cfg.ID && t.UsedAt.IsZero() && t.RevokedAt.IsZero() && now.Before(t.ExpiresAt) {
			resp.Active, resp.Scope, resp.ClientID, resp.TokenType = true, t.Scopes, t.ClientID, "refresh_token"
			resp.Subject, resp.Expiration, resp.Issuer = t.MemberID, oidc.FromTime(t.ExpiresAt), p.issuer
		}
	}
	return op.NewResponse(resp), nil
}

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
