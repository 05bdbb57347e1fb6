package oidc

import (
	"context"
	"errors"
	"fmt"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/frontdeskhq/frontdesk/identity/store"
)

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
