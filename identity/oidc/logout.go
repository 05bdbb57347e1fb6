package oidc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/invites"
)

// RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0). Any page can
// send a browser to /oauth2/end_session — a link, an image, a top-level
// navigation that carries the SameSite=Lax session cookie — so the request
// alone does not end anything (logout CSRF, F5). It proceeds at once only
// with an id_token_hint that frontdesk signed for the member of this very
// browser session (same sub, and same sid when the hint has one); an
// expired hint is accepted, as the specification asks. Otherwise the
// browser is sent to the practice's logout confirmation page, a
// CSRF-protected form (httpserver), which ends the session when the person
// confirms. Either way the browser is redirected afterwards only to a
// post_logout_redirect_uri registered for the client (client_id, or the
// hint's azp); without one, to the issuer.

// LogoutPagePath is the practice's logout confirmation page and form
// (GET shows it, POST ends the session), relative to the issuer.
func LogoutPagePath(practiceSlug string) string { return "/p/" + practiceSlug + "/logout" }

// Form fields the confirmation page carries to the logout form.
const (
	LogoutClientID    = "client_id"
	LogoutRedirectURI = "post_logout_redirect_uri"
	LogoutState       = "state"
)

// EndSession handles /oauth2/end_session after the library validated the
// request (id_token_hint signature and issuer, client, registered
// post_logout_redirect_uri).
func (s *server) EndSession(ctx context.Context, r *op.Request[oidc.EndSessionRequest]) (*op.Redirect, error) {
	p := s.p
	req := r.Data
	if len(req.State) > 1024 || len(req.PostLogoutRedirectURI) > 2048 || len(req.ClientID) > 256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("parameter too long")
	}
	session, err := op.ValidateEndSessionRequest(ctx, req, s.Provider())
	if err != nil {
		return nil, err
	}
	rd := op.NewRedirect(session.RedirectURI)
	token := cookieFromHeader(r.Header, p.set.SessionCookie)
	if token == "" {
		return rd, nil // nothing to end
	}
	sess, err := p.d.Store.SessionByTokenHash(ctx, invites.HashToken(token))
	if errors.Is(err, store.ErrNotFound) || (err == nil && !sess.EndedAt.IsZero()) {
		rd.Header.Add("Set-Cookie", p.clearSessionCookie())
		return rd, nil
	}
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	if !hintMatches(session.IDTokenHintClaims, sess) {
		pr, err := p.practices.byID(ctx, p.d.Store, sess.PracticeID)
		if err != nil {
			return nil, oidc.ErrServerError().WithParent(err)
		}
		q := url.Values{}
		if session.ClientID != "" {
			q.Set(LogoutClientID, session.ClientID)
			if req.PostLogoutRedirectURI != "" {
				q.Set(LogoutRedirectURI, req.PostLogoutRedirectURI) // validated for the client above
			}
		}
		if req.State != "" {
			q.Set(LogoutState, req.State)
		}
		confirm := p.issuer + LogoutPagePath(pr.Slug)
		if len(q) > 0 {
			confirm += "?" + q.Encode()
		}
		return op.NewRedirect(confirm), nil
	}
	if err := p.EndBrowserSession(ctx, token, account.Meta{UserAgent: r.Header.Get("User-Agent")}); err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	rd.Header.Add("Set-Cookie", p.clearSessionCookie())
	return rd, nil
}

// hintMatches reports whether a verified id_token_hint names the member of
// the browser session (and the session itself when it carries a sid).
func hintMatches(claims any, sess store.Session) bool {
	c, ok := claims.(*oidc.IDTokenClaims)
	if !ok || c == nil || c.Subject == "" || c.Subject != sess.MemberID {
		return false
	}
	return c.SessionID == "" || c.SessionID == sess.ID
}

func (p *Provider) clearSessionCookie() string {
	return (&http.Cookie{Name: p.set.SessionCookie, Value: "", Path: "/", Secure: true,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: -1}).String()
}

// ErrLogoutRedirectInvalid: the client is unknown or the URI is not one of
// its registered post-logout redirect URIs.
var ErrLogoutRedirectInvalid = errors.New("oidc: not a registered post-logout redirect URI of this client")

// LogoutRequest is what the confirmation page shows and carries.
type LogoutRequest struct {
	ClientID    string
	RedirectURI string // "" when none was given
	State       string
}

// CheckLogoutRequest validates the parameters the confirmation page and its
// form carry: the client exists and the redirect URI (if any) is registered
// for it. An empty client ID is a plain logout.
func (p *Provider) CheckLogoutRequest(ctx context.Context, clientID, redirectURI, state string) (LogoutRequest, error) {
	lr := LogoutRequest{ClientID: clientID, RedirectURI: redirectURI, State: state}
	if len(clientID) > 256 || len(redirectURI) > 2048 || len(state) > 1024 {
		return LogoutRequest{}, ErrLogoutRedirectInvalid
	}
	if clientID == "" {
		if redirectURI != "" {
			return LogoutRequest{}, ErrLogoutRedirectInvalid
		}
		return lr, nil
	}
	cl, err := p.lookupClient(ctx, clientID)
	if err != nil {
		return LogoutRequest{}, err
	}
	if cl == nil {
		return LogoutRequest{}, ErrLogoutRedirectInvalid
	}
	if redirectURI != "" {
		if err := op.ValidateEndSessionPostLogoutRedirectURI(redirectURI, cl); err != nil {
			return LogoutRequest{}, fmt.Errorf("%w: %w", ErrLogoutRedirectInvalid, err)
		}
	}
	return lr, nil
}

// Target is where the browser goes after the logout: the registered
// post-logout redirect URI with state, or "" for frontdesk's own page.
func (lr LogoutRequest) Target() string {
	if lr.RedirectURI == "" {
		return ""
	}
	u, err := url.Parse(lr.RedirectURI)
	if err != nil {
		return ""
	}
	if lr.State != "" {
		q := u.Query()
		q.Set("state", lr.State)
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// RedirectOrigin is the origin of Target, for the page's form-action.
func (lr LogoutRequest) RedirectOrigin() string { return originOf(lr.RedirectURI) }
