package httpserver

import (
	"context"
	"net/http"

	"github.com/frontdeskhq/frontdesk/identity/account"
)

// linkForm is a page opened from a single-use emailed link (owner setup,
// invitation, password reset) whose form sets a password. Opening the page
// consumes nothing; submitting it redeems the link and sends the person on:
// setup and invitation sign them in (to a session the login policy may
// restrict to enrolling a passkey), a reset does not (they log in with the
// new password). The three differ only in these fields.
type linkForm struct {
	page    string // template name
	invalid string // what to do next when the link is unusable
	// next is the link shown beside an unusable-link message.
	next func(slug string) *nextLink
	// open checks the link and returns what the page shows (Practice, Email,
	// Member as needed); it consumes nothing.
	open func(ctx context.Context, slug, token string) (pageData, error)
	// redeem redeems the link with the chosen password and returns the new
	// session's token ("" for none: the browser is signed out) and where to
	// send the person.
	redeem func(ctx context.Context, slug, token, newPw, confirm string, meta account.Meta) (session, dest string, err error)
}

// linkFormPage serves the page of lf.
func (s *Server) linkFormPage(lf linkForm) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.practice(w, r)
		if !ok {
			return
		}
		token := r.URL.Query().Get("token")
		data, err := lf.open(r.Context(), p.Slug, token)
		if s.linkRefused(w, r, p, err, lf.invalid, lf.next(p.Slug)) {
			return
		}
		data.Token, data.MinLength = token, s.d.Accounts.MinPasswordLength()
		s.render(w, r, http.StatusOK, lf.page, data)
	}
}

// linkFormSubmit handles the form of lf: a rejected password shows the page
// again with the reason (the link stays usable); an unusable link shows what
// to do next.
func (s *Server) linkFormSubmit(lf linkForm) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.practice(w, r)
		if !ok {
			return
		}
		if !s.parseForm(w, r, viewPractice(p)) {
			return
		}
		f := r.PostForm
		token := f.Get("token")
		session, dest, err := lf.redeem(r.Context(), p.Slug, token, f.Get("new_password"), f.Get("confirm_password"), s.meta(r))
		if err == nil {
			if session != "" {
				s.signIn(w, r, session)
			} else {
				s.signOut(w, r)
			}
			http.Redirect(w, r, dest, http.StatusSeeOther)
			return
		}
		msg := passwordError(err)
		if msg == "" {
			s.linkRefused(w, r, p, err, lf.invalid, lf.next(p.Slug))
			return
		}
		data, err := lf.open(r.Context(), p.Slug, token)
		if s.linkRefused(w, r, p, err, lf.invalid, lf.next(p.Slug)) {
			return
		}
		data.Token, data.MinLength, data.Error = token, s.d.Accounts.MinPasswordLength(), msg
		s.render(w, r, http.StatusBadRequest, lf.page, data)
	}
}

func loginLink(slug string) *nextLink {
	return &nextLink{URL: "/p/" + slug + "/login", Label: "Go to the login page"}
}

func forgotLink(slug string) *nextLink {
	return &nextLink{URL: "/p/" + slug + "/forgot", Label: "Ask for a new link"}
}

// setupForm is the owner's setup link.
func (s *Server) setupForm() linkForm {
	return linkForm{page: "setup", invalid: msgLinkInvalid, next: loginLink,
		open: func(ctx context.Context, slug, token string) (pageData, error) {
			v, err := s.d.Accounts.OpenSetupLink(ctx, slug, token)
			return pageData{Practice: viewPractice(v.Practice), Email: v.Email}, err
		},
		redeem: func(ctx context.Context, slug, token, newPw, confirm string, meta account.Meta) (string, string, error) {
			_, session, err := s.d.Accounts.CompleteSetup(ctx, slug, token, newPw, confirm, meta)
			return session, "/p/" + slug + "/", err
		}}
}

// inviteForm is an invitation link: it lands in the app the person was
// invited to, or on the welcome page.
func (s *Server) inviteForm() linkForm {
	return linkForm{page: "invite", invalid: msgInviteInvalid, next: loginLink,
		open: func(ctx context.Context, slug, token string) (pageData, error) {
			v, err := s.d.Onboarding.OpenInvitation(ctx, slug, token)
			return pageData{Practice: viewPractice(v.Practice), Email: v.Email,
				Member: &memberView{Email: v.Email, Roles: v.RoleNames}}, err
		},
		redeem: func(ctx context.Context, slug, token, newPw, confirm string, meta account.Meta) (string, string, error) {
			acc, err := s.d.Onboarding.AcceptInvitation(ctx, slug, token, newPw, confirm, meta)
			dest := acc.LandingURL
			if dest == "" {
				dest = "/p/" + slug + "/?welcome=1"
			}
			// Offer a passkey before the person continues.
			return acc.SessionToken, s.passkeyStepURL(slug, dest, ""), err
		}}
}

// msgResetDone is the login page's notice after a reset.
const msgResetDone = "Your password was changed. Sign in with your new password."

// resetForm is a forgot-password link. Redeeming it signs nobody in
// (finding F8): the person goes to the login page and logs in with the new
// password.
func (s *Server) resetForm() linkForm {
	return linkForm{page: "reset", invalid: msgResetInvalid, next: forgotLink,
		open: func(ctx context.Context, slug, token string) (pageData, error) {
			v, err := s.d.Onboarding.OpenResetLink(ctx, slug, token)
			return pageData{Practice: viewPractice(v.Practice), Email: v.Email}, err
		},
		redeem: func(ctx context.Context, slug, token, newPw, confirm string, meta account.Meta) (string, string, error) {
			err := s.d.Onboarding.CompleteReset(ctx, slug, token, newPw, confirm, meta)
			return "", "/p/" + slug + "/login?reset=1", err
		}}
}
