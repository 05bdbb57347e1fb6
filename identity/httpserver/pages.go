package httpserver

import (
	"cmp"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/oidc"
	"github.com/frontdeskhq/frontdesk/identity/password"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/lockout"
)

// Messages people see. Each says what to do next and none reveals whether an
// account exists.
const (
	msgBadLogin = "That email and password don't match an account that can log in here. " +
		"Check both and try again. If you still can't log in, ask your practice administrator."
	msgUnavailable  = "Logging in is not possible for a moment. Please try again in a minute."
	msgBusy         = "Too many sign-ins to this account at once — try again in a moment."
	msgLinkInvalid  = "This link has expired or was already used. Ask your practice administrator to send you a new one."
	msgMismatch     = "The two new passwords are not the same. Type the same password in both boxes."
	msgWrongCurrent = "Your current password is not right. Type the password you use now, or log out and ask your practice administrator for help."
	msgSame         = "Your new password is the same as your current one. Choose a different password."
	msgBadForm      = "The form could not be read. Reload the page and try again."
)

type practiceView struct {
	Name string
	Slug string
}

type memberView struct {
	Name  string
	Email string
	Roles []string
}

type nextLink struct {
	URL   string
	Label string
}

type pageData struct {
	Practice  *practiceView
	Member    *memberView
	Error     string
	Notice    string
	Email     string
	Token     string
	MinLength int
	AuthTime  string
	Method    string
	Title     string
	Message   string
	Next      *nextLink
	// AuthRequest is the pending OpenID auth request the login form carries.
	AuthRequest string
	// LoginNext is the practice's page the login form returns to (loginNext).
	LoginNext string
	// AppName names the registered app a login is for (oidc.LoginRequest).
	AppName string
	// PasskeysEnabled shows the passkey controls (login page, account).
	PasskeysEnabled bool
	// Passkeys are the signed-in member's passkeys (passkeys page).
	Passkeys []passkeyView
	// NeedsReauth asks for the password before passkeys can be changed.
	NeedsReauth bool
	// SSOButtons are the practice's single sign-on providers (login,
	// invitation and single sign-on pages); SSOLinked the member's linked
	// accounts; SSOEnabled shows the account page's link.
	SSOButtons []ssoButton
	SSOLinked  []ssoLinkedView
	SSOEnabled bool
	// AdminURL links the account page to the administrator's console (the
	// first page the member may open); "" for members who administer nothing.
	AdminURL string
	// Step is the add-a-passkey step (addpasskey page).
	Step *passkeyStep
	// Logout is the app's logout request the confirmation page carries.
	Logout *oidc.LogoutRequest
	// Home is the staff home's own data (home.go).
	Home *homeView
}

func viewPractice(p store.Practice) *practiceView { return &practiceView{Name: p.Name, Slug: p.Slug} }

func viewMember(m store.Member) *memberView {
	name := m.DisplayName
	if name == "" {
		name = m.LegalName
	}
	if name == "" {
		name = m.Email
	}
	return &memberView{Name: name, Email: m.Email, Roles: m.Roles}
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, page string, data pageData) {
	s.decoratePasskeys(w, page, &data)
	s.decorateSSO(r, page, &data)
	if page == "login" {
		s.decorateLogin(w, r, &data)
	}
	body, err := s.d.Pages.Render(page, data)
	if err != nil {
		s.log(r).ErrorContext(r.Context(), "render page", "page", page, "err", err)
		http.Error(w, "Something went wrong on our side. Please try again in a moment.", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func (s *Server) message(w http.ResponseWriter, r *http.Request, status int, p *practiceView, title, msg string, next *nextLink) {
	s.render(w, r, status, "message", pageData{Practice: p, Title: title, Message: msg, Next: next})
}

// practice resolves the {practice} path value, answering 404 itself when there
// is no such practice.
func (s *Server) practice(w http.ResponseWriter, r *http.Request) (store.Practice, bool) {
	p, err := s.d.Accounts.Practice(r.Context(), r.PathValue("practice"))
	switch {
	case errors.Is(err, account.ErrPracticeNotFound):
		s.message(w, r, http.StatusNotFound, nil, "Practice not found",
			"There is no practice at this address. Check the login link your practice gave you.", nil)
		return store.Practice{}, false
	case err != nil:
		s.internalError(w, r, err)
		return store.Practice{}, false
	}
	return p, true
}

// msgCannotSave is the answer while the database refuses writes (a full or
// read-only disk): nothing was saved, and the same request works once the
// operator has fixed it.
const msgCannotSave = "frontdesk is temporarily unable to save changes, so nothing was changed. " +
	"Please try again in a few minutes; if this keeps happening, tell your practice administrator."

func (s *Server) internalError(w http.ResponseWriter, r *http.Request, err error) {
	if cause := store.WriteFailCause(err); cause != "" {
		s.log(r).ErrorContext(r.Context(), "request failed", "cause", "database cannot save: "+cause, "err", err)
		w.Header().Set("Retry-After", "60")
		s.message(w, r, http.StatusServiceUnavailable, nil, "Temporarily unable to save", msgCannotSave, nil)
		return
	}
	if store.IsUnavailable(err) {
		// The database is down or restarting: say so, and when to retry.
		s.log(r).WarnContext(r.Context(), "request failed", "cause", "database unavailable", "err", err)
		w.Header().Set("Retry-After", "5")
		s.message(w, r, http.StatusServiceUnavailable, nil, "Temporarily unavailable",
			"frontdesk cannot reach its database right now and nothing was changed. Please try again in a minute.", nil)
		return
	}
	s.log(r).ErrorContext(r.Context(), "request failed", "err", err)
	s.message(w, r, http.StatusInternalServerError, nil, "Something went wrong",
		"Something went wrong on our side and nothing was changed. Please try again in a moment.", nil)
}

// parseForm reads a urlencoded form body (bounded by limitBody).
func (s *Server) parseForm(w http.ResponseWriter, r *http.Request, p *practiceView) bool {
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.message(w, r, http.StatusRequestEntityTooLarge, p, "Request too large",
				"What was sent is larger than this page accepts. Go back and try again with shorter entries.", nil)
			return false
		}
		s.message(w, r, http.StatusBadRequest, p, "Form not readable", msgBadForm, nil)
		return false
	}
	return true
}

func (s *Server) sessionToken(r *http.Request) string {
	c, err := r.Cookie(SessionCookie)
	if err != nil || len(c.Value) > 128 {
		return ""
	}
	return c.Value
}

func (s *Server) setSessionCookie(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: token, Path: "/", Secure: true, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, MaxAge: int(s.d.SessionLifetime / time.Second)})
}

func (s *Server) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", Secure: true, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// signIn ends whatever session this browser had (so a planted or old session
// never survives a login), then sets the new session's cookie.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request, token string) {
	if old := s.sessionToken(r); old != "" {
		if err := s.d.Accounts.Logout(r.Context(), old, s.meta(r)); err != nil {
			s.log(r).WarnContext(r.Context(), "ending the previous session failed", "err", err)
		}
	}
	s.setSessionCookie(w, token)
}

// signOut ends whatever session this browser had and clears its cookie.
func (s *Server) signOut(w http.ResponseWriter, r *http.Request) {
	if old := s.sessionToken(r); old != "" {
		if err := s.d.Accounts.Logout(r.Context(), old, s.meta(r)); err != nil {
			s.log(r).WarnContext(r.Context(), "ending the previous session failed", "err", err)
		}
		s.clearSessionCookie(w)
	}
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	p, ok := s.practice(w, r)
	if !ok {
		return
	}
	if id := authRequestParam(r); id != "" && s.d.OIDC != nil {
		s.oidcLoginPage(w, r, p, id)
		return
	}
	next := loginNext(p.Slug, r.URL.Query().Get("next"))
	if _, err := s.d.Accounts.Authenticate(r.Context(), p.Slug, s.sessionToken(r)); err == nil {
		// Already signed in (in another tab, say): straight on.
		http.Redirect(w, r, cmp.Or(next, "/p/"+p.Slug+"/"), http.StatusSeeOther)
		return
	}
	data := pageData{Practice: viewPractice(p), LoginNext: next}
	if r.URL.Query().Get("signed_out") == "1" {
		data.Notice = "You have logged out."
	}
	if r.URL.Query().Get("passkey_added") == "1" {
		data.Notice = msgPasskeyAdded
	}
	if r.URL.Query().Get("reset") == "1" {
		data.Notice = msgResetDone
	}
	s.render(w, r, http.StatusOK, "login", data)
}

func (s *Server) loginSubmit(w http.ResponseWriter, r *http.Request) {
	p, ok := s.practice(w, r)
	if !ok {
		return
	}
	pv := viewPractice(p)
	if !s.parseForm(w, r, pv) {
		return
	}
	email, pw := r.PostForm.Get("email"), r.PostForm.Get("password")
	next := loginNext(p.Slug, r.PostForm.Get("next"))
	pr, token, err := s.d.Accounts.Login(r.Context(), p.Slug, email, pw, s.meta(r))
	switch {
	case err == nil:
		if pr.StrongLoginRequired {
			s.strongLoginRequired(w, r, pr, token, email)
			return
		}
		s.signIn(w, r, token)
		if pr.MustChangePassword {
			// A temporary password: choose a new one before anything else;
			// no app gets a code for this session. The pending auth request
			// goes along.
			dest := "/p/" + p.Slug + "/new-password"
			if id := authRequestParam(r); id != "" {
				dest += "?authRequest=" + url.QueryEscape(id)
			}
			http.Redirect(w, r, dest, http.StatusSeeOther)
			return
		}
		if s.continueAuthRequest(w, r, pr, authRequestParam(r)) {
			return
		}
		http.Redirect(w, r, cmp.Or(next, "/p/"+p.Slug+"/"), http.StatusSeeOther)
	case errors.Is(err, account.ErrInvalidCredentials):
		if len(email) > 254 {
			email = ""
		}
		s.render(w, r, http.StatusUnauthorized, "login", pageData{Practice: pv, Error: msgBadLogin, Email: email, LoginNext: next})
	case errors.Is(err, lockout.ErrThrottled):
		retry := "60"
		if te, ok := errors.AsType[*lockout.ThrottledError](err); ok {
			retry = te.RetryAfterSeconds()
		}
		w.Header().Set("Retry-After", retry)
		if len(email) > 254 {
			email = ""
		}
		s.render(w, r, http.StatusTooManyRequests, "login", pageData{Practice: pv, Email: email, LoginNext: next,
			Error: "Too many failed logins came from your network. Wait " + retry + " seconds, then try again."})
	case errors.Is(err, account.ErrBusy):
		// Other attempts at this address are in flight: nothing was
		// counted, so trying again shortly is the whole remedy.
		w.Header().Set("Retry-After", "1")
		s.render(w, r, http.StatusServiceUnavailable, "login", pageData{Practice: pv, Error: msgBusy, Email: email, LoginNext: next})
	case errors.Is(err, account.ErrUnavailable):
		w.Header().Set("Retry-After", "30")
		s.render(w, r, http.StatusServiceUnavailable, "login", pageData{Practice: pv, Error: msgUnavailable, Email: email, LoginNext: next})
	default:
		s.internalError(w, r, err)
	}
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	pr, ok := s.signedIn(w, r)
	if !ok {
		return
	}
	data := pageData{Practice: viewPractice(pr.Practice), Member: viewMember(pr.Member),
		AuthTime: pr.Session.AuthTime.Format("Mon 2 Jan 2006 15:04 MST"), Method: methodName(pr.Session.AMR)}
	if r.URL.Query().Get("changed") == "1" {
		data.Notice = "Your password has been changed. Other devices where you were logged in have been logged out."
	}
	if s.d.AdminStore != nil && s.d.AdminRoles != nil {
		data.AdminURL = s.nav(r, pr).First(pr.Practice.Slug)
	}
	data.Home = s.homeData(r, pr)
	s.render(w, r, http.StatusOK, "home", data)
}

func methodName(amr []string) string {
	if len(amr) > 0 && amr[0] == account.MethodPassword {
		return "password"
	}
	if len(amr) > 0 && amr[0] == account.MethodHardwareKey {
		return "passkey"
	}
	if len(amr) > 0 && amr[0] == account.MethodFederated {
		return "single sign-on"
	}
	return "unknown method"
}

// signedIn resolves the session for the practice in the path, redirecting to
// the practice's login page when there is none.
func (s *Server) signedIn(w http.ResponseWriter, r *http.Request) (account.Principal, bool) {
	p, ok := s.practice(w, r)
	if !ok {
		return account.Principal{}, false
	}
	pr, err := s.d.Accounts.Authenticate(r.Context(), p.Slug, s.sessionToken(r))
	switch {
	case errors.Is(err, account.ErrPasswordChangeRequired):
		http.Redirect(w, r, "/p/"+p.Slug+"/new-password", http.StatusSeeOther)
		return account.Principal{}, false
	case errors.Is(err, account.ErrStrongLoginRequired) && s.d.Passkeys != nil:
		http.Redirect(w, r, "/p/"+p.Slug+"/add-passkey", http.StatusSeeOther)
		return account.Principal{}, false
	case errors.Is(err, account.ErrNoSession):
		http.Redirect(w, r, loginURL(p.Slug, r), http.StatusSeeOther)
		return account.Principal{}, false
	case err != nil:
		s.internalError(w, r, err)
		return account.Principal{}, false
	}
	return pr, true
}

// loginURL is the practice's login page for a browser without a session.
// A page of the practice other than the account page (a console page, say,
// reached from a lockout or acceptance mail) comes back as next, so logging
// in returns there rather than to the account page.
func loginURL(slug string, r *http.Request) string {
	login := "/p/" + url.PathEscape(slug) + "/login"
	if r.Method != http.MethodGet {
		return login
	}
	if next := r.URL.RequestURI(); next != "/p/"+url.PathEscape(slug)+"/" && practicePath(slug, next) {
		return login + "?next=" + url.QueryEscape(next)
	}
	return login
}

// logoutPage asks a signed-in person to confirm a logout an app asked for
// (RP-initiated logout without a valid id_token_hint, identity/oidc
// logout.go): a link alone never ends a session. The form carries the
// app's validated client_id, post_logout_redirect_uri and state.
func (s *Server) logoutPage(w http.ResponseWriter, r *http.Request) {
	p, ok := s.practice(w, r)
	if !ok {
		return
	}
	lr, ok := s.logoutRequest(w, r, p, r.URL.Query())
	if !ok {
		return
	}
	pr, err := s.d.Accounts.Authenticate(r.Context(), p.Slug, s.sessionToken(r))
	if errors.Is(err, account.ErrNoSession) {
		// Nothing to end: go where the logout would have gone.
		if t := lr.Target(); t != "" {
			http.Redirect(w, r, t, http.StatusSeeOther)
			return
		}
		http.Redirect(w, r, "/p/"+p.Slug+"/login?signed_out=1", http.StatusSeeOther)
		return
	}
	data := pageData{Practice: viewPractice(p), Logout: &lr}
	if err == nil {
		data.Member = viewMember(pr.Member)
	}
	if o := lr.RedirectOrigin(); o != "" {
		// The form's answer redirects to the app: allow its origin as a
		// form-action target, on this page only.
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; "+
			"form-action 'self' "+o+"; frame-ancestors 'none'; base-uri 'none'")
	}
	s.render(w, r, http.StatusOK, "logout", data)
}

// logoutRequest reads and checks the app's logout parameters from v (the
// confirmation page's query or the logout form). It answers the request
// itself when they are not valid.
func (s *Server) logoutRequest(w http.ResponseWriter, r *http.Request, p store.Practice, v url.Values) (oidc.LogoutRequest, bool) {
	clientID, uri, state := v.Get(oidc.LogoutClientID), v.Get(oidc.LogoutRedirectURI), v.Get(oidc.LogoutState)
	if s.d.OIDC == nil || (clientID == "" && uri == "" && state == "") {
		return oidc.LogoutRequest{}, true
	}
	lr, err := s.d.OIDC.CheckLogoutRequest(r.Context(), clientID, uri, state)
	if errors.Is(err, oidc.ErrLogoutRedirectInvalid) {
		s.message(w, r, http.StatusBadRequest, viewPractice(p), "Logout link not valid",
			"This logout link names an app or return address that is not registered here. Nothing was changed. "+
				"To log out, use the Log out button on your account page.",
			&nextLink{URL: "/p/" + p.Slug + "/", Label: "Go to your account"})
		return oidc.LogoutRequest{}, false
	}
	if err != nil {
		s.internalError(w, r, err)
		return oidc.LogoutRequest{}, false
	}
	return lr, true
}

// logout ends the browser's session (the account page's button, or the
// confirmation of an app's logout request, whose registered return address
// the browser is then sent to).
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	p, ok := s.practice(w, r)
	if !ok {
		return
	}
	if !s.parseForm(w, r, viewPractice(p)) {
		return
	}
	lr, ok := s.logoutRequest(w, r, p, r.PostForm)
	if !ok {
		return
	}
	end := s.d.Accounts.Logout
	if s.d.OIDC != nil {
		end = s.d.OIDC.EndBrowserSession // also revokes its refresh tokens and tells the apps
	}
	if err := end(r.Context(), s.sessionToken(r), s.meta(r)); err != nil {
		s.internalError(w, r, err)
		return
	}
	s.clearSessionCookie(w)
	if t := lr.Target(); t != "" {
		http.Redirect(w, r, t, http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/p/"+p.Slug+"/login?signed_out=1", http.StatusSeeOther)
}

func (s *Server) passwordPage(w http.ResponseWriter, r *http.Request) {
	pr, ok := s.signedIn(w, r)
	if !ok {
		return
	}
	s.render(w, r, http.StatusOK, "password", pageData{Practice: viewPractice(pr.Practice), Member: viewMember(pr.Member),
		MinLength: s.d.Accounts.MinPasswordLength()})
}

func (s *Server) passwordSubmit(w http.ResponseWriter, r *http.Request) {
	pr, ok := s.signedIn(w, r)
	if !ok {
		return
	}
	data := pageData{Practice: viewPractice(pr.Practice), Member: viewMember(pr.Member), MinLength: s.d.Accounts.MinPasswordLength()}
	if !s.parseForm(w, r, data.Practice) {
		return
	}
	f := r.PostForm
	err := s.d.Accounts.ChangePassword(r.Context(), pr, f.Get("password"), f.Get("new_password"), f.Get("confirm_password"), s.meta(r))
	if err == nil {
		http.Redirect(w, r, "/p/"+pr.Practice.Slug+"/?changed=1", http.StatusSeeOther)
		return
	}
	status, msg := http.StatusBadRequest, ""
	var violation *password.Violation
	switch {
	case errors.As(err, &violation):
		msg = violation.Reason
	case errors.Is(err, account.ErrPasswordMismatch):
		msg = msgMismatch
	case errors.Is(err, account.ErrWrongPassword):
		status, msg = http.StatusUnauthorized, msgWrongCurrent
	case errors.Is(err, account.ErrSamePassword):
		msg = msgSame
	case errors.Is(err, account.ErrBusy):
		w.Header().Set("Retry-After", "1")
		status, msg = http.StatusServiceUnavailable, msgBusy
	case errors.Is(err, account.ErrUnavailable):
		status, msg = http.StatusServiceUnavailable, msgUnavailable
	default:
		s.internalError(w, r, err)
		return
	}
	data.Error = msg
	s.render(w, r, status, "password", data)
}
