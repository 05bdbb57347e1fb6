package oidc

import (
	"context"
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
	// Claims is what the claims and acr_values parameters asked for.
	Claims claimsRequest `json:"claims,omitzero"`
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
	// Request objects are not supported (discovery says so): the error goes
	// back to the client with its state (Core 6.1, 6.2).
	if r.Form.Get("request") != "" {
		return s.errorRedirect(ctx, req, oidc.ErrRequestNotSupported().WithDescription("request objects are not supported; send the parameters in the query"))
	}
	if r.Form.Get("request_uri") != "" {
		return s.errorRedirect(ctx, req, (&oidc.Error{ErrorType: "request_uri_not_supported"}).WithDescription("request_uri is not supported; send the parameters in the query"))
	}
	switch {
	case req.CodeChallenge == "" && cl.cfg.PKCEOptional:
		// A confidential client the operator exempted from PKCE
		// (require_pkce: false) binds its code to the login with a nonce.
		if req.Nonce == "" {
			return s.errorRedirect(ctx, req, oidc.ErrInvalidRequest().WithDescription("nonce is required when PKCE is not used"))
		}
	case req.CodeChallenge == "":
		return s.errorRedirect(ctx, req, oidc.ErrInvalidRequest().WithDescription("code_challenge is required: use PKCE with S256"))
	case req.CodeChallengeMethod != oidc.CodeChallengeMethodS256:
		return s.errorRedirect(ctx, req, oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256"))
	}
	if !slices.Contains(req.Scopes, oidc.ScopeOpenID) {
		return s.errorRedirect(ctx, req, oidc.ErrInvalidScope().WithDescription("the openid scope is required"))
	}
	claims, err := parseClaimsRequest(r.Form.Get("claims"), cl.IsScopeAllowed)
	if err != nil {
		var oe *oidc.Error
		if errors.As(err, &oe) {
			return s.errorRedirect(ctx, req, oe)
		}
		return s.errorRedirect(ctx, req, oidc.ErrInvalidRequest().WithParent(err))
	}
	if len(req.ACRValues) > 0 {
		claims.ACR = true
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
		LoginHint: req.LoginHint, PracticeSlug: practice.Slug, Claims: claims})
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

// VerifyAuthRequest lets a request with a request object through to
// Authorize, which answers it with request_not_supported at the client's
// redirect URI (the library would show an error page instead, leaving the
// client waiting). The request object itself is never read.
//
// A request without redirect_uri is refused here as invalid_request (a 400
// page), where the library would answer it with a 500 server_error.
func (s *server) VerifyAuthRequest(ctx context.Context, r *op.Request[oidc.AuthRequest]) (*op.ClientRequest[oidc.AuthRequest], error) {
	r.Data.RequestParam = ""
	if r.Data.RedirectURI == "" {
		return nil, oidc.ErrInvalidRequest().WithDescription("redirect_uri is required")
	}
	return s.LegacyServer.VerifyAuthRequest(ctx, r)
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
