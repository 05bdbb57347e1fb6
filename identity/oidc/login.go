package oidc

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// validBindingValue bounds what is accepted from the binding cookie.
func validBindingValue(v string) bool {
	if len(v) < 32 || len(v) > 64 {
		return false
	}
	for _, c := range v {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func cookieFromHeader(h http.Header, name string) string {
	r := http.Request{Header: h}
	c, err := r.Cookie(name)
	if err != nil || len(c.Value) > 256 {
		return ""
	}
	return c.Value
}

// LoginRequest describes a pending auth request to the login page.
type LoginRequest struct {
	ID           string
	PracticeSlug string
	ClientID     string
	// LoginHint prefills the email field.
	LoginHint string
	// RedirectOrigin is the origin of the app's redirect URI; the login form's
	// CSP form-action must allow it, since the form's redirect chain ends there.
	RedirectOrigin string
	// AppName is what the login page calls the app the person is logging in
	// to: a registered app's display name (else its name); "" for a
	// configured client, which has none.
	AppName string
	params  authParams
}

// Reauthenticate reports whether a session that authenticated at authTime
// must log in again for this request (prompt=login, max_age).
func (l LoginRequest) Reauthenticate(authTime, now time.Time) bool {
	return l.params.needsLogin(authTime, now)
}

// Now is the provider's clock.
func (p *Provider) Now() time.Time { return p.d.Now() }

// LoginRequest looks up the auth request id for the login page of the
// practice slug, checking that r comes from the browser that started it.
func (p *Provider) LoginRequest(ctx context.Context, r *http.Request, slug, id string) (LoginRequest, error) {
	ar, _, err := p.boundRequest(ctx, r, id)
	if err != nil {
		return LoginRequest{}, err
	}
	ap, err := decodeParams(ar)
	if err != nil {
		return LoginRequest{}, err
	}
	if ap.PracticeSlug != slug || !ar.DoneAt.IsZero() {
		return LoginRequest{}, ErrAuthRequestInvalid
	}
	origin := ""
	if u, err := url.Parse(ap.RedirectURI); err == nil && u.Scheme != "" && u.Host != "" {
		origin = u.Scheme + "://" + u.Host
	}
	lr := LoginRequest{ID: ar.ID, PracticeSlug: slug, ClientID: ar.ClientID, LoginHint: ap.LoginHint,
		RedirectOrigin: origin, params: ap}
	if cl, err := p.lookupClient(ctx, ar.ClientID); err == nil && cl != nil {
		lr.AppName = cl.name
	}
	return lr, nil
}

// boundRequest loads an open auth request and checks the binding cookie.
func (p *Provider) boundRequest(ctx context.Context, r *http.Request, id string) (store.AuthRequest, string, error) {
	if id == "" || len(id) > 64 {
		return store.AuthRequest{}, "", ErrAuthRequestInvalid
	}
	binding := cookieFromHeader(r.Header, BindingCookie)
	if !validBindingValue(binding) {
		return store.AuthRequest{}, "", ErrAuthRequestInvalid
	}
	ar, err := p.d.Store.AuthRequestByID(ctx, id, p.d.Now())
	if errors.Is(err, store.ErrNotFound) {
		return store.AuthRequest{}, "", ErrAuthRequestInvalid
	}
	if err != nil {
		return store.AuthRequest{}, "", err
	}
	if subtle.ConstantTimeCompare(ar.BindingHash, hashToken(binding)) != 1 {
		return store.AuthRequest{}, "", ErrAuthRequestInvalid
	}
	return ar, binding, nil
}

// CompleteLogin binds the auth request id to the signed-in principal (member,
// practice, session, auth_time, amr) and returns the URL to send the browser
// to next: the library's callback, which issues the code. r must come from
// the browser that started the request.
func (p *Provider) CompleteLogin(ctx context.Context, r *http.Request, id string, pr account.Principal) (string, error) {
	ar, binding, err := p.boundRequest(ctx, r, id)
	if err != nil {
		return "", err
	}
	return p.complete(ctx, ar, binding, pr)
}

func (p *Provider) complete(ctx context.Context, ar store.AuthRequest, binding string, pr account.Principal) (string, error) {
	if pr.Practice.ID != ar.PracticeID || !ar.DoneAt.IsZero() {
		return "", ErrAuthRequestInvalid
	}
	if pr.MustChangePassword || pr.Session.MustChangePassword {
		// Logged in with a temporary password: no app gets a code until a
		// new password is chosen.
		return "", account.ErrPasswordChangeRequired
	}
	if pr.StrongLoginRequired {
		return "", account.ErrStrongLoginRequired
	}
	// The practice's login policy, read now: a member who must log in with a
	// passkey or single sign-on gets no code for a password session, however
	// the session was obtained.
	if err := p.d.Accounts.CheckLoginPolicy(ctx, pr); err != nil {
		return "", err
	}
	cl, err := p.lookupClient(ctx, ar.ClientID)
	if err != nil {
		return "", err
	}
	if cl == nil || cl.practiceID != "" && cl.practiceID != pr.Practice.ID {
		return "", ErrAuthRequestInvalid
	}
	if perm := cl.cfg.RequirePermission; perm != "" {
		eff, err := p.d.Claims.Effective(ctx, pr.Practice.ID, pr.Member.ID)
		if err != nil {
			return "", fmt.Errorf("oidc: effective permissions: %w", err)
		}
		if !roles.Allows(eff.Permissions, perm) {
			return "", &PermissionError{ClientID: cl.cfg.ID, Permission: perm}
		}
	}
	err = p.d.Store.CompleteAuthRequest(ctx, ar.ID, hashToken(binding), pr.Member.ID, pr.Session.ID,
		pr.Session.AuthTime, pr.Session.AMR, p.d.Now())
	if errors.Is(err, store.ErrNotFound) {
		return "", ErrAuthRequestInvalid
	}
	if err != nil {
		return "", err
	}
	return p.issuer + callbackPath + "?id=" + url.QueryEscape(ar.ID), nil
}

// codeResponse is the successful authorization response (with RFC 9207 iss).
type codeResponse struct {
	Code  string `schema:"code"`
	State string `schema:"state,omitempty"`
	Iss   string `schema:"iss"`
}

// callback issues the authorization code for a completed auth request. Only
// the browser that started the request, still signed in with the session
// that completed it, gets the code.
func (p *Provider) callback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ar, _, err := p.boundRequest(ctx, r, r.URL.Query().Get("id"))
	if err == nil && ar.DoneAt.IsZero() {
		err = ErrAuthRequestInvalid
	}
	var ap authParams
	if err == nil {
		ap, err = decodeParams(ar)
	}
	if err == nil {
		var pr account.Principal
		pr, err = p.d.Accounts.Authenticate(ctx, ap.PracticeSlug, cookieFromHeader(r.Header, p.set.SessionCookie))
		if err == nil && pr.Session.ID != ar.SessionID {
			err = ErrAuthRequestInvalid
		} else if errors.Is(err, account.ErrNoSession) {
			err = ErrAuthRequestInvalid
		}
	}
	if errors.Is(err, ErrAuthRequestInvalid) {
		http.Error(w, "This login request has expired or was started in another browser. Go back to the app and start again.", http.StatusBadRequest)
		return
	}
	if err != nil {
		p.d.Logger.ErrorContext(ctx, "authorization callback failed", "err", err)
		http.Error(w, "Something went wrong on our side. Please try again in a moment.", http.StatusInternalServerError)
		return
	}
	code := p.randomToken(32)
	now := p.d.Now()
	if err := p.d.Store.SetAuthCode(ctx, ar.ID, hashToken(code), now.Add(p.set.CodeTTL), now); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			http.Error(w, "This login request was already used. Go back to the app and start again.", http.StatusBadRequest)
			return
		}
		p.d.Logger.ErrorContext(ctx, "storing authorization code failed", "err", err)
		http.Error(w, "Something went wrong on our side. Please try again in a moment.", http.StatusInternalServerError)
		return
	}
	target, err := op.AuthResponseURL(ap.RedirectURI, oidc.ResponseTypeCode, oidc.ResponseModeQuery,
		&codeResponse{Code: code, State: ap.State, Iss: p.issuer}, p.op.Encoder())
	if err != nil {
		p.d.Logger.ErrorContext(ctx, "building authorization response failed", "err", err)
		http.Error(w, "Something went wrong on our side. Please try again in a moment.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, target, http.StatusSeeOther)
}
