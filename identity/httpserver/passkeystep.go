package httpserver

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// passkeyStep is what the add-a-passkey page shows. The page appears right
// after a person sets a password (accepting an invitation, replacing a
// temporary password), offering a passkey before they continue; and after a
// password login by a member whose role the practice's login policy
// restricts (Required), who must add a passkey or use an existing one.
type passkeyStep struct {
	// Required: the login policy restricts this session.
	Required bool
	// HasPasskeys: the member already has a passkey (a restricted session
	// may not add another; it must log in with one).
	HasPasskeys bool
	// CanAdd: the session is recent enough to register a passkey.
	CanAdd bool
	// Next is where "Not now" continues (validated), AuthRequest the pending
	// OpenID auth request it continues instead.
	Next        string
	AuthRequest string
	// AfterAdd is where the browser goes once a passkey is added.
	AfterAdd string
	// LoginURL is the practice's login page (with the auth request).
	LoginURL string
	// formOrigin is the one other origin "Not now" may end at (the app's),
	// added to the page's CSP form-action.
	formOrigin string
}

// passkeyStepRoutes mounts the add-a-passkey step.
func (s *Server) passkeyStepRoutes() {
	if s.d.Passkeys == nil {
		return
	}
	s.handle("GET /p/{practice}/add-passkey", http.HandlerFunc(s.passkeyStepPage))
	s.handleForm("POST /p/{practice}/add-passkey/continue", http.HandlerFunc(s.passkeyStepContinue))
}

// passkeyStepURL is the add-a-passkey step continuing to next (a path of the
// practice or an app's landing URL) or to the auth request id. Without
// passkeys it is the destination itself.
func (s *Server) passkeyStepURL(slug, next, authRequest string) string {
	dest := s.continueURL(slug, next, authRequest)
	if s.d.Passkeys == nil {
		return dest
	}
	q := url.Values{}
	if authRequest != "" {
		q.Set("authRequest", authRequest)
	} else if next != "" {
		q.Set("next", next)
	}
	u := "/p/" + url.PathEscape(slug) + "/add-passkey"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// continueURL is where a person goes once the step is over: the pending auth
// request (through the login page, which continues it for a signed-in
// browser), else next when it is one of the practice's own paths or an app's
// landing URL, else the account page. Anything else is ignored, so the
// parameter can never send a browser to a site of an attacker's choosing.
func (s *Server) continueURL(slug, next, authRequest string) string {
	base := "/p/" + url.PathEscape(slug) + "/"
	switch {
	case authRequest != "" && len(authRequest) <= 64:
		return base + "login?authRequest=" + url.QueryEscape(authRequest)
	case next == "" || len(next) > 2048:
		return base
	case practicePath(slug, next):
		return next
	case s.d.Accounts.IsLandingURL(next):
		return next
	}
	return base
}

// practicePath reports whether next is a path of the practice's own pages
// (no scheme, host, "//", backslash, control characters, or "." or ".."
// segments, also percent-encoded, which a browser resolves before it
// follows the redirect), so a redirect to it never leaves frontdesk or the
// practice.
func practicePath(slug, next string) bool {
	base := "/p/" + url.PathEscape(slug) + "/"
	if len(next) > 2048 || !strings.HasPrefix(next, base) || strings.ContainsAny(next, "\\\r\n\t") || strings.Contains(next, "//") {
		return false
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" {
		return false
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// loginNext is where a login returns to: next when it is one of the
// practice's own pages (practicePath), else "" (the account page).
func loginNext(slug, next string) string {
	if practicePath(slug, next) {
		return next
	}
	return ""
}

// stepOrigin is the origin outside this service that the step's forms may
// end at (form-action): an app's landing URL, or the redirect origin of the
// pending auth request.
func (s *Server) stepOrigin(r *http.Request, slug, dest, authRequest string) string {
	if authRequest != "" && s.d.OIDC != nil {
		if lr, err := s.d.OIDC.LoginRequest(r.Context(), r, slug, authRequest); err == nil {
			return lr.RedirectOrigin
		}
		return ""
	}
	if u, err := url.Parse(dest); err == nil && u.Scheme != "" && u.Host != "" {
		return u.Scheme + "://" + u.Host
	}
	return ""
}

// enrolling resolves the session for the step: a regular session or one the
// login policy restricts; a temporary-password session goes to choose a
// password, none to the login page.
func (s *Server) enrolling(w http.ResponseWriter, r *http.Request, p store.Practice) (account.Principal, bool) {
	pr, err := s.d.Accounts.AuthenticateEnrolment(r.Context(), p.Slug, s.sessionToken(r))
	switch {
	case errors.Is(err, account.ErrPasswordChangeRequired):
		http.Redirect(w, r, "/p/"+p.Slug+"/new-password", http.StatusSeeOther)
		return account.Principal{}, false
	case errors.Is(err, account.ErrNoSession):
		http.Redirect(w, r, "/p/"+p.Slug+"/login", http.StatusSeeOther)
		return account.Principal{}, false
	case err != nil:
		s.internalError(w, r, err)
		return account.Principal{}, false
	}
	return pr, true
}

func (s *Server) passkeyStepPage(w http.ResponseWriter, r *http.Request) {
	p, ok := s.practice(w, r)
	if !ok {
		return
	}
	pr, ok := s.enrolling(w, r, p)
	if !ok {
		return
	}
	q := r.URL.Query()
	authRequest := authRequestParam(r)
	next := s.continueURL(p.Slug, q.Get("next"), "")
	if authRequest != "" {
		next = ""
	}
	n, err := s.d.Accounts.PasskeyCount(r.Context(), pr)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	login := "/p/" + p.Slug + "/login"
	if authRequest != "" {
		login += "?authRequest=" + url.QueryEscape(authRequest)
	}
	step := &passkeyStep{Required: pr.StrongLoginRequired, HasPasskeys: pr.StrongLoginRequired && n > 0,
		CanAdd: !s.d.Passkeys.NeedsReauth(pr), Next: next, AuthRequest: authRequest, LoginURL: login}
	if step.Required {
		// The new passkey is then used to log in (a new, unrestricted session).
		sep := "?"
		if authRequest != "" {
			sep = "&"
		}
		step.AfterAdd = login + sep + "passkey_added=1"
	} else {
		step.AfterAdd = s.continueURL(p.Slug, next, authRequest)
	}
	if !step.Required {
		step.formOrigin = s.stepOrigin(r, p.Slug, step.AfterAdd, authRequest)
	}
	data := pageData{Practice: viewPractice(p), Member: viewMember(pr.Member), Step: step}
	s.render(w, r, http.StatusOK, "addpasskey", data)
}

// passkeyStepContinue is "Not now": the person continues without a passkey.
// It works without JavaScript; the form is CSRF-protected like every form.
func (s *Server) passkeyStepContinue(w http.ResponseWriter, r *http.Request) {
	p, ok := s.practice(w, r)
	if !ok || !s.parseForm(w, r, viewPractice(p)) {
		return
	}
	pr, ok := s.enrolling(w, r, p)
	if !ok {
		return
	}
	if pr.StrongLoginRequired {
		// Nothing to continue to: the login policy asks for a passkey.
		http.Redirect(w, r, "/p/"+p.Slug+"/add-passkey", http.StatusSeeOther)
		return
	}
	s.d.Accounts.AuditBestEffort(r.Context(), store.AuditEvent{PracticeID: p.ID, Action: "passkey.offer_declined",
		Outcome: "success", ActorID: pr.Member.ID, SubjectID: pr.Member.ID}, s.meta(r))
	if id := authRequestParam(r); id != "" && s.continueAuthRequest(w, r, pr, id) {
		return
	}
	http.Redirect(w, r, s.continueURL(p.Slug, r.PostForm.Get("next"), ""), http.StatusSeeOther)
}

// Messages of the login policy.
const (
	msgPasskeyAdded = "Your passkey was added. Now log in with it: choose \u201cLog in with a passkey\u201d."
	msgUseStrong    = "Your practice requires members with your role to log in with a passkey or single sign-on. " +
		"Choose \u201cLog in with a passkey\u201d below. If you no longer have your passkey, ask your practice administrator."
	msgStrongNoPasskeys = "Your practice requires members with your role to log in with a passkey or single sign-on, " +
		"which this service does not offer at the moment. Ask your practice administrator."
)

// strongLoginRequired answers a correct password login of a member whose
// role the practice's login policy restricts. No app gets a code. A member
// with a passkey is told to use it (the password session is ended at once);
// one without is signed in to a session that can only add a first passkey,
// and sent to add it.
func (s *Server) strongLoginRequired(w http.ResponseWriter, r *http.Request, pr account.Principal, token, email string) {
	n := 0
	if s.d.Passkeys != nil {
		var err error
		if n, err = s.d.Accounts.PasskeyCount(r.Context(), pr); err != nil {
			_ = s.d.Accounts.Logout(r.Context(), token, s.meta(r))
			s.internalError(w, r, err)
			return
		}
	}
	if s.d.Passkeys != nil && n == 0 {
		s.signIn(w, r, token)
		http.Redirect(w, r, s.passkeyStepURL(pr.Practice.Slug, "", authRequestParam(r)), http.StatusSeeOther)
		return
	}
	if err := s.d.Accounts.Logout(r.Context(), token, s.meta(r)); err != nil {
		s.internalError(w, r, err)
		return
	}
	msg := msgUseStrong
	if s.d.Passkeys == nil {
		msg = msgStrongNoPasskeys
	}
	if len(email) > 254 {
		email = ""
	}
	s.render(w, r, http.StatusForbidden, "login", pageData{Practice: viewPractice(pr.Practice), Error: msg, Email: email})
}
