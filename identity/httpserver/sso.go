package httpserver

import (
	"cmp"
	"errors"
	"net/http"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/sso"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/lockout"
)

// SSOCookie binds a begun single sign-on to the browser that began it. The
// value is random; the server keeps only its hash with the flow. SameSite=Lax
// so it comes back on the upstream's top-level redirect to the callback.
const SSOCookie = "__Host-frontdesk_sso"

type ssoButton struct {
	ID          string
	DisplayName string
}

type ssoLinkedView struct {
	ID           string
	ProviderName string
	Email        string
	LinkedAt     string
	LastUsed     string
}

// ssoRoutes mounts single sign-on: start (a plain link for login and
// invitations; a CSRF-protected form for linking), the callback, and the
// account's linked sign-ins page.
func (s *Server) ssoRoutes() {
	if s.d.SSO == nil {
		return
	}
	s.handle("GET /p/{practice}/sso/{provider}/start", http.HandlerFunc(s.ssoStart))
	s.handle("GET /p/{practice}/sso/callback", http.HandlerFunc(s.ssoCallback))
	s.handle("GET /p/{practice}/sso", http.HandlerFunc(s.ssoPage))
	s.handleForm("POST /p/{practice}/sso/reauth", http.HandlerFunc(s.ssoReauth))
	s.handleForm("POST /p/{practice}/sso/{provider}/link", http.HandlerFunc(s.ssoLinkStart))
	s.handleForm("POST /p/{practice}/sso/linked/{id}/unlink", http.HandlerFunc(s.ssoUnlink))
}

// decorateSSO offers the practice's providers on the login, invitation and
// single sign-on pages, and the account page's link to the latter.
func (s *Server) decorateSSO(r *http.Request, page string, data *pageData) {
	if s.d.SSO == nil || data.Practice == nil {
		return
	}
	switch page {
	case "login", "invite", "sso", "home":
	default:
		return
	}
	buttons, err := s.d.SSO.Buttons(r.Context(), data.Practice.Slug)
	if err != nil {
		s.log(r).WarnContext(r.Context(), "listing sso providers failed", "err", err)
		return
	}
	if page == "home" {
		data.SSOEnabled = len(buttons) > 0
		return
	}
	for _, b := range buttons {
		data.SSOButtons = append(data.SSOButtons, ssoButton{ID: b.ID, DisplayName: b.DisplayName})
	}
}

// ssoBinding returns the browser's binding value, setting a new cookie when
// it has none.
func (s *Server) ssoBinding(w http.ResponseWriter, r *http.Request) (string, error) {
	if c, err := r.Cookie(SSOCookie); err == nil && sso.ValidBinding(c.Value) {
		return c.Value, nil
	}
	v, err := s.d.SSO.NewBinding()
	if err != nil {
		return "", err
	}
	http.SetCookie(w, &http.Cookie{Name: SSOCookie, Value: v, Path: "/", Secure: true, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, MaxAge: 3600})
	return v, nil
}

func ssoCookieValue(r *http.Request) string {
	c, err := r.Cookie(SSOCookie)
	if err != nil || !sso.ValidBinding(c.Value) {
		return ""
	}
	return c.Value
}

// ssoStart begins a login (purpose=login, optional authRequest and next) or an
// invitation's acceptance (purpose=invite, token) and redirects to the
// upstream provider.
func (s *Server) ssoStart(w http.ResponseWriter, r *http.Request) {
	p, ok := s.practice(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	req := sso.BeginRequest{PracticeSlug: p.Slug, ProviderID: r.PathValue("provider"), Purpose: q.Get("purpose")}
	switch req.Purpose {
	case sso.PurposeLogin:
		// The login page's next (loginNext) stays with the flow on the
		// server and is checked again when the flow finishes.
		req.AuthRequest, req.Next = authRequestParam(r), loginNext(p.Slug, q.Get("next"))
	case sso.PurposeInvite:
		req.InvitationToken = q.Get("token")
		if len(req.InvitationToken) > 256 {
			req.InvitationToken = ""
		}
	default:
		s.message(w, r, http.StatusBadRequest, viewPractice(p), "Sign-in link not valid",
			"This sign-in link is incomplete. Go back to the login page and choose your sign-in provider again.", loginLink(p.Slug))
		return
	}
	s.beginSSO(w, r, p, req, false)
}

// beginSSO creates the flow and sends the browser to the upstream: with a
// 303 redirect after a link or, after a form post (whose redirects the
// page's CSP form-action would hold to this origin), with a plain link.
func (s *Server) beginSSO(w http.ResponseWriter, r *http.Request, p store.Practice, req sso.BeginRequest, viaLink bool) {
	if !s.allowStartPage(w, r, p, lockout.StartSSO) {
		return
	}
	binding, err := s.ssoBinding(w, r)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	req.Binding = binding
	dest, err := s.d.SSO.Begin(r.Context(), req)
	switch {
	case err == nil:
	case errors.Is(err, sso.ErrProviderNotFound), errors.Is(err, sso.ErrFlowInvalid):
		s.message(w, r, http.StatusNotFound, viewPractice(p), "Sign-in provider not found",
			"This practice does not offer that sign-in provider (any more). Go back to the login page and choose again.", loginLink(p.Slug))
		return
	case errors.Is(err, account.ErrLinkInvalid):
		s.message(w, r, http.StatusGone, viewPractice(p), "This link can't be used", msgInviteInvalid, loginLink(p.Slug))
		return
	case errors.Is(err, account.ErrReauthRequired):
		http.Redirect(w, r, "/p/"+p.Slug+"/sso", http.StatusSeeOther)
		return
	case errors.Is(err, account.ErrNoSession):
		http.Redirect(w, r, "/p/"+p.Slug+"/login", http.StatusSeeOther)
		return
	case errors.Is(err, sso.ErrUpstream):
		s.message(w, r, http.StatusBadGateway, viewPractice(p), "Sign-in provider not reachable",
			"The sign-in provider could not be reached. Try again in a minute, or log in with your password or passkey. "+
				"If this keeps happening, tell your practice administrator.", loginLink(p.Slug))
		return
	default:
		s.internalError(w, r, err)
		return
	}
	if viaLink {
		s.message(w, r, http.StatusOK, viewPractice(p), "Continue to your sign-in provider",
			"Sign in there with the account you want to link to your account here.", &nextLink{URL: dest, Label: "Continue"})
		return
	}
	http.Redirect(w, r, dest, http.StatusSeeOther)
}

// ssoCallback finishes a flow.
func (s *Server) ssoCallback(w http.ResponseWriter, r *http.Request) {
	p, ok := s.practice(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	cb := sso.Callback{PracticeSlug: p.Slug, State: q.Get("state"), Code: q.Get("code"), Error: q.Get("error"),
		Binding: ssoCookieValue(r)}
	if pr, err := s.d.Accounts.Authenticate(r.Context(), p.Slug, s.sessionToken(r)); err == nil {
		cb.Principal = &pr
	}
	out, err := s.d.SSO.Finish(r.Context(), cb, s.meta(r))
	if err != nil {
		s.ssoRefused(w, r, p, out, err)
		return
	}
	switch out.Kind {
	case sso.OutcomeLoggedIn:
		s.signIn(w, r, out.SessionToken)
		if out.Purpose == sso.PurposeLogin && s.continueAuthRequest(w, r, out.Principal, out.AuthRequest) {
			return
		}
		dest := "/p/" + p.Slug + "/"
		if out.Purpose == sso.PurposeLogin {
			dest = cmp.Or(loginNext(p.Slug, out.Next), dest)
		}
		if out.Purpose == sso.PurposeInvite {
			dest = "/p/" + p.Slug + "/?welcome=1"
			if out.LandingURL != "" {
				dest = out.LandingURL
			}
		}
		http.Redirect(w, r, dest, http.StatusSeeOther)
	case sso.OutcomeLinked:
		http.Redirect(w, r, "/p/"+p.Slug+"/sso?done=linked", http.StatusSeeOther)
	case sso.OutcomeJoinRequested:
		s.message(w, r, http.StatusAccepted, viewPractice(p), "Request sent",
			"Your request to join "+p.Name+" was sent to its administrators. Once one of them approves it, log in with "+
				out.ProviderName+" from the login page.", loginLink(p.Slug))
	default:
		s.internalError(w, r, errors.New("sso: unknown outcome"))
	}
}

// ssoRefused turns a refused sign-in into a page saying what to do next. No
// message says whether an account exists for an email.
func (s *Server) ssoRefused(w http.ResponseWriter, r *http.Request, p store.Practice, out sso.Outcome, err error) {
	pv, name := viewPractice(p), out.ProviderName
	if name == "" {
		name = "your sign-in provider"
	}
	switch {
	case errors.Is(err, sso.ErrFlowInvalid):
		s.message(w, r, http.StatusBadRequest, pv, "Sign-in expired",
			"This sign-in expired, was already used, or was started in another browser. Go back to the login page and start again.",
			loginLink(p.Slug))
	case errors.Is(err, sso.ErrCancelled):
		s.message(w, r, http.StatusBadRequest, pv, "Sign-in cancelled",
			"The sign-in at "+name+" was cancelled or refused. Try again, or log in with your password or passkey.", loginLink(p.Slug))
	case errors.Is(err, sso.ErrUpstream):
		s.message(w, r, http.StatusBadGateway, pv, "Sign-in could not be verified",
			"Your sign-in at "+name+" could not be verified. Start again from the login page. If this keeps happening, "+
				"ask your practice administrator to check the single sign-on settings.", loginLink(p.Slug))
	case errors.Is(err, sso.ErrNotLinked):
		s.message(w, r, http.StatusForbidden, pv, "Account not linked",
			"Your "+name+" account is not linked to an account at "+p.Name+". If you are new here, ask your practice "+
				"administrator for an invitation and accept it with "+name+". If you already have an account here, log in "+
				"with your password or passkey and link "+name+" from your account page.", loginLink(p.Slug))
	case errors.Is(err, sso.ErrDomainNotAllowed):
		s.message(w, r, http.StatusForbidden, pv, "Account not accepted here",
			p.Name+" accepts "+name+" accounts only from its own email domains, with a verified email address. "+
				"Sign in at "+name+" with your work account, or ask your practice administrator.", loginLink(p.Slug))
	case errors.Is(err, sso.ErrEmailMismatch):
		s.message(w, r, http.StatusForbidden, pv, "Different email address",
			"This invitation was sent to another email address than your "+name+" account's. Sign in at "+name+
				" with the invited address, or open the invitation again and choose a password instead. The invitation is still valid.",
			loginLink(p.Slug))
	case errors.Is(err, sso.ErrAlreadyLinked):
		s.message(w, r, http.StatusConflict, pv, "Account already linked",
			"This "+name+" account is already linked to an account at "+p.Name+". Log in with "+name+
				" from the login page, or ask your practice administrator.", loginLink(p.Slug))
	case errors.Is(err, account.ErrLinkInvalid):
		s.message(w, r, http.StatusGone, pv, "This link can't be used", msgInviteInvalid, loginLink(p.Slug))
	case errors.Is(err, account.ErrInvalidCredentials):
		s.message(w, r, http.StatusForbidden, pv, "Can't log in",
			"You can't log in to "+p.Name+" right now. Ask your practice administrator.", loginLink(p.Slug))
	case errors.Is(err, account.ErrNoSession):
		s.message(w, r, http.StatusBadRequest, pv, "Link not made",
			"You were logged out (or logged in again) before the link finished. Log in, then link "+name+" again from your account page.",
			loginLink(p.Slug))
	case errors.Is(err, account.ErrPracticeNotFound):
		s.message(w, r, http.StatusNotFound, nil, "Practice not found",
			"There is no practice at this address. Check the login link your practice gave you.", nil)
	default:
		s.internalError(w, r, err)
	}
}

func (s *Server) renderSSO(w http.ResponseWriter, r *http.Request, pr account.Principal, status int, errMsg string) {
	data := pageData{Practice: viewPractice(pr.Practice), Member: viewMember(pr.Member),
		NeedsReauth: s.d.SSO.NeedsReauth(pr)}
	linked, err := s.d.SSO.Linked(r.Context(), pr)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	for _, l := range linked {
		v := ssoLinkedView{ID: l.ID, ProviderName: l.ProviderName, Email: l.Email, LinkedAt: l.LinkedAt.Format("2 Jan 2006")}
		if !l.LastUsedAt.IsZero() {
			v.LastUsed = l.LastUsedAt.Format("2 Jan 2006 15:04 MST")
		}
		data.SSOLinked = append(data.SSOLinked, v)
	}
	switch r.URL.Query().Get("done") {
	case "linked":
		data.Notice = "Linked. Next time, choose \u201cSign in with\u201d your provider on the login page."
	case "unlinked":
		data.Notice = "Unlinked. That account can no longer be used to log in here."
	case "confirmed":
		data.Notice = "Password confirmed. You can now link a sign-in provider."
	}
	if errMsg != "" {
		data.Error, data.Notice = errMsg, ""
	}
	s.render(w, r, status, "sso", data)
}

func (s *Server) ssoPage(w http.ResponseWriter, r *http.Request) {
	pr, ok := s.signedIn(w, r)
	if !ok {
		return
	}
	s.renderSSO(w, r, pr, http.StatusOK, "")
}

func (s *Server) ssoReauth(w http.ResponseWriter, r *http.Request) {
	s.reauthenticate(w, r, "sso", s.renderSSO, "That password is not right. Type the password you log in with, "+
		"or log out and log in again with your sign-in provider.")
}

func (s *Server) ssoLinkStart(w http.ResponseWriter, r *http.Request) {
	pr, ok := s.signedIn(w, r)
	if !ok {
		return
	}
	s.beginSSO(w, r, pr.Practice, sso.BeginRequest{PracticeSlug: pr.Practice.Slug, ProviderID: r.PathValue("provider"),
		Purpose: sso.PurposeLink, Principal: &pr}, true)
}

func (s *Server) ssoUnlink(w http.ResponseWriter, r *http.Request) {
	pr, ok := s.signedIn(w, r)
	if !ok {
		return
	}
	err := s.d.SSO.Unlink(r.Context(), pr, r.PathValue("id"), s.meta(r))
	switch {
	case err == nil:
		http.Redirect(w, r, "/p/"+pr.Practice.Slug+"/sso?done=unlinked", http.StatusSeeOther)
	case errors.Is(err, sso.ErrProviderNotFound):
		s.renderSSO(w, r, pr, http.StatusNotFound, "That sign-in is not linked to your account (any more).")
	default:
		s.internalError(w, r, err)
	}
}
