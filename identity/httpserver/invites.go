package httpserver

import (
	"errors"
	"net/http"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/onboarding"
	"github.com/frontdeskhq/frontdesk/identity/password"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// Messages of the onboarding pages. None reveals whether an account exists.
const (
	msgInviteInvalid = "This invitation link can't be used: it has expired, was replaced by a newer invitation, " +
		"was withdrawn, or was already used. If you already set your password, log in. Otherwise ask your practice " +
		"administrator to send you a new invitation."
	msgResetInvalid = "This password reset link can't be used: it has expired, was replaced by a newer one, or was " +
		"already used. Ask for a new link below; it arrives within a minute."
	msgResetSent = "If that address belongs to an account here, we have emailed it a link to choose a new password. " +
		"The link works once and expires soon. No email? Check the spam folder, wait a minute and try again, " +
		"or ask your practice administrator."
)

// onboardingRoutes registers the invitation, forgot-password, reset and
// set-new-password pages.
func (s *Server) onboardingRoutes() {
	s.handle("GET /p/{practice}/invite", s.linkFormPage(s.inviteForm()))
	s.handleForm("POST /p/{practice}/invite", s.linkFormSubmit(s.inviteForm()))
	s.handle("GET /p/{practice}/forgot", http.HandlerFunc(s.forgotPage))
	s.handleForm("POST /p/{practice}/forgot", http.HandlerFunc(s.forgotSubmit))
	s.handle("GET /p/{practice}/reset", s.linkFormPage(s.resetForm()))
	s.handleForm("POST /p/{practice}/reset", s.linkFormSubmit(s.resetForm()))
	s.handle("GET /p/{practice}/new-password", http.HandlerFunc(s.newPasswordPage))
	s.handleForm("POST /p/{practice}/new-password", http.HandlerFunc(s.newPasswordSubmit))
}

// passwordError turns a rejected new password into the message to show, or
// "" when err is something else.
func passwordError(err error) string {
	var violation *password.Violation
	switch {
	case errors.As(err, &violation):
		return violation.Reason
	case errors.Is(err, account.ErrPasswordMismatch):
		return msgMismatch
	case errors.Is(err, account.ErrSamePassword):
		return "Your new password must be different from the temporary one. Choose a password of your own."
	}
	return ""
}

// linkRefused answers an unusable link with a page saying what to do next.
func (s *Server) linkRefused(w http.ResponseWriter, r *http.Request, p store.Practice, err error, msg string, next *nextLink) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, account.ErrLinkInvalid):
		s.message(w, r, http.StatusGone, viewPractice(p), "This link can't be used", msg, next)
	case errors.Is(err, onboarding.ErrPasskeyRequired):
		s.message(w, r, http.StatusForbidden, viewPractice(p), "Log in with your passkey",
			"Your account has a passkey, so an emailed link cannot replace it. Log in with your passkey; "+
				"if you no longer have it, ask your practice administrator for a temporary password.", loginLink(p.Slug))
	default:
		s.internalError(w, r, err)
	}
	return true
}

func (s *Server) forgotPage(w http.ResponseWriter, r *http.Request) {
	p, ok := s.practice(w, r)
	if !ok {
		return
	}
	s.render(w, r, http.StatusOK, "forgot", pageData{Practice: viewPractice(p)})
}

func (s *Server) forgotSubmit(w http.ResponseWriter, r *http.Request) {
	p, ok := s.practice(w, r)
	if !ok {
		return
	}
	pv := viewPractice(p)
	if !s.parseForm(w, r, pv) {
		return
	}
	email := r.PostForm.Get("email")
	// Queued: the answer is sent before any member is looked up, so its time
	// does not tell whether the address belongs to one.
	err := s.d.Onboarding.QueuePasswordReset(r.Context(), p.Slug, email, s.meta(r))
	var invalid *account.InvalidInputError
	switch {
	case err == nil:
		s.message(w, r, http.StatusOK, pv, "Check your email", msgResetSent,
			&nextLink{URL: "/p/" + p.Slug + "/login", Label: "Back to the login page"})
	case errors.As(err, &invalid):
		if len(email) > 254 {
			email = ""
		}
		s.render(w, r, http.StatusBadRequest, "forgot", pageData{Practice: pv, Email: email,
			Error: "That is not a valid email address. Type the address you log in with, like name@example.org."})
	default:
		s.internalError(w, r, err)
	}
}

// restricted resolves a session started with a temporary password. Any other
// signed-in session goes home; no session goes to the login page.
func (s *Server) restricted(w http.ResponseWriter, r *http.Request) (account.Principal, bool) {
	p, ok := s.practice(w, r)
	if !ok {
		return account.Principal{}, false
	}
	pr, err := s.d.Accounts.AuthenticateRestricted(r.Context(), p.Slug, s.sessionToken(r))
	switch {
	case errors.Is(err, account.ErrNoSession):
		http.Redirect(w, r, "/p/"+p.Slug+"/login", http.StatusSeeOther)
		return account.Principal{}, false
	case err != nil:
		s.internalError(w, r, err)
		return account.Principal{}, false
	case !pr.MustChangePassword:
		http.Redirect(w, r, "/p/"+p.Slug+"/", http.StatusSeeOther)
		return account.Principal{}, false
	}
	return pr, true
}

func (s *Server) newPasswordPage(w http.ResponseWriter, r *http.Request) {
	pr, ok := s.restricted(w, r)
	if !ok {
		return
	}
	s.render(w, r, http.StatusOK, "newpassword", pageData{Practice: viewPractice(pr.Practice), Member: viewMember(pr.Member),
		Email: pr.Member.Email, MinLength: s.d.Accounts.MinPasswordLength(), AuthRequest: authRequestParam(r)})
}

func (s *Server) newPasswordSubmit(w http.ResponseWriter, r *http.Request) {
	pr, ok := s.restricted(w, r)
	if !ok {
		return
	}
	data := pageData{Practice: viewPractice(pr.Practice), Member: viewMember(pr.Member), Email: pr.Member.Email,
		MinLength: s.d.Accounts.MinPasswordLength()}
	if !s.parseForm(w, r, data.Practice) {
		return
	}
	f := r.PostForm
	data.AuthRequest = authRequestParam(r)
	_, session, err := s.d.Accounts.SetRequiredPassword(r.Context(), pr, f.Get("new_password"), f.Get("confirm_password"), s.meta(r))
	switch {
	case err == nil:
		s.signIn(w, r, session)
		// Offer a passkey, then continue to the pending auth request or home.
		http.Redirect(w, r, s.passkeyStepURL(pr.Practice.Slug, "/p/"+pr.Practice.Slug+"/?changed=1", data.AuthRequest),
			http.StatusSeeOther)
	case passwordError(err) != "":
		data.Error = passwordError(err)
		s.render(w, r, http.StatusBadRequest, "newpassword", data)
	case errors.Is(err, account.ErrNoSession):
		http.Redirect(w, r, "/p/"+pr.Practice.Slug+"/login", http.StatusSeeOther)
	default:
		s.internalError(w, r, err)
	}
}
