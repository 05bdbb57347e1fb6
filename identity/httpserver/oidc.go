package httpserver

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/oidc"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

const msgAuthRequestInvalid = "This login request has expired or was started in another browser. " +
	"Go back to the app and start the login again."

// oidcRoutes mounts the OpenID provider: the discovery document and every
// endpoint under /oauth2/ (authorize, token, userinfo, introspection,
// revocation, logout, keys). They pass through the same middleware as every
// other route; none of them is a CSRF-protected form (the token endpoints
// are called by app back ends with client credentials).
func (s *Server) oidcRoutes() {
	if s.d.OIDC == nil {
		return
	}
	s.handle("GET "+oidc.DiscoveryPath, s.d.OIDC)
	s.handle("OPTIONS "+oidc.DiscoveryPath, s.d.OIDC) // CORS preflight (identity/oidc/cors.go)
	s.handle(oidc.PathPrefix, s.d.OIDC)
}

// authRequestParam returns the authRequest value of the request (query on
// GET, form on POST), or "" when absent or implausible.
func authRequestParam(r *http.Request) string {
	v := r.URL.Query().Get("authRequest")
	if r.Method == http.MethodPost && r.PostForm != nil {
		v = r.PostForm.Get("authRequest")
	}
	if len(v) > 64 {
		return ""
	}
	return v
}

// decorateLogin carries a pending auth request through the login page: the
// hidden authRequest input, the name of a registered app, and a CSP whose form-action also allows the app's
// redirect origin. A form submission's redirects are checked against
// form-action, and a successful login ends with a redirect (through our own
// callback) to the app; only the origin of this request's registered,
// already validated redirect URI is added, and only on this page.
func (s *Server) decorateLogin(w http.ResponseWriter, r *http.Request, data *pageData) {
	if s.d.OIDC == nil || data.Practice == nil {
		return
	}
	id := authRequestParam(r)
	if id == "" {
		return
	}
	lr, err := s.d.OIDC.LoginRequest(r.Context(), r, data.Practice.Slug, id)
	if err != nil {
		return
	}
	data.AuthRequest, data.AppName = lr.ID, lr.AppName
	if lr.RedirectOrigin != "" {
		scripts := "script-src 'self'; " // /static/password-toggle.js
		if data.PasskeysEnabled {
			scripts = "script-src 'self'; connect-src 'self'; " // and /static/passkeys.js with its fetches
		}
		w.Header().Set("Content-Security-Policy", "default-src 'none'; "+scripts+"style-src 'self'; img-src 'self'; "+
			"form-action 'self' "+lr.RedirectOrigin+"; frame-ancestors 'none'; base-uri 'none'")
	}
}

// oidcLoginPage is the login page of a pending auth request: a browser
// already signed in to the practice (and not asked to log in again) goes
// on to the app; otherwise the form is shown, email prefilled from
// login_hint.
func (s *Server) oidcLoginPage(w http.ResponseWriter, r *http.Request, p store.Practice, id string) {
	lr, err := s.d.OIDC.LoginRequest(r.Context(), r, p.Slug, id)
	if errors.Is(err, oidc.ErrAuthRequestInvalid) {
		s.message(w, r, http.StatusBadRequest, viewPractice(p), "Login request expired", msgAuthRequestInvalid, nil)
		return
	}
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	if pr, err := s.d.Accounts.Authenticate(r.Context(), p.Slug, s.sessionToken(r)); err == nil &&
		!lr.Reauthenticate(pr.Session.AuthTime, s.d.OIDC.Now()) {
		if s.continueAuthRequest(w, r, pr, id) {
			return
		}
	}
	email := lr.LoginHint
	if len(email) > 254 {
		email = ""
	}
	data := pageData{Practice: viewPractice(p), Email: email}
	if r.URL.Query().Get("passkey_added") == "1" {
		data.Notice = msgPasskeyAdded
	}
	s.render(w, r, http.StatusOK, "login", data)
}

// continueAuthRequest finishes the pending auth request id (if any) for the
// signed-in principal and redirects to the provider's callback. It reports
// whether it answered the request.
func (s *Server) continueAuthRequest(w http.ResponseWriter, r *http.Request, pr account.Principal, id string) bool {
	if s.d.OIDC == nil || id == "" {
		return false
	}
	next, err := s.d.OIDC.CompleteLogin(r.Context(), r, id, pr)
	var perm *oidc.PermissionError
	switch {
	case err == nil:
		http.Redirect(w, r, next, http.StatusSeeOther)
	case errors.As(err, &perm):
		s.message(w, r, http.StatusForbidden, viewPractice(pr.Practice), "No access to this app",
			"You are logged in, but your account at "+pr.Practice.Name+" does not include access to this app (it requires the permission "+
				perm.Permission+"). Ask your practice administrator to give you access, then try again.",
			&nextLink{URL: "/p/" + pr.Practice.Slug + "/", Label: "Go to your account"})
	case errors.Is(err, account.ErrPasswordChangeRequired):
		http.Redirect(w, r, "/p/"+pr.Practice.Slug+"/new-password?authRequest="+url.QueryEscape(id), http.StatusSeeOther)
	case errors.Is(err, account.ErrStrongLoginRequired):
		http.Redirect(w, r, s.passkeyStepURL(pr.Practice.Slug, "", id), http.StatusSeeOther)
	case errors.Is(err, oidc.ErrAuthRequestInvalid):
		s.message(w, r, http.StatusBadRequest, viewPractice(pr.Practice), "Login request expired", msgAuthRequestInvalid,
			&nextLink{URL: "/p/" + pr.Practice.Slug + "/", Label: "Go to your account"})
	default:
		s.internalError(w, r, err)
	}
	return true
}
