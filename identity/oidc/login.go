package oidc

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// authParams are the protocol parameters of an auth request, stored as JSON.
type authParams struct {
	RedirectURI   string   `json:"redirect_uri"`
	State         string   `json:"state,omitempty"`
	Nonce         string   `json:"nonce,omitempty"`
	Scopes        []string `json:"scopes"`
	CodeChallenge string   `json:"code_challenge"`
	Prompt        []string `json:"prompt,omitempty"`
	MaxAge        *uint    `json:"max_age,omitempty"`
	LoginHint     string   `json:"login_hint,omitempty"`
	PracticeSlug  string   `json:"practice"`
}

func decodeParams(a store.AuthRequest) (authParams, error) {
	var ap authParams
	if err := json.Unmarshal([]byte(a.Params), &ap); err != nil {
		return authParams{}, fmt.Errorf("oidc: auth request %s params: %w", a.ID, err)
	}
	return ap, nil
}

// needsLogin reports whether a session that authenticated at authTime may
// not be reused for this request (prompt=login, or older than max_age).
func (ap authParams) needsLogin(authTime, now time.Time) bool {
	if slices.Contains(ap.Prompt, oidc.PromptLogin) {
		return true
	}
	if ap.MaxAge != nil && now.Sub(authTime) > time.Duration(*ap.MaxAge)*time.Second {
		return true
	}
	return false
}

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

// Authorize handles a validated authorization request (client, scopes,
// response type and redirect URI already checked by the library). It closes
// the library's gaps: exact redirect URIs, PKCE S256 for every client, a
// practice for every request, and binding to this browser. A browser already
// signed in to the practice (and not asked to log in again) goes straight to
// the callback; otherwise to the practice's login page.
func (s *server) Authorize(ctx context.Context, r *op.ClientRequest[oidc.AuthRequest]) (*op.Redirect, error) {
	p := s.p
	req := r.Data
	cl, ok := r.Client.(*client)
	if !ok {
		return nil, oidc.ErrServerError()
	}
	// The library unescapes redirect_uri before comparing; registered URIs
	// match exactly as strings.
	if !slices.Contains(cl.cfg.RedirectURIs, req.RedirectURI) {
		return nil, oidc.ErrInvalidRequestRedirectURI().WithDescription("redirect_uri is not registered for this client")
	}
	if req.ResponseType != oidc.ResponseTypeCode {
		return s.errorRedirect(ctx, req, oidc.ErrInvalidRequest().WithDescription("only response_type=code is offered"))
	}
	if req.ResponseMode != "" && req.ResponseMode != oidc.ResponseModeQuery {
		return s.errorRedirect(ctx, req, oidc.ErrInvalidRequest().WithDescription("only response_mode=query is offered"))
	}
	if req.CodeChallenge == "" {
		return s.errorRedirect(ctx, req, oidc.ErrInvalidRequest().WithDescription("code_challenge is required: use PKCE with S256"))
	}
	if req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return s.errorRedirect(ctx, req, oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256"))
	}
	if !slices.Contains(req.Scopes, oidc.ScopeOpenID) {
		return s.errorRedirect(ctx, req, oidc.ErrInvalidScope().WithDescription("the openid scope is required"))
	}
	slug := r.Form.Get("practice")
	if cl.cfg.Practice != "" {
		if slug != "" && slug != cl.cfg.Practice {
			return s.errorRedirect(ctx, req, oidc.ErrInvalidRequest().WithDescription("this client serves another practice"))
		}
		slug = cl.cfg.Practice
	}
	if slug == "" {
		return s.errorRedirect(ctx, req, oidc.ErrInvalidRequest().WithDescription("the practice parameter is required: add practice=<your practice's slug>"))
	}
	practice, err := p.d.Accounts.Practice(ctx, slug)
	if errors.Is(err, account.ErrPracticeNotFound) {
		return s.errorRedirect(ctx, req, oidc.ErrInvalidRequest().WithDescription("there is no practice with that slug"))
	}
	if err != nil {
		return s.errorRedirect(ctx, req, oidc.ErrServerError().WithParent(err))
	}

	binding := cookieFromHeader(r.Header, BindingCookie)
	if !validBindingValue(binding) {
		binding = p.randomToken(32)
	}
	now := p.d.Now()
	params, err := json.Marshal(authParams{RedirectURI: req.RedirectURI, State: req.State, Nonce: req.Nonce,
		Scopes: req.Scopes, CodeChallenge: req.CodeChallenge, Prompt: req.Prompt, MaxAge: req.MaxAge,
		LoginHint: req.LoginHint, PracticeSlug: practice.Slug})
	if err != nil {
		return s.errorRedirect(ctx, req, oidc.ErrServerError().WithParent(err))
	}
	ar := store.AuthRequest{ID: p.randomToken(24), ClientID: cl.cfg.ID, PracticeID: practice.ID,
		BindingHash: hashToken(binding), Params: string(params), CreatedAt: now, ExpiresAt: now.Add(p.set.AuthRequestTTL)}
	if err := p.d.Store.CreateAuthRequest(ctx, ar); err != nil {
		return s.errorRedirect(ctx, req, oidc.ErrServerError().WithParent(err))
	}

	target := p.issuer + "/p/" + url.PathEscape(practice.Slug) + "/login?authRequest=" + url.QueryEscape(ar.ID)
	pr, authErr := p.d.Accounts.Authenticate(ctx, practice.Slug, cookieFromHeader(r.Header, p.set.SessionCookie))
	ap, _ := decodeParams(ar)
	switch {
	case authErr == nil && !ap.needsLogin(pr.Session.AuthTime, now):
		next, err := p.complete(ctx, ar, binding, pr)
		var perm *PermissionError
		switch {
		case err == nil:
			target = next
		case errors.As(err, &perm) && slices.Contains(req.Prompt, oidc.PromptNone):
			return s.errorRedirect(ctx, req, oidc.ErrAccessDenied().WithDescription("the member lacks the permission this app requires"))
		case errors.As(err, &perm):
			// The login page explains.
		case errors.Is(err, account.ErrStrongLoginRequired) && slices.Contains(req.Prompt, oidc.PromptNone):
			return s.errorRedirect(ctx, req, oidc.ErrLoginRequired().WithDescription("a passkey or single sign-on login is required"))
		case errors.Is(err, account.ErrStrongLoginRequired):
			// The login page asks for a passkey or single sign-on.
		default:
			return s.errorRedirect(ctx, req, oidc.ErrServerError().WithParent(err))
		}
	case slices.Contains(req.Prompt, oidc.PromptNone):
		return s.errorRedirect(ctx, req, oidc.ErrLoginRequired())
	}
	redirect := op.NewRedirect(target)
	redirect.Header.Add("Set-Cookie", (&http.Cookie{Name: BindingCookie, Value: binding, Path: "/", Secure: true,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: int(p.set.AuthRequestTTL / time.Second)}).String())
	return redirect, nil
}

// errorRedirect sends an error to the client's (already validated) redirect
// URI, with iss (RFC 9207).
//
// A failure because the database cannot be reached or cannot save right now
// is temporarily_unavailable (RFC 6749 section 4.1.2.1), not server_error:
// the app may send the person back to log in again shortly.
func (s *server) errorRedirect(ctx context.Context, req *oidc.AuthRequest, e *oidc.Error) (*op.Redirect, error) {
	if e.ErrorType == oidc.ServerError {
		e = authorizeServerError(e)
		if e.ErrorType == oidc.ServerError {
			s.p.d.Logger.ErrorContext(ctx, "authorization request failed", "err", e.Parent)
		} else {
			s.p.d.Logger.WarnContext(ctx, "authorization request failed", "cause", "database unavailable", "err", e.Parent)
		}
	}
	rd, err := op.TryErrorRedirect(ctx, req, e, s.Provider().Encoder(), nil)
	if err != nil || rd == nil {
		return rd, err
	}
	rd.URL = s.p.withIssuer(rd.URL)
	return rd, nil
}

// authorizeServerError turns a server_error whose cause is the database
// being unreachable or unable to save into temporarily_unavailable.
func authorizeServerError(e *oidc.Error) *oidc.Error {
	if e.ErrorType != oidc.ServerError || !(store.IsUnavailable(e.Parent) || store.IsWriteUnavailable(e.Parent)) {
		return e
	}
	return errTemporarilyUnavailable().WithParent(e.Parent).
		WithDescription("frontdesk cannot use its database right now; try again in a minute")
}

// errTemporarilyUnavailable is RFC 6749's temporarily_unavailable, which the
// library has no constructor for.
func errTemporarilyUnavailable() *oidc.Error {
	return &oidc.Error{ErrorType: "temporarily_unavailable"}
}

func (p *Provider) withIssuer(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	q := u.Query()
	q.Set("iss", p.issuer)
	u.RawQuery = q.Encode()
	return u.String()
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
	params         authParams
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
	return LoginRequest{ID: ar.ID, PracticeSlug: slug, ClientID: ar.ClientID, LoginHint: ap.LoginHint,
		RedirectOrigin: origin, params: ap}, nil
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
