package oidc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	zcrypto "github.com/zitadel/oidc/v3/pkg/crypto"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/invites"
)

// LogoutTokenType is the typ of back-channel logout tokens.
const LogoutTokenType = "logout+jwt"

const backchannelEvent = "http://schemas.openid.net/event/backchannel-logout"

// EndBrowserSession logs a browser out everywhere: it revokes the refresh
// tokens issued under its session, ends the session, and sends OpenID
// Back-Channel Logout to every app that received tokens under it and
// registered a backchannel_logout_uri. An unknown or ended session is not an
// error.
func (p *Provider) EndBrowserSession(ctx context.Context, sessionToken string, meta account.Meta) error {
	if sessionToken == "" {
		return nil
	}
	sess, err := p.d.Store.SessionByTokenHash(ctx, invites.HashToken(sessionToken))
	found := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("oidc: end session: %w", err)
	}
	if found {
		if _, err := p.d.Store.RevokeSessionRefreshTokens(ctx, sess.ID, p.d.Now()); err != nil {
			return err
		}
	}
	if err := p.d.Accounts.Logout(ctx, sessionToken, meta); err != nil {
		return err
	}
	if found && sess.EndedAt.IsZero() {
		p.backchannelLogout(ctx, sess)
	}
	return nil
}

// MemberDeactivated is the account service's OnDeactivate hook: it revokes
// every refresh token of the member and sends back-channel logout (by sub,
// covering all their sessions) to every app that may hold their tokens.
func (p *Provider) MemberDeactivated(ctx context.Context, practiceID, memberID string) error {
	now := p.d.Now()
	ids, err := p.d.Store.MemberClients(ctx, memberID, now.Add(-p.longestToken))
	if err != nil {
		return err
	}
	if _, err := p.d.Store.RevokeMemberRefreshTokens(ctx, memberID, now); err != nil {
		return err
	}
	p.notify(ctx, ids, store.Session{PracticeID: practiceID, MemberID: memberID})
	return nil
}

// backchannelLogout notifies the apps of a session that ended. Delivery is
// best effort: each app gets one attempt, bounded in time, and failures are
// logged (apps must also honour token expiry).
func (p *Provider) backchannelLogout(ctx context.Context, sess store.Session) {
	ids, err := p.d.Store.SessionClients(ctx, sess.ID)
	if err != nil {
		p.d.Logger.ErrorContext(ctx, "back-channel logout: finding the session's apps failed", "err", err)
		return
	}
	p.notify(ctx, ids, sess)
}

// notify sends a logout token for sess (sid omitted when sess.ID is "") to
// each of the clients — configured or registered apps — that has a
// back-channel logout URI. A removed app is not notified.
func (p *Provider) notify(ctx context.Context, ids []string, sess store.Session) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, id := range ids {
		cl, err := p.lookupClient(ctx, id)
		if err != nil {
			p.d.Logger.WarnContext(ctx, "back-channel logout: looking the app up failed", "client", id, "err", err)
			continue
		}
		if cl == nil || cl.cfg.BackchannelLogoutURI == "" {
			continue
		}
		wg.Go(func() {
			if err := p.sendLogout(ctx, cl, sess); err != nil {
				p.d.Logger.WarnContext(ctx, "back-channel logout not delivered", "client", cl.cfg.ID, "err", err)
			}
		})
	}
	wg.Wait()
}

// logoutClaims are the claims of a logout token (Back-Channel Logout 1.0 §2.4).
type logoutClaims struct {
	Issuer   string         `json:"iss"`
	Subject  string         `json:"sub"`
	Audience []string       `json:"aud"`
	IssuedAt int64          `json:"iat"`
	Expiry   int64          `json:"exp"`
	JWTID    string         `json:"jti"`
	SID      string         `json:"sid,omitempty"`
	Events   map[string]any `json:"events"`
}

func (p *Provider) sendLogout(ctx context.Context, cl *client, sess store.Session) error {
	now := p.d.Now().UTC()
	key, err := p.keys.Signing(ctx, cl.cfg.IDTokenAlg)
	if err != nil {
		return err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: key.alg, Key: &jose.JSONWebKey{Key: key.private, KeyID: key.id}},
		(&jose.SignerOptions{}).WithType(LogoutTokenType))
	if err != nil {
		return fmt.Errorf("oidc: signer: %w", err)
	}
	tok, err := zcrypto.Sign(&logoutClaims{Issuer: p.issuer, Subject: sess.MemberID, Audience: []string{cl.cfg.ID},
		IssuedAt: now.Unix(), Expiry: now.Add(2 * time.Minute).Unix(), JWTID: p.d.NewID(), SID: sess.ID,
		Events: map[string]any{backchannelEvent: map[string]any{}}}, signer)
	if err != nil {
		return fmt.Errorf("oidc: sign logout token: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cl.cfg.BackchannelLogoutURI,
		strings.NewReader(url.Values{"logout_token": {tok}}.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	hc := p.d.HTTPClient
	if cl.registered {
		hc = p.appHTTP // a practice administrator chose the URI: guarded
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("oidc: %s answered %d", cl.cfg.ID, resp.StatusCode)
	}
	return nil
}
