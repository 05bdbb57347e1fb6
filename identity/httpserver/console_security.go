package httpserver

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/sso"
)

// The console's sign-in page: the practice's single sign-on providers, the
// pending join requests and the login policy. Same rules as console.go:
// server-rendered, no JavaScript, every change a POST behind the console's
// cross-origin protection, destructive ones through a confirmation page. The
// permissions are the admin API's (settings.view to read, settings.edit to
// change, members.manage for join requests), checked here for the page and
// again by the SSO and account services, which audit every change.

func (s *Server) consoleSecurityRoutes() {
	s.handle("GET /p/{practice}/admin/sign-in", http.HandlerFunc(s.consoleSignIn))
	s.handleForm("POST /p/{practice}/admin/sign-in/policy", http.HandlerFunc(s.consoleLoginPolicySave))
	s.handleForm("POST /p/{practice}/admin/sign-in/settings", http.HandlerFunc(s.consoleSettingsSave))
	if s.d.SSO == nil {
		return
	}
	s.handleForm("POST /p/{practice}/admin/sign-in/providers", http.HandlerFunc(s.consoleSSOAdd))
	s.handle("GET /p/{practice}/admin/sign-in/providers/{id}/remove", http.HandlerFunc(s.consoleSSORemoveConfirm))
	s.handleForm("POST /p/{practice}/admin/sign-in/providers/{id}/remove", http.HandlerFunc(s.consoleSSORemove))
	s.handleForm("POST /p/{practice}/admin/sign-in/requests/{id}/approve", http.HandlerFunc(s.consoleJoinDecide(true)))
	s.handleForm("POST /p/{practice}/admin/sign-in/requests/{id}/reject", http.HandlerFunc(s.consoleJoinDecide(false)))
}

// Bounds of the add-provider form.
const (
	maxSSOField      = 2048 // issuer, client ID and secret (sso.MaxParamLen)
	maxSSODomainList = 2000
	maxSSODomains    = 50
)

// consoleSSOForm refills the add-provider form after a refusal. It never
// holds the client secret.
type consoleSSOForm struct {
	Kind, DisplayName, Issuer, Tenant, ClientID, Domains, JoinRole string
	JoinEnabled                                                    bool
}

// consoleJoinRequest is a pending join request with its provider's name.
type consoleJoinRequest struct {
	sso.JoinRequest
	Provider string
}

// consolePolicyRole is a role offered in the login policy form.
type consolePolicyRole struct {
	Key, Name, Description string
	Required               bool
}

type consoleSignInData struct {
	Practice *practiceView
	Nav      consoleNav
	// SSO is false when the server offers no single sign-on.
	SSO                            bool
	CanView, CanEdit, CanApprove   bool
	Providers                      []sso.Provider
	RedirectURI                    string
	Requests                       []consoleJoinRequest
	Roles                          []roles.Role
	PolicyRoles                    []consolePolicyRole
	PolicyUpdatedAt, PolicyUpdater string
	Form                           consoleSSOForm
	Notice, Error, PolicyError     string
	// RoleNames names the practice's roles by key (join roles are keys).
	RoleNames roleNames
	// Settings are the practice settings (console_settings.go).
	Settings consoleSettings
}

// consoleSignInAllowed admits holders of settings.view, or of members.manage
// when the server offers single sign-on (they decide join requests).
func (s *Server) consoleSignInAllowed(w http.ResponseWriter, r *http.Request) (account.Principal, bool) {
	pr, ok := s.signedIn(w, r)
	if !ok {
		return pr, false
	}
	if s.may(r, pr, roles.PermViewSettings) || (s.d.SSO != nil && s.may(r, pr, roles.PermManageMembers)) {
		return pr, true
	}
	s.message(w, r, http.StatusForbidden, viewPractice(pr.Practice), "Not allowed",
		"Your roles do not include the practice's sign-in settings ("+roles.PermViewSettings+"). Ask your practice administrator.",
		&nextLink{URL: "/p/" + pr.Practice.Slug + "/", Label: "Back to your account"})
	return pr, false
}

func (s *Server) signInLink(pr account.Principal) *nextLink {
	return &nextLink{URL: "/p/" + pr.Practice.Slug + "/admin/sign-in", Label: "Sign-in settings"}
}

func (s *Server) signInDone(w http.ResponseWriter, r *http.Request, pr account.Principal, done string) {
	http.Redirect(w, r, "/p/"+pr.Practice.Slug+"/admin/sign-in?done="+done, http.StatusSeeOther)
}

func actorOf(pr account.Principal) account.Actor {
	return account.Actor{MemberID: pr.Member.ID}
}

func (s *Server) consoleSignIn(w http.ResponseWriter, r *http.Request) {
	pr, ok := s.consoleSignInAllowed(w, r)
	if !ok {
		return
	}
	data := consoleSignInData{Form: consoleSSOForm{Kind: sso.KindGoogle}}
	switch r.URL.Query().Get("done") {
	case "added":
		data.Notice = "The provider was added. Register the redirect URI shown below at the provider if you have not yet."
	case "removed":
		data.Notice = "The provider was removed. Nobody can log in through it any more."
	case "approved":
		data.Notice = "The request was approved: the person is now a member and can log in with single sign-on."
	case "rejected":
		data.Notice = "The request was rejected."
	case "policy":
		data.Notice = "The login policy was saved. It applies from each member's next login."
	case "settings":
		data.Notice = "The practice settings were saved."
	}
	s.renderSignIn(w, r, pr, http.StatusOK, data)
}

// renderSignIn fills what the member may see and renders the page.
func (s *Server) renderSignIn(w http.ResponseWriter, r *http.Request, pr account.Principal, status int, data consoleSignInData) {
	ctx := r.Context()
	data.Practice, data.Nav, data.SSO = viewPractice(pr.Practice), s.nav(r, pr), s.d.SSO != nil
	data.CanView = s.may(r, pr, roles.PermViewSettings)
	data.CanEdit = data.CanView && s.may(r, pr, roles.PermEditSettings)
	data.CanApprove = data.SSO && s.may(r, pr, roles.PermManageMembers)
	model, err := s.d.AdminRoles.Model(ctx, pr.Practice.ID)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	data.RoleNames = namesOf(model)
	if data.SSO && data.CanEdit {
		// A provider's join role is a grant: offer only roles the member may give.
		grantable, err := s.d.Accounts.GrantableRoles(ctx, pr.Practice, actorOf(pr))
		if err != nil {
			s.internalError(w, r, err)
			return
		}
		for _, role := range model.Roles {
			if slices.Contains(grantable, role.Key) {
				data.Roles = append(data.Roles, role)
			}
		}
	}
	names := map[string]string{}
	if data.SSO {
		data.RedirectURI = s.d.SSO.CallbackURL(pr.Practice.Slug)
		if data.CanView {
			if data.Providers, err = s.d.SSO.Providers(ctx, pr.Practice.Slug, actorOf(pr)); err != nil {
				s.consoleFail(w, r, pr, err, s.signInLink(pr))
				return
			}
			for _, p := range data.Providers {
				names[p.ID] = p.DisplayName
			}
		}
		if data.CanApprove {
			reqs, err := s.d.SSO.JoinRequests(ctx, pr.Practice.Slug, actorOf(pr), "pending")
			if err != nil {
				s.consoleFail(w, r, pr, err, s.signInLink(pr))
				return
			}
			for _, j := range reqs {
				data.Requests = append(data.Requests, consoleJoinRequest{JoinRequest: j, Provider: names[j.ProviderID]})
			}
		}
	}
	if data.CanView {
		lp, err := s.d.Accounts.LoginPolicy(ctx, pr.Practice.Slug, actorOf(pr))
		if err != nil {
			s.consoleFail(w, r, pr, err, s.signInLink(pr))
			return
		}
		required := map[string]bool{}
		for _, k := range lp.RequireStrongLogin {
			required[k] = true
		}
		for _, role := range model.Roles {
			data.PolicyRoles = append(data.PolicyRoles, consolePolicyRole{Key: role.Key, Name: role.Name,
				Description: role.Description, Required: required[role.Key]})
			delete(required, role.Key)
		}
		for _, k := range lp.RequireStrongLogin {
			if required[k] { // kept by the policy though no longer a defined role
				data.PolicyRoles = append(data.PolicyRoles, consolePolicyRole{Key: k, Name: k, Required: true})
			}
		}
		if !lp.UpdatedAt.IsZero() {
			data.PolicyUpdatedAt = lp.UpdatedAt.UTC().Format("2 Jan 2006 15:04 UTC")
			data.PolicyUpdater = s.actorName(r, pr, lp.UpdatedBy)
		}
	}
	if data.CanView {
		if !s.fillSettings(w, r, pr, &data.Settings) {
			return
		}
	}
	s.renderAny(w, r, status, "admin_signin", data)
}

// actorName names who made a change: a member's name, or the operator.
func (s *Server) actorName(r *http.Request, pr account.Principal, id string) string {
	switch id {
	case "":
		return ""
	case account.OperatorActorID:
		return "the operator (command line)"
	}
	m, err := s.d.AdminStore.MemberByID(r.Context(), pr.Practice.ID, id)
	if err != nil {
		return "a former member"
	}
	return viewMember(m).Name
}

// splitDomains reads the allowed-domains field: domains separated by commas,
// spaces or line breaks.
func splitDomains(v string) []string {
	return strings.FieldsFunc(v, func(c rune) bool { return c == ',' || c == ' ' || c == '\n' || c == '\r' || c == '\t' })
}

func (s *Server) consoleSSOAdd(w http.ResponseWriter, r *http.Request) {
	pr, ok := s.consoleAllowed(w, r, roles.PermEditSettings)
	if !ok {
		return
	}
	if !s.parseForm(w, r, viewPractice(pr.Practice)) {
		return
	}
	f := r.PostForm
	form := consoleSSOForm{Kind: trimTo(f.Get("kind"), 20), DisplayName: trimTo(f.Get("display_name"), 200),
		Issuer: trimTo(f.Get("issuer"), maxSSOField), Tenant: trimTo(f.Get("tenant"), 100),
		ClientID: trimTo(f.Get("client_id"), maxSSOField), Domains: trimTo(f.Get("allowed_domains"), maxSSODomainList),
		JoinEnabled: f.Get("join_enabled") == "yes", JoinRole: trimTo(f.Get("join_role"), 100)}
	secret := f.Get("client_secret")
	fail := func(msg string) {
		s.renderSignIn(w, r, pr, http.StatusBadRequest, consoleSignInData{Form: form, Error: msg})
	}
	domains := splitDomains(form.Domains)
	switch {
	case len(secret) > maxSSOField:
		fail("The client secret is longer than any provider issues. Paste it again, without anything around it.")
		return
	case len(domains) > maxSSODomains:
		fail("List at most 50 allowed domains.")
		return
	case form.Kind != sso.KindEntra:
		form.Tenant = ""
	}
	if !form.JoinEnabled {
		form.JoinRole = ""
	}
	_, err := s.d.SSO.AddProvider(r.Context(), pr.Practice.Slug, actorOf(pr), sso.NewProvider{Kind: form.Kind,
		DisplayName: form.DisplayName, Issuer: form.Issuer, Tenant: form.Tenant, ClientID: form.ClientID,
		ClientSecret: secret, AllowedDomains: domains, JoinEnabled: form.JoinEnabled, JoinRole: form.JoinRole},
		s.meta(r))
	var invalid *sso.InvalidError
	switch {
	case err == nil:
		s.signInDone(w, r, pr, "added")
	case errors.As(err, &invalid):
		fail("Nothing was added. Check the " + strings.ReplaceAll(invalid.Field, "_", " ") + ": " + invalid.Reason +
			". Enter the client secret again too; it is never shown back.")
	case errors.Is(err, sso.ErrProviderExists):
		fail("This practice already has a provider with that issuer and client ID. Remove it first to replace it.")
	case errors.Is(err, account.ErrForbidden) && form.JoinEnabled:
		s.renderSignIn(w, r, pr, http.StatusForbidden, consoleSignInData{Form: form, Error: "Nothing was added: " +
			plainWords(forbiddenText(err)) + " People who join get this role, so choose a role you may give, or ask an owner " +
			"to add the provider. Enter the client secret again too; it is never shown back."})
	default:
		s.consoleFail(w, r, pr, err, s.signInLink(pr))
	}
}

// ssoProvider finds the path's provider for the confirmation page.
func (s *Server) ssoProvider(w http.ResponseWriter, r *http.Request, pr account.Principal) (sso.Provider, bool) {
	list, err := s.d.SSO.Providers(r.Context(), pr.Practice.Slug, actorOf(pr))
	if err != nil {
		s.consoleFail(w, r, pr, err, s.signInLink(pr))
		return sso.Provider{}, false
	}
	for _, p := range list {
		if p.ID == r.PathValue("id") {
			return p, true
		}
	}
	s.providerGone(w, r, pr)
	return sso.Provider{}, false
}

func (s *Server) providerGone(w http.ResponseWriter, r *http.Request, pr account.Principal) {
	s.message(w, r, http.StatusNotFound, viewPractice(pr.Practice), "Provider not found",
		"There is no such sign-in provider in this practice. Go back to the sign-in settings to see the providers.", s.signInLink(pr))
}

func (s *Server) consoleSSORemoveConfirm(w http.ResponseWriter, r *http.Request) {
	pr, ok := s.consoleAllowed(w, r, roles.PermEditSettings)
	if !ok {
		return
	}
	p, ok := s.ssoProvider(w, r, pr)
	if !ok {
		return
	}
	s.renderAny(w, r, http.StatusOK, "admin_confirm", consoleConfirmData{Practice: viewPractice(pr.Practice),
		Title: "Remove the provider " + p.DisplayName + "?",
		Message: "Nobody can log in through " + p.DisplayName + " (" + p.Issuer + ") any more. Members linked to it " +
			"keep their accounts but need a password or passkey to log in; its pending join requests are dropped.",
		Action:    "/p/" + pr.Practice.Slug + "/admin/sign-in/providers/" + url.PathEscape(p.ID) + "/remove",
		Confirm:   "Remove provider",
		CancelURL: "/p/" + pr.Practice.Slug + "/admin/sign-in"})
}

func (s *Server) consoleSSORemove(w http.ResponseWriter, r *http.Request) {
	pr, ok := s.consoleAllowed(w, r, roles.PermEditSettings)
	if !ok {
		return
	}
	err := s.d.SSO.RemoveProvider(r.Context(), pr.Practice.Slug, actorOf(pr), r.PathValue("id"), s.meta(r))
	switch {
	case err == nil:
		s.signInDone(w, r, pr, "removed")
	case errors.Is(err, sso.ErrProviderNotFound):
		s.providerGone(w, r, pr)
	default:
		s.consoleFail(w, r, pr, err, s.signInLink(pr))
	}
}

// consoleJoinDecide approves or rejects a pending join request. The role is
// the one the provider offers on joining; change it on the member's page
// afterwards.
func (s *Server) consoleJoinDecide(approve bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		pr, ok := s.consoleAllowed(w, r, roles.PermManageMembers)
		if !ok {
			return
		}
		_, err := s.d.SSO.DecideJoin(r.Context(), pr.Practice.Slug, actorOf(pr), r.PathValue("id"), approve, s.meta(r))
		pv := viewPractice(pr.Practice)
		switch {
		case err == nil && approve:
			s.signInDone(w, r, pr, "approved")
		case err == nil:
			s.signInDone(w, r, pr, "rejected")
		case errors.Is(err, sso.ErrJoinNotFound):
			s.message(w, r, http.StatusNotFound, pv, "Request not found",
				"This join request was already decided or withdrawn. Go back to the sign-in settings to see the pending ones.", s.signInLink(pr))
		case errors.Is(err, sso.ErrMemberExists):
			s.message(w, r, http.StatusConflict, pv, "Not approved",
				"Someone with this email address is already a member. Reject the request; they can link single sign-on from their account page.", s.signInLink(pr))
		case errors.Is(err, sso.ErrAlreadyLinked):
			s.message(w, r, http.StatusConflict, pv, "Not approved",
				"This sign-in account is already linked to a member of the practice. Reject the request.", s.signInLink(pr))
		default:
			s.consoleFail(w, r, pr, err, s.signInLink(pr))
		}
	}
}

func (s *Server) consoleLoginPolicySave(w http.ResponseWriter, r *http.Request) {
	pr, ok := s.consoleAllowed(w, r, roles.PermEditSettings)
	if !ok {
		return
	}
	if !s.parseForm(w, r, viewPractice(pr.Practice)) {
		return
	}
	keys, ok := formList(r, "strong_role", 64)
	if !ok {
		s.renderSignIn(w, r, pr, http.StatusBadRequest, consoleSignInData{Form: consoleSSOForm{Kind: sso.KindGoogle},
			PolicyError: "The form holds more roles than the policy accepts. Reload the page and try again."})
		return
	}
	_, err := s.d.Accounts.SetLoginPolicy(r.Context(), pr.Practice.Slug, actorOf(pr), keys, s.meta(r))
	var invalid *account.InvalidInputError
	switch {
	case err == nil:
		s.signInDone(w, r, pr, "policy")
	case errors.As(err, &invalid):
		s.renderSignIn(w, r, pr, http.StatusBadRequest, consoleSignInData{Form: consoleSSOForm{Kind: sso.KindGoogle},
			PolicyError: "Nothing was saved: the policy " + invalid.Reason + ". Reload the page and pick from the list."})
	default:
		s.consoleFail(w, r, pr, err, s.signInLink(pr))
	}
}
