package httpserver

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/oidc"
	"github.com/frontdeskhq/frontdesk/identity/onboarding"
	"github.com/frontdeskhq/frontdesk/identity/problem"
	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// More of the administrator's console: a member's page (roles, deactivate,
// reactivate, passkey revocation), invitations (resend, revoke), creating a
// role, and the practice's apps (register, rotate the secret, remove). Same
// rules as console.go: server-rendered, no JavaScript, every change a POST
// behind cross-origin protection, destructive ones through a confirmation
// page, every request checked against the member's current permissions.

func (s *Server) consoleManageRoutes() {
	s.handle("GET /p/{practice}/admin/members/{id}", http.HandlerFunc(s.consoleMember))
	s.handleForm("POST /p/{practice}/admin/members/{id}/roles", http.HandlerFunc(s.consoleMemberRoles))
	s.handleForm("POST /p/{practice}/admin/members/{id}/profile", http.HandlerFunc(s.consoleMemberProfile))
	s.handleForm("POST /p/{practice}/admin/members/{id}/practitioner", http.HandlerFunc(s.consolePractitionerSave))
	for _, a := range s.memberActions() {
		s.handle("GET /p/{practice}/admin/members/{id}/"+a.path, s.memberActionConfirm(a))
		s.handleForm("POST /p/{practice}/admin/members/{id}/"+a.path, s.memberActionRun(a))
	}
	s.handle("GET /p/{practice}/admin/invitations", http.HandlerFunc(s.consoleInvitations))
	s.handleForm("POST /p/{practice}/admin/invitations/{id}/resend", http.HandlerFunc(s.consoleInvitationResend))
	s.handle("GET /p/{practice}/admin/invitations/{id}/revoke", http.HandlerFunc(s.consoleInvitationRevokeConfirm))
	s.handleForm("POST /p/{practice}/admin/invitations/{id}/revoke", http.HandlerFunc(s.consoleInvitationRevoke))
	s.handleForm("POST /p/{practice}/admin/roles", http.HandlerFunc(s.consoleRoleCreate))
	if s.d.OIDC != nil {
		s.handle("GET /p/{practice}/admin/apps", http.HandlerFunc(s.consoleApps))
		s.handleForm("POST /p/{practice}/admin/apps", http.HandlerFunc(s.consoleAppRegister))
		s.handle("GET /p/{practice}/admin/apps/{client_id}/rotate", http.HandlerFunc(s.consoleAppRotateConfirm))
		s.handleForm("POST /p/{practice}/admin/apps/{client_id}/rotate", http.HandlerFunc(s.consoleAppRotate))
		s.handle("GET /p/{practice}/admin/apps/{client_id}/remove", http.HandlerFunc(s.consoleAppRemoveConfirm))
		s.handleForm("POST /p/{practice}/admin/apps/{client_id}/remove", http.HandlerFunc(s.consoleAppRemove))
		s.handleForm("POST /p/{practice}/admin/apps/{client_id}/permission", http.HandlerFunc(s.consoleAppPermission))
		s.handleForm("POST /p/{practice}/admin/apps/{client_id}/tokens", http.HandlerFunc(s.consoleAppTokens))
		s.handleForm("POST /p/{practice}/admin/apps/{client_id}/launch", http.HandlerFunc(s.consoleAppLaunch))
	}
}

// consoleNav says which administration pages the member may open.
type consoleNav struct {
	Members, Invitations, Roles, Apps, Audit bool
	// SignIn is the single sign-on and login policy page (console_security.go).
	SignIn bool
}

func (s *Server) nav(r *http.Request, pr account.Principal) consoleNav {
	eff, err := s.d.AdminRoles.Effective(r.Context(), pr.Practice.ID, pr.Member.ID)
	if err != nil {
		return consoleNav{}
	}
	p := eff.Permissions
	return consoleNav{
		Members:     roles.Allows(p, roles.PermViewMembers),
		Invitations: roles.Allows(p, roles.PermManageMembers),
		Roles: roles.Allows(p, roles.PermDefine) || roles.Allows(p, roles.PermAssign) ||
			roles.Allows(p, roles.PermManageMembers),
		Apps:   s.d.OIDC != nil && roles.Allows(p, roles.PermViewSettings),
		Audit:  roles.Allows(p, roles.PermAudit),
		SignIn: roles.Allows(p, roles.PermViewSettings) || (s.d.SSO != nil && roles.Allows(p, roles.PermManageMembers)),
	}
}

// First is the first administration page the member may open, "" when none.
func (n consoleNav) First(slug string) string {
	base := "/p/" + slug + "/admin/"
	switch {
	case n.Members:
		return base + "members"
	case n.Invitations:
		return base + "invitations"
	case n.Roles:
		return base + "roles"
	case n.Apps:
		return base + "apps"
	case n.Audit:
		return base + "audit"
	case n.SignIn:
		return base + "sign-in"
	}
	return ""
}

// consoleFail turns an action's error into a page that says what to do next:
// the console's one mapping from a problem's kind to a status and title;
// anything unexpected is a 500 without detail.
func (s *Server) consoleFail(w http.ResponseWriter, r *http.Request, pr account.Principal, err error, back *nextLink) {
	pv := viewPractice(pr.Practice)
	var invalid *account.InvalidInputError
	p, isProblem := problem.As(err)
	switch {
	case isProblem && p.Kind == problem.Forbidden && wordedRefusal(err) != "":
		s.message(w, r, http.StatusForbidden, pv, "Not allowed", plainWords(wordedRefusal(err)), back)
	case isProblem && p.Kind == problem.Forbidden:
		s.message(w, r, http.StatusForbidden, pv, "Not allowed",
			"Your roles do not allow this: "+plainWords(forbiddenText(err))+" Ask your practice's account owner if it is needed.", back)
	case isProblem && p.Kind == problem.NotFound:
		s.message(w, r, http.StatusNotFound, pv, "Not found", plainWords(publicText(p))+" Go back and pick another one.", back)
	case isProblem && p.Kind == problem.Conflict:
		s.message(w, r, http.StatusConflict, pv, "Not possible", plainWords(publicText(p)), back)
	case isProblem && p.Kind == problem.Invalid:
		s.message(w, r, http.StatusBadRequest, pv, "Nothing was changed", plainWords(refusal("Nothing was changed", err)), back)
	case errors.Is(err, store.ErrNotFound):
		s.message(w, r, http.StatusNotFound, pv, "Not found", "It no longer exists in this practice. Go back and pick another.", back)
	case errors.As(err, &invalid):
		s.message(w, r, http.StatusBadRequest, pv, "Not possible", inputSentence(invalid), back)
	default:
		// Internal and Unavailable: internalError tells a database outage
		// from a fault on our side.
		s.internalError(w, r, err)
	}
}

// publicText is a problem's public text, or a general one when it has none.
func publicText(p *problem.Error) string {
	if p.Public == "" {
		return "The request was refused."
	}
	return p.Public
}

// refusal is lead followed by err's public text: "lead: text" when the text
// continues the sentence, "lead. Text" when it is a sentence of its own.
func refusal(lead string, err error) string {
	p, ok := problem.As(err)
	if !ok || p.Public == "" {
		return lead + "."
	}
	if r, _ := utf8.DecodeRuneInString(p.Public); unicode.IsUpper(r) {
		return lead + ". " + p.Public
	}
	return lead + ": " + p.Public
}

// forbiddenText is the reason a service gave for a refusal (permission names,
// never secrets), as the end of a sentence.
func forbiddenText(err error) string {
	return forbiddenReasonOr(err, "your roles do not include it.")
}

func forbiddenReasonOr(err error, fallback string) string {
	if p, ok := problem.As(err); ok && p.Reason != "" {
		if strings.HasSuffix(p.Reason, ".") {
			return p.Reason
		}
		return p.Reason + "."
	}
	return fallback
}

// wordedRefusal is a refusal that words itself as a whole sentence (the
// delegation model's "You can't give the Biller role; ask the practice
// owner."), or "" when err gives no such sentence.
func wordedRefusal(err error) string {
	p, ok := problem.As(err)
	if !ok || p.Reason == "" {
		return ""
	}
	if r, _ := utf8.DecodeRuneInString(p.Reason); unicode.IsUpper(r) {
		return p.Reason
	}
	return ""
}

// appReason is why an app registration was refused.
func appReason(err error) string {
	if p, ok := problem.As(err); ok && p.Public != "" {
		return "Nothing was registered: " + p.Public + "."
	}
	return "Nothing was registered: check the form and try again."
}

func (s *Server) membersLink(pr account.Principal) *nextLink {
	return &nextLink{URL: "/p/" + pr.Practice.Slug + "/admin/members", Label: "Members"}
}

func (s *Server) memberLink(pr account.Principal, id string) *nextLink {
	return &nextLink{URL: "/p/" + pr.Practice.Slug + "/admin/members/" + url.PathEscape(id), Label: "Back to the member"}
}

func (s *Server) rolesMeta(r *http.Request) roles.Meta {
	m := s.meta(r)
	return roles.Meta{ClientAddr: m.ClientAddr, UserAgent: m.UserAgent, RequestID: m.RequestID}
}

// The member page.

type consoleRoleChoice struct {
	Key, Name, Description string
	Held                   bool
}

type consoleMemberData struct {
	Practice                             *practiceView
	Nav                                  consoleNav
	Member                               consoleMember
	Choices                              []consoleRoleChoice
	Notice, Error                        string
	CanAssign, CanManage, CanUnlock      bool
	CanReset, CanRevokePasskeys          bool
	Deactivated, Locked, HasUnknownRoles bool
	// Supervises names the members this member supervises.
	Supervises []string
	// CanStaff: the viewer may give every role the member holds, so may
	// change their roles, deactivate them, remove their passkeys
	// (account.Service.MayStaff).
	CanStaff bool
	// ShowTemporary offers "Temporary password": an active or locked member
	// other than the viewer, or an invited one where the practice onboards
	// by temporary password.
	ShowTemporary bool
	// Open is the section to show opened (after an error in it).
	Open   string
	Access *consoleAccess // supervisors, overrides, emergency access (console_access.go)
	// Practitioner is the clinical information section
	// (console_practitioner.go, partial_practitioner.html).
	Practitioner *practitionerSection
}

func (s *Server) consoleMember(w http.ResponseWriter, r *http.Request) {
	pr, ok := s.consoleAllowed(w, r, roles.PermViewMembers)
	if !ok {
		return
	}
	m, ok := s.consoleTarget(w, r, pr)
	if !ok {
		return
	}
	data := consoleMemberData{}
	switch r.URL.Query().Get("done") {
	case "roles":
		data.Notice = "The roles were saved. The member's apps see them at their next token refresh."
	case "deactivated":
		data.Notice = "The member was deactivated: their sessions ended and their apps were told. Every record is kept."
	case "reactivated":
		data.Notice = "The member was reactivated. They log in with the password or passkeys they had."
	case "passkeys":
		data.Notice = "The member's passkeys were removed and their sessions ended."
	case "profile":
		data.Notice = "The display name was saved."
	case "resent":
		data.Notice = "The invitation was sent again with a new link; the old link no longer works."
	case "unlocked":
		data.Notice = "The member was unlocked and has been emailed."
	case "notlocked":
		data.Notice = "The member was not locked. " + msgNotLocked
	case "practitioner":
		data.Notice = "The clinical information was saved. Apps see it in the next token they get."
	}
	s.renderMember(w, r, pr, m, http.StatusOK, data)
}

func (s *Server) renderMember(w http.ResponseWriter, r *http.Request, pr account.Principal, m store.Member, status int, data consoleMemberData) {
	model, err := s.d.AdminRoles.Model(r.Context(), pr.Practice.ID)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	names := namesOf(model)
	v := viewMember(m)
	data.Practice, data.Nav = viewPractice(pr.Practice), s.nav(r, pr)
	data.CanAssign = s.may(r, pr, roles.PermAssign)
	data.CanManage = s.may(r, pr, roles.PermManageMembers)
	if data.Practitioner == nil {
		data.Practitioner = s.practitionerFor(r, pr, m)
	}
	data.CanUnlock = s.may(r, pr, roles.PermUnlock)
	data.CanReset = s.may(r, pr, roles.PermResetPasswords)
	data.CanStaff = s.d.Accounts.MayStaff(r.Context(), pr.Practice, account.Actor{MemberID: pr.Member.ID}, m, "deactivate") == nil
	// "Remove passkeys" only for a member who has one.
	if s.d.Passkeys != nil && data.CanManage && data.CanStaff {
		n, err := s.d.AdminStore.MemberPasskeyCount(r.Context(), pr.Practice.ID, m.ID)
		if err != nil {
			s.internalError(w, r, err)
			return
		}
		data.CanRevokePasskeys = n > 0
	}
	data.Deactivated, data.Locked = m.Status == store.StatusDeactivated, m.Status == store.StatusLocked
	rows, err := s.memberRows(r, pr, []store.Member{m}, names, data.CanManage)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	data.Member = rows[0]
	data.Member.DisplayName = m.DisplayName
	data.Member.Name = v.Name
	// A locked account is unlocked first (the service refuses a temporary
	// password for it); an invited one gets the invitation again, unless the
	// practice onboards by temporary password.
	switch m.Status {
	case store.StatusActive:
		data.ShowTemporary = data.CanReset && m.ID != pr.Member.ID
	case store.StatusInvited:
		data.ShowTemporary = data.CanReset && s.onboardsByTemporaryPassword(r, pr.Practice)
	}
	var grantable map[string]bool
	if data.CanAssign {
		grantable = s.grantable(r, pr)
	}
	// Changing someone's roles needs leave to give every role they hold
	// (the delegation model's staff rule): otherwise no form is offered.
	for _, role := range model.Roles {
		if grantable[role.Key] {
			data.Choices = append(data.Choices, consoleRoleChoice{Key: role.Key, Name: role.Name, Description: role.Description,
				Held: slices.Contains(m.Roles, role.Key)})
		}
	}
	for _, k := range m.Roles {
		if _, ok := names[k]; !ok {
			data.HasUnknownRoles = true
		}
	}
	if m.Status != store.StatusDeactivated {
		sup, err := s.d.AdminRoles.Supervision(r.Context(), pr.Practice.ID, m.ID)
		if err != nil {
			s.internalError(w, r, err)
			return
		}
		for _, id := range sup.Supervisees {
			if sm, err := s.d.AdminStore.MemberByID(r.Context(), pr.Practice.ID, id); err == nil && sm.Status != store.StatusDeactivated {
				data.Supervises = append(data.Supervises, viewMember(sm).Name)
			}
		}
	}
	if err := s.memberAccess(r, pr, m, &data); err != nil {
		s.internalError(w, r, err)
		return
	}
	s.renderAny(w, r, status, "admin_member", data)
}

func (s *Server) consoleMemberRoles(w http.ResponseWriter, r *http.Request) {
	pr, m, ok := s.accessForm(w, r, roles.PermAssign)
	if !ok {
		return
	}
	keys := r.PostForm["role"]
	if len(keys) > 50 {
		keys = keys[:50]
	}
	if keys == nil {
		keys = []string{}
	}
	err := s.d.AdminRoles.SetMemberRoles(r.Context(), roles.Actor{PracticeID: pr.Practice.ID, MemberID: pr.Member.ID},
		m.ID, keys, s.rolesMeta(r))
	if err == nil {
		http.Redirect(w, r, "/p/"+pr.Practice.Slug+"/admin/members/"+url.PathEscape(m.ID)+"?done=roles", http.StatusSeeOther)
		return
	}
	if errors.Is(err, roles.ErrForbidden) || errors.Is(err, roles.ErrInvalid) || errors.Is(err, roles.ErrConstraint) ||
		errors.Is(err, roles.ErrInvalidRole) || errors.Is(err, roles.ErrLastManager) {
		status := http.StatusBadRequest
		if errors.Is(err, roles.ErrForbidden) {
			status = http.StatusForbidden
		}
		msg := rolesRefusal(err)
		if errors.Is(err, roles.ErrLastManager) {
			msg = "Nothing was changed: the practice must keep at least one member who can manage members and assign roles."
		}
		s.renderMember(w, r, pr, m, status, consoleMemberData{Error: msg, Open: "roles"})
		return
	}
	s.consoleFail(w, r, pr, err, s.memberLink(pr, m.ID))
}

func (s *Server) consoleMemberProfile(w http.ResponseWriter, r *http.Request) {
	pr, m, ok := s.accessForm(w, r, roles.PermManageMembers)
	if !ok {
		return
	}
	name := r.PostForm.Get("display_name")
	if len(name) > 4*account.MaxDisplayNameRunes+64 {
		name = name[:4*account.MaxDisplayNameRunes+64] // still too long: refused below
	}
	_, err := s.d.Accounts.SetDisplayName(r.Context(), pr.Practice.Slug, account.Actor{MemberID: pr.Member.ID}, m.ID, name, s.meta(r))
	var invalid *account.InvalidInputError
	switch {
	case err == nil:
		http.Redirect(w, r, "/p/"+pr.Practice.Slug+"/admin/members/"+url.PathEscape(m.ID)+"?done=profile", http.StatusSeeOther)
	case errors.As(err, &invalid):
		s.renderMember(w, r, pr, m, http.StatusBadRequest, consoleMemberData{
			Error: "Nothing was changed. Check the display name: " + invalid.Reason + ".", Open: "profile"})
	default:
		s.consoleFail(w, r, pr, err, s.memberLink(pr, m.ID))
	}
}

// confirmPage renders a confirmation whose Cancel returns to back.
func (s *Server) confirmPage(w http.ResponseWriter, r *http.Request, pr account.Principal, title, message, action, confirm, back string) {
	s.renderAny(w, r, http.StatusOK, "admin_confirm", consoleConfirmData{Practice: viewPractice(pr.Practice),
		Title: title, Message: message, Action: action, Confirm: confirm, CancelURL: back})
}

func (s *Server) memberAction(pr account.Principal, id, what string) string {
	return "/p/" + pr.Practice.Slug + "/admin/members/" + url.PathEscape(id) + "/" + what
}

// memberAction is one confirmed action on a member from the member page: a
// GET shows what it will do, the POST (CSRF-protected) does it and returns
// to the member page with ?done=.
type memberAction struct {
	path    string // URL suffix
	done    string // the member page's notice
	confirm string // the confirmation button
	title   func(m store.Member) string
	message func(m store.Member) string
	run     func(r *http.Request, pr account.Principal, id string) error
}

// memberActions lists the confirmed member actions this server offers; each
// needs members.manage, and the domain method checks again.
func (s *Server) memberActions() []memberAction {
	actor := func(pr account.Principal) account.Actor { return account.Actor{MemberID: pr.Member.ID} }
	acts := []memberAction{
		{path: "deactivate", done: "deactivated", confirm: "Deactivate",
			title: func(m store.Member) string { return "Deactivate " + viewMember(m).Name + "?" },
			message: func(m store.Member) string {
				return "This removes " + m.Email + "'s access: their sessions end, their apps are told to log them out, and their open invitations, " +
					"reset links and temporary passwords stop working. Every record they made is kept. You can reactivate them later."
			},
			run: func(r *http.Request, pr account.Principal, id string) error {
				// Refused before anything changes: supervisees are handed
				// over only when the deactivation itself may go ahead.
				if m, err := s.d.AdminStore.MemberByID(r.Context(), pr.Practice.ID, id); err == nil {
					if err := s.d.Accounts.MayStaff(r.Context(), pr.Practice, actor(pr), m, "deactivate"); err != nil {
						return err
					}
				}
				if err := s.reassignSupervisees(r, pr, id); err != nil {
					return err
				}
				_, err := s.d.Accounts.DeactivateMember(r.Context(), pr.Practice.Slug, actor(pr), id, s.meta(r))
				return err
			}},
		{path: "reactivate", done: "reactivated", confirm: "Reactivate",
			title: func(m store.Member) string { return "Reactivate " + viewMember(m).Name + "?" },
			message: func(m store.Member) string {
				return m.Email + " gets their access back with the roles they had, and logs in with the password or passkeys they had."
			},
			run: func(r *http.Request, pr account.Principal, id string) error {
				_, err := s.d.Accounts.ReactivateMember(r.Context(), pr.Practice.Slug, actor(pr), id, s.meta(r))
				return err
			}},
	}
	if s.d.Passkeys != nil {
		acts = append(acts, memberAction{path: "revoke-passkeys", done: "passkeys", confirm: "Remove passkeys",
			title: func(m store.Member) string { return "Remove every passkey of " + viewMember(m).Name + "?" },
			message: func(m store.Member) string {
				return "Use this when a device with one of " + m.Email + "'s passkeys was lost. All their passkeys stop working and their sessions end; " +
					"they log in with their password (or a temporary password) and can add new passkeys."
			},
			run: func(r *http.Request, pr account.Principal, id string) error {
				_, err := s.d.Passkeys.RevokeMember(r.Context(), pr.Practice.Slug, id, actor(pr), s.meta(r))
				return err
			}})
	}
	return acts
}

func (s *Server) memberActionConfirm(a memberAction) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pr, ok := s.consoleAllowed(w, r, roles.PermManageMembers)
		if !ok {
			return
		}
		m, ok := s.consoleTarget(w, r, pr)
		if !ok {
			return
		}
		if a.path == "deactivate" {
			s.deactivateConfirm(w, r, pr, m, a)
			return
		}
		s.confirmPage(w, r, pr, a.title(m), a.message(m), s.memberAction(pr, m.ID, a.path), a.confirm, s.memberLink(pr, m.ID).URL)
	})
}

func (s *Server) memberActionRun(a memberAction) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pr, ok := s.consoleAllowed(w, r, roles.PermManageMembers)
		if !ok {
			return
		}
		id := r.PathValue("id")
		if err := a.run(r, pr, id); err != nil {
			s.consoleFail(w, r, pr, err, s.memberLink(pr, id))
			return
		}
		http.Redirect(w, r, "/p/"+pr.Practice.Slug+"/admin/members/"+url.PathEscape(id)+"?done="+a.done, http.StatusSeeOther)
	})
}

// Invitations.

type consoleInvitationsData struct {
	Practice    *practiceView
	Nav         consoleNav
	Invitations []consoleInvitation
	Notice      string
	Count       string
	// TemporaryForInvited offers "Temporary password" on open invitations:
	// the practice onboards by temporary password (seed 004).
	TemporaryForInvited bool
}

// consoleInvitation is an invitation row: role names, sends in words,
// whether it may still be resent or revoked.
type consoleInvitation struct {
	onboarding.Invitation
	RoleNames  []string
	Sent       string
	Open       bool
	StateLabel string
}

func (s *Server) consoleInvitations(w http.ResponseWriter, r *http.Request) {
	pr, ok := s.consoleAllowed(w, r, roles.PermManageMembers)
	if !ok {
		return
	}
	invs, err := s.d.Onboarding.Invitations(r.Context(), pr.Practice.Slug, account.Actor{MemberID: pr.Member.ID})
	if err != nil {
		s.consoleFail(w, r, pr, err, s.membersLink(pr))
		return
	}
	model, err := s.d.AdminRoles.Model(r.Context(), pr.Practice.ID)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	names := namesOf(model)
	data := consoleInvitationsData{Practice: viewPractice(pr.Practice), Nav: s.nav(r, pr),
		Count:               countWords(len(invs), "invitation", "invitations"),
		TemporaryForInvited: s.may(r, pr, roles.PermResetPasswords) && s.onboardsByTemporaryPassword(r, pr.Practice)}
	for _, i := range invs {
		row := consoleInvitation{Invitation: i, RoleNames: names.of(i.Roles), Open: openInvitation(i.State),
			StateLabel: upperFirst(string(i.State))}
		switch i.Sends {
		case 1:
			row.Sent = "Once"
		case 2:
			row.Sent = "Twice"
		default:
			row.Sent = strconv.Itoa(i.Sends) + " times"
		}
		data.Invitations = append(data.Invitations, row)
	}
	switch r.URL.Query().Get("done") {
	case "resent":
		data.Notice = "The invitation was sent again with a new link; the old link no longer works."
	case "revoked":
		data.Notice = "The invitation was revoked; its link no longer works."
	}
	s.renderAny(w, r, http.StatusOK, "admin_invitations", data)
}

func (s *Server) invitationsLink(pr account.Principal) *nextLink {
	return &nextLink{URL: "/p/" + pr.Practice.Slug + "/admin/invitations", Label: "Invitations"}
}

func (s *Server) consoleInvitationResend(w http.ResponseWriter, r *http.Request) {
	pr, ok := s.consoleAllowed(w, r, roles.PermManageMembers)
	if !ok {
		return
	}
	if !s.parseForm(w, r, viewPractice(pr.Practice)) {
		return
	}
	inv, err := s.d.Onboarding.ResendInvitation(r.Context(), pr.Practice.Slug, account.Actor{MemberID: pr.Member.ID},
		r.PathValue("id"), s.meta(r))
	if err != nil {
		s.consoleFail(w, r, pr, err, s.invitationsLink(pr))
		return
	}
	// Back where the button was: the member's page, the members list or
	// the invitations.
	switch r.PostForm.Get("return") {
	case "member":
		http.Redirect(w, r, "/p/"+pr.Practice.Slug+"/admin/members/"+url.PathEscape(inv.MemberID)+"?done=resent", http.StatusSeeOther)
	case "members":
		http.Redirect(w, r, "/p/"+pr.Practice.Slug+"/admin/members?done=resent", http.StatusSeeOther)
	default:
		http.Redirect(w, r, "/p/"+pr.Practice.Slug+"/admin/invitations?done=resent", http.StatusSeeOther)
	}
}

func (s *Server) consoleInvitationRevokeConfirm(w http.ResponseWriter, r *http.Request) {
	pr, ok := s.consoleAllowed(w, r, roles.PermManageMembers)
	if !ok {
		return
	}
	invs, err := s.d.Onboarding.Invitations(r.Context(), pr.Practice.Slug, account.Actor{MemberID: pr.Member.ID})
	if err != nil {
		s.consoleFail(w, r, pr, err, s.invitationsLink(pr))
		return
	}
	i := slices.IndexFunc(invs, func(v onboarding.Invitation) bool { return v.ID == r.PathValue("id") })
	if i < 0 {
		s.consoleFail(w, r, pr, onboarding.ErrInvitationNotFound, s.invitationsLink(pr))
		return
	}
	s.confirmPage(w, r, pr, "Revoke the invitation to "+invs[i].Email+"?",
		"The invitation link stops working. You can invite the person again later.",
		"/p/"+pr.Practice.Slug+"/admin/invitations/"+url.PathEscape(invs[i].ID)+"/revoke", "Revoke invitation",
		s.invitationsLink(pr).URL)
}

func (s *Server) consoleInvitationRevoke(w http.ResponseWriter, r *http.Request) {
	pr, ok := s.consoleAllowed(w, r, roles.PermManageMembers)
	if !ok {
		return
	}
	if err := s.d.Onboarding.RevokeInvitation(r.Context(), pr.Practice.Slug, account.Actor{MemberID: pr.Member.ID},
		r.PathValue("id"), s.meta(r)); err != nil {
		s.consoleFail(w, r, pr, err, s.invitationsLink(pr))
		return
	}
	http.Redirect(w, r, "/p/"+pr.Practice.Slug+"/admin/invitations?done=revoked", http.StatusSeeOther)
}

// Creating a role.

func (s *Server) consoleRoleCreate(w http.ResponseWriter, r *http.Request) {
	pr, ok := s.consoleAllowed(w, r, roles.PermDefine)
	if !ok {
		return
	}
	if !s.parseForm(w, r, viewPractice(pr.Practice)) {
		return
	}
	role := roles.Role{Key: trimTo(r.PostForm.Get("key"), 40), Name: trimTo(r.PostForm.Get("name"), 200),
		Description: trimTo(r.PostForm.Get("description"), 1000)}
	perms, refused := formPermissions(r.PostForm, "Nothing was created")
	if refused != "" {
		s.renderRoles(w, r, pr, http.StatusBadRequest, consoleRolesData{Error: refused, NewRole: role, NewOpen: true})
		return
	}
	role.Permissions = perms
	m, err := s.d.AdminRoles.Model(r.Context(), pr.Practice.ID)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	if slices.ContainsFunc(m.Roles, func(x roles.Role) bool { return x.Key == role.Key }) {
		s.renderRoles(w, r, pr, http.StatusConflict, consoleRolesData{Error: "Nothing was created: the practice already has a role with the key " +
			role.Key + ". Choose another key, or edit that role above.", NewRole: role, NewOpen: true})
		return
	}
	err = s.d.AdminRoles.PutRole(r.Context(), roles.Actor{PracticeID: pr.Practice.ID, MemberID: pr.Member.ID}, role, s.rolesMeta(r))
	if err == nil {
		http.Redirect(w, r, "/p/"+pr.Practice.Slug+"/admin/roles?done=created", http.StatusSeeOther)
		return
	}
	switch {
	case errors.Is(err, roles.ErrForbidden), errors.Is(err, roles.ErrInvalid), errors.Is(err, roles.ErrConstraint),
		errors.Is(err, roles.ErrInvalidRole), errors.Is(err, roles.ErrBadPermission), errors.Is(err, roles.ErrLastManager):
		status := http.StatusBadRequest
		if errors.Is(err, roles.ErrForbidden) {
			status = http.StatusForbidden
		}
		s.renderRoles(w, r, pr, status, consoleRolesData{Error: roleRefusal("Nothing was created", err),
			NewRole: role, NewOpen: true})
	default:
		s.internalError(w, r, err)
	}
}

// Apps.

type consoleAppsData struct {
	Practice  *practiceView
	Nav       consoleNav
	Apps      []store.App
	CanManage bool
	Notice    string
	Error     string
	// The registration form, refilled after a refusal.
	Name, RedirectURIs, RequirePermission string
	BackchannelLogoutURI, AccessTokenTTL  string // as typed: seconds
	Grants                                map[string]bool
	Confidential                          bool
	// IDTokenAlg and AccessTokenAlg are the registration form's choices;
	// Algorithms lists what may be chosen.
	IDTokenAlg, AccessTokenAlg string
	Algorithms                 []string
	// DisplayName and LaunchURL: how staff open the app from their home
	// page (console_launch.go).
	DisplayName, LaunchURL string
}

type consoleAppSecretData struct {
	Practice *practiceView
	Title    string
	App      store.App
	Secret   string
}

func (s *Server) renderApps(w http.ResponseWriter, r *http.Request, pr account.Principal, status int, data consoleAppsData) {
	apps, err := s.d.OIDC.Apps(r.Context(), pr.Practice.ID)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	data.Practice, data.Nav, data.Apps = viewPractice(pr.Practice), s.nav(r, pr), apps
	data.CanManage = s.may(r, pr, roles.PermEditSettings)
	if data.Grants == nil {
		data.Grants = map[string]bool{"authorization_code": true, "refresh_token": true}
	}
	data.Algorithms = []string{oidc.AlgRS256, oidc.AlgES256}
	if data.IDTokenAlg == "" {
		data.IDTokenAlg = oidc.AlgRS256
	}
	if data.AccessTokenAlg == "" {
		data.AccessTokenAlg = oidc.AlgES256
	}
	s.renderAny(w, r, status, "admin_apps", data)
}

func (s *Server) consoleApps(w http.ResponseWriter, r *http.Request) {
	pr, ok := s.consoleAllowed(w, r, roles.PermViewSettings)
	if !ok {
		return
	}
	data := consoleAppsData{Confidential: true}
	switch r.URL.Query().Get("done") {
	case "removed":
		data.Notice = "The app was removed: it can no longer log anyone in, and its refresh tokens were revoked."
	case "permission":
		data.Notice = "The app's required permission was saved. Members without it can no longer log in to the app, " +
			"and their next token refresh is refused."
	case "tokens":
		data.Notice = "The app's back-channel logout URI, access-token lifetime and algorithms were saved. New tokens get the new lifetime and algorithms."
	case "launch":
		data.Notice = "How staff open the app from their home page was saved."
	}
	s.renderApps(w, r, pr, http.StatusOK, data)
}

func (s *Server) appsLink(pr account.Principal) *nextLink {
	return &nextLink{URL: "/p/" + pr.Practice.Slug + "/admin/apps", Label: "Apps"}
}

func (s *Server) consoleAppRegister(w http.ResponseWriter, r *http.Request) {
	pr, ok := s.consoleAllowed(w, r, roles.PermEditSettings)
	if !ok {
		return
	}
	if !s.parseForm(w, r, viewPractice(pr.Practice)) {
		return
	}
	data := consoleAppsData{Name: trimTo(r.PostForm.Get("name"), 200), RedirectURIs: trimTo(r.PostForm.Get("redirect_uris"), 25000),
		RequirePermission:    trimTo(r.PostForm.Get("require_permission"), 200),
		BackchannelLogoutURI: trimTo(r.PostForm.Get("backchannel_logout_uri"), 2100),
		AccessTokenTTL:       trimTo(r.PostForm.Get("access_token_ttl"), 20),
		IDTokenAlg:           trimTo(r.PostForm.Get("id_token_signed_response_alg"), 10),
		AccessTokenAlg:       trimTo(r.PostForm.Get("access_token_signing_alg"), 10),
		DisplayName:          trimTo(r.PostForm.Get("display_name"), 400),
		LaunchURL:            trimTo(r.PostForm.Get("launch_url"), 2100),
		Grants:               map[string]bool{}, Confidential: r.PostForm.Get("kind") != "public"}
	ttl, ttlErr := formTTL(data.AccessTokenTTL)
	req := oidc.AppRequest{Name: data.Name, Confidential: data.Confidential, RequirePermission: data.RequirePermission,
		BackchannelLogoutURI: data.BackchannelLogoutURI, AccessTokenTTL: ttl,
		IDTokenAlg: data.IDTokenAlg, AccessTokenAlg: data.AccessTokenAlg,
		DisplayName: data.DisplayName, LaunchURL: data.LaunchURL}
	for line := range strings.SplitSeq(data.RedirectURIs, "\n") {
		if line = strings.TrimSpace(line); line != "" && len(req.RedirectURIs) < 50 {
			req.RedirectURIs = append(req.RedirectURIs, line)
		}
	}
	for _, g := range r.PostForm["grant"] {
		if !data.Grants[g] && len(req.GrantTypes) < 10 {
			data.Grants[g] = true
			req.GrantTypes = append(req.GrantTypes, g)
		}
	}
	if len(req.GrantTypes) == 0 {
		data.Error = "Choose at least one way the app gets tokens."
		s.renderApps(w, r, pr, http.StatusBadRequest, data)
		return
	}
	if ttlErr != nil {
		data.Error = appReason(ttlErr)
		s.renderApps(w, r, pr, http.StatusBadRequest, data)
		return
	}
	app, secret, err := s.d.OIDC.RegisterApp(r.Context(), pr.Practice.ID, pr.Member.ID, req, s.meta(r))
	switch {
	case err == nil:
		s.renderAny(w, r, http.StatusCreated, "admin_app_secret", consoleAppSecretData{Practice: viewPractice(pr.Practice),
			Title: "App registered", App: app, Secret: secret})
	case errors.Is(err, oidc.ErrInvalidApp):
		data.Error = appReason(err)
		s.renderApps(w, r, pr, http.StatusBadRequest, data)
	default:
		s.consoleFail(w, r, pr, err, s.appsLink(pr))
	}
}

// consoleApp loads the path's app for a confirmation page.
func (s *Server) consoleApp(w http.ResponseWriter, r *http.Request, pr account.Principal) (store.App, bool) {
	a, err := s.d.OIDC.App(r.Context(), pr.Practice.ID, r.PathValue("client_id"))
	if err != nil {
		s.consoleFail(w, r, pr, err, s.appsLink(pr))
		return a, false
	}
	return a, true
}

func (s *Server) appAction(pr account.Principal, id, what string) string {
	return "/p/" + pr.Practice.Slug + "/admin/apps/" + url.PathEscape(id) + "/" + what
}

func (s *Server) consoleAppRotateConfirm(w http.ResponseWriter, r *http.Request) {
	pr, ok := s.consoleAllowed(w, r, roles.PermEditSettings)
	if !ok {
		return
	}
	a, ok := s.consoleApp(w, r, pr)
	if !ok {
		return
	}
	s.confirmPage(w, r, pr, "Give "+a.Name+" a new secret?",
		"The current secret stops working at once. The new secret is shown on the next page, once: put it in the app's configuration straight away.",
		s.appAction(pr, a.ClientID, "rotate"), "Rotate secret", s.appsLink(pr).URL)
}

func (s *Server) consoleAppRotate(w http.ResponseWriter, r *http.Request) {
	pr, ok := s.consoleAllowed(w, r, roles.PermEditSettings)
	if !ok {
		return
	}
	a, secret, err := s.d.OIDC.RotateAppSecret(r.Context(), pr.Practice.ID, r.PathValue("client_id"), pr.Member.ID, s.meta(r))
	if err != nil {
		s.consoleFail(w, r, pr, err, s.appsLink(pr))
		return
	}
	s.renderAny(w, r, http.StatusOK, "admin_app_secret", consoleAppSecretData{Practice: viewPractice(pr.Practice),
		Title: "New secret for " + a.Name, App: a, Secret: secret})
}

func (s *Server) consoleAppRemoveConfirm(w http.ResponseWriter, r *http.Request) {
	pr, ok := s.consoleAllowed(w, r, roles.PermEditSettings)
	if !ok {
		return
	}
	a, ok := s.consoleApp(w, r, pr)
	if !ok {
		return
	}
	s.confirmPage(w, r, pr, "Remove "+a.Name+"?",
		"Nobody can log in to this app through frontdesk any more, it gets no new tokens, and its refresh tokens are revoked. "+
			"Tokens it already holds expire within minutes. This cannot be undone; register it again if you need it back.",
		s.appAction(pr, a.ClientID, "remove"), "Remove app", s.appsLink(pr).URL)
}

func (s *Server) consoleAppRemove(w http.ResponseWriter, r *http.Request) {
	pr, ok := s.consoleAllowed(w, r, roles.PermEditSettings)
	if !ok {
		return
	}
	if _, err := s.d.OIDC.RemoveApp(r.Context(), pr.Practice.ID, r.PathValue("client_id"), pr.Member.ID, s.meta(r)); err != nil {
		s.consoleFail(w, r, pr, err, s.appsLink(pr))
		return
	}
	http.Redirect(w, r, "/p/"+pr.Practice.Slug+"/admin/apps?done=removed", http.StatusSeeOther)
}

// consoleAppPermission changes the permission an app requires ("" for none).
func (s *Server) consoleAppPermission(w http.ResponseWriter, r *http.Request) {
	pr, ok := s.consoleAllowed(w, r, roles.PermEditSettings)
	if !ok {
		return
	}
	if !s.parseForm(w, r, viewPractice(pr.Practice)) {
		return
	}
	perm := trimTo(r.PostForm.Get("require_permission"), 200)
	if _, err := s.d.OIDC.SetAppPermission(r.Context(), pr.Practice.ID, r.PathValue("client_id"), pr.Member.ID, perm, s.meta(r)); err != nil {
		s.consoleFail(w, r, pr, err, s.appsLink(pr))
		return
	}
	http.Redirect(w, r, "/p/"+pr.Practice.Slug+"/admin/apps?done=permission", http.StatusSeeOther)
}

// formTTL reads an access-token lifetime typed in seconds ("" or 0 for the
// server's default); the provider checks its bounds.
func formTTL(v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || n > 1<<20 {
		return 0, oidc.ErrInvalidApp.Withf("access token lifetime %q must be a number of seconds, 60 to 3600, or 0 (or empty) "+
			"for the server's default", v)
	}
	return time.Duration(n) * time.Second, nil
}

// consoleAppTokens changes an app's back-channel logout URI ("" for none),
// access-token lifetime (seconds; "" or 0 for the server's default) and,
// when the form sends them, its token algorithms.
func (s *Server) consoleAppTokens(w http.ResponseWriter, r *http.Request) {
	pr, ok := s.consoleAllowed(w, r, roles.PermEditSettings)
	if !ok {
		return
	}
	if !s.parseForm(w, r, viewPractice(pr.Practice)) {
		return
	}
	uri := trimTo(r.PostForm.Get("backchannel_logout_uri"), 2100)
	ttl, err := formTTL(trimTo(r.PostForm.Get("access_token_ttl"), 20))
	if err == nil {
		upd := oidc.AppUpdate{BackchannelLogoutURI: &uri, AccessTokenTTL: &ttl}
		if _, ok := r.PostForm["id_token_signed_response_alg"]; ok {
			v := trimTo(r.PostForm.Get("id_token_signed_response_alg"), 10)
			upd.IDTokenAlg = &v
		}
		if _, ok := r.PostForm["access_token_signing_alg"]; ok {
			v := trimTo(r.PostForm.Get("access_token_signing_alg"), 10)
			upd.AccessTokenAlg = &v
		}
		_, err = s.d.OIDC.UpdateApp(r.Context(), pr.Practice.ID, r.PathValue("client_id"), pr.Member.ID, upd, s.meta(r))
	}
	if err != nil {
		s.consoleFail(w, r, pr, err, s.appsLink(pr))
		return
	}
	http.Redirect(w, r, "/p/"+pr.Practice.Slug+"/admin/apps?done=tokens", http.StatusSeeOther)
}
