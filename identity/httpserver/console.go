package httpserver

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/onboarding"
	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/lockout"
)

// The administrator's console: server-rendered pages under /p/{practice}/admin
// that work without JavaScript, signed in with the browser session and checked
// against the member's current permissions on every request, exactly like the
// admin API. State changes are POST forms behind cross-origin protection, each
// reached through a confirmation page.

func (s *Server) consoleRoutes() {
	if s.d.AdminStore == nil || s.d.AdminRoles == nil {
		return
	}
	s.handle("GET /p/{practice}/admin", http.HandlerFunc(s.consoleIndex))
	s.handle("GET /p/{practice}/admin/{$}", http.HandlerFunc(s.consoleIndex))
	s.handle("GET /p/{practice}/admin/members", http.HandlerFunc(s.consoleMembers))
	s.handle("GET /p/{practice}/admin/members/{id}/unlock", http.HandlerFunc(s.consoleUnlockConfirm))
	s.handleForm("POST /p/{practice}/admin/members/{id}/unlock", http.HandlerFunc(s.consoleUnlock))
	s.handle("GET /p/{practice}/admin/members/{id}/temporary-password", http.HandlerFunc(s.consoleTemporaryConfirm))
	s.handleForm("POST /p/{practice}/admin/members/{id}/temporary-password", http.HandlerFunc(s.consoleTemporary))
	s.handle("GET /p/{practice}/admin/invite", http.HandlerFunc(s.consoleInvitePage))
	s.handleForm("POST /p/{practice}/admin/invite", http.HandlerFunc(s.consoleInvite))
	s.handle("GET /p/{practice}/admin/roles", http.HandlerFunc(s.consoleRoles))
	s.handleForm("POST /p/{practice}/admin/roles/{key}", http.HandlerFunc(s.consoleRoleSave))
	s.handleForm("POST /p/{practice}/admin/toggles/{key}", http.HandlerFunc(s.consoleToggle))
	s.handle("GET /p/{practice}/admin/audit", http.HandlerFunc(s.consoleAudit))
	s.handle("GET /p/{practice}/admin/audit/export", http.HandlerFunc(s.consoleAuditExport))
	s.consoleManageRoutes()
	s.consoleAccessRoutes()
	s.consoleSecurityRoutes()
}

// consoleMember is a member row of the console.
type consoleMember struct {
	ID, Name, Email, Status string
	Roles                   []string
	DisplayName             string
	// RoleNames are the names of Roles, in words.
	RoleNames []string
	// SupervisedBy names the member's supervisors ("" when not supervised):
	// the members list shows a Supervisee label with it.
	SupervisedBy string
	// Invitation is the member's open invitation (pending, expired or
	// undelivered), "" when none; InvitationState says which.
	Invitation, InvitationState string
	// Self is the signed-in administrator's own row.
	Self bool
}

// StatusLabel is the member's status in words.
func (m consoleMember) StatusLabel() string { return statusLabel(m.Status) }

func statusLabel(st string) string {
	switch store.MemberStatus(st) {
	case store.StatusInvited:
		return "Invited"
	case store.StatusActive:
		return "Active"
	case store.StatusLocked:
		return "Locked"
	case store.StatusDeactivated:
		return "Deactivated"
	}
	return st
}

// consoleStatus is one choice of the status filter.
type consoleStatus struct{ Key, Label string }

func consoleStatuses() []consoleStatus {
	var out []consoleStatus
	for _, st := range []store.MemberStatus{store.StatusInvited, store.StatusActive, store.StatusLocked, store.StatusDeactivated} {
		out = append(out, consoleStatus{Key: string(st), Label: statusLabel(string(st))})
	}
	return out
}

// consoleRoleFilter is one role of the members list's role filter.
type consoleRoleFilter struct {
	Key, Name string
	Checked   bool
}

type consoleMembersData struct {
	Practice               *practiceView
	Members                []consoleMember
	Roles                  []consoleRoleFilter
	AllRoles               bool   // "Select all": no role filter
	RoleSummary            string // "all", or the chosen roles' names
	Statuses               []consoleStatus
	Query, Status          string
	NextURL, Notice, Error string
	// LoginURL is the practice's permanent login address, for
	// administrators to share with their staff (seed 002).
	LoginURL                      string
	Count                         string // "3 members shown"
	CanUnlock, CanReset, CanAudit bool
	CanInvite                     bool
	// TemporaryForInvited shows "Temporary password" on invited rows: the
	// practice onboards by temporary password (seed 004).
	TemporaryForInvited bool
	Nav                 consoleNav
}

type consoleInviteData struct {
	Practice           *practiceView
	Roles              []roles.Role // those the administrator may give
	Checked            map[string]bool
	Email, Name, Error string
	// Supervision chosen up front (seed 003), offered to holders of
	// roles.assign: a supervisor (by member ID, "" for none) and what they
	// must co-sign.
	CanSupervise             bool
	Supervisors              []supervisorChoice
	Supervisor               string
	CosignNotes, CosignPlans bool
	// ErrorField is the form field the error is about ("email", "role",
	// "supervisor"), for aria-describedby.
	ErrorField string
	// Pending is the address's pending invitation when re-inviting it: the
	// form asks whether to update it.
	Pending *consolePending
}

// consolePending describes a pending invitation for the update question.
type consolePending struct {
	Email, Roles, Sent string
}

type consoleConfirmData struct {
	Practice                        *practiceView
	Title, Message, Action, Confirm string
	// CancelURL is where Cancel leads; "" means the members list.
	CancelURL string
	// Return, when set, is posted back as return= (where to land after).
	Return string
}

// renderAny renders a console page with its own data type.
func (s *Server) renderAny(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
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

// consoleAllowed signs the member in and checks perm against their current
// permissions, answering the page itself when it returns false.
func (s *Server) consoleAllowed(w http.ResponseWriter, r *http.Request, perm string) (account.Principal, bool) {
	pr, ok := s.signedIn(w, r)
	if !ok {
		return pr, false
	}
	allowed, err := s.d.AdminRoles.Allowed(r.Context(), pr.Practice.ID, pr.Member.ID, perm)
	if err != nil {
		s.internalError(w, r, err)
		return pr, false
	}
	if !allowed {
		s.message(w, r, http.StatusForbidden, viewPractice(pr.Practice), "Not allowed",
			"Your roles do not include this part of the administration. Ask your practice's account owner if you need it.",
			&nextLink{URL: "/p/" + pr.Practice.Slug + "/", Label: "Back to your account"})
		return pr, false
	}
	return pr, true
}

func (s *Server) may(r *http.Request, pr account.Principal, perm string) bool {
	ok, err := s.d.AdminRoles.Allowed(r.Context(), pr.Practice.ID, pr.Member.ID, perm)
	return err == nil && ok
}

func (s *Server) consoleIndex(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.practice(w, r); !ok {
		return
	}
	http.Redirect(w, r, "/p/"+r.PathValue("practice")+"/admin/members", http.StatusSeeOther)
}

type consoleCursor struct {
	K string `json:"k"`
	I string `json:"i"`
}

func (s *Server) consoleMembers(w http.ResponseWriter, r *http.Request) {
	pr, ok := s.consoleAllowed(w, r, roles.PermViewMembers)
	if !ok {
		return
	}
	q := r.URL.Query()
	data := consoleMembersData{Practice: viewPractice(pr.Practice), Query: trimTo(q.Get("q"), 200),
		Status:    q.Get("status"),
		Statuses:  consoleStatuses(),
		CanUnlock: s.may(r, pr, roles.PermUnlock), CanReset: s.may(r, pr, roles.PermResetPasswords),
		CanAudit: s.may(r, pr, roles.PermAudit), CanInvite: s.may(r, pr, roles.PermManageMembers), Nav: s.nav(r, pr),
		LoginURL: s.d.Accounts.LoginURL(pr.Practice)}
	data.TemporaryForInvited = data.CanReset && s.onboardsByTemporaryPassword(r, pr.Practice)
	switch q.Get("done") {
	case "unlocked":
		data.Notice = "The member was unlocked and has been emailed."
	case "notlocked":
		data.Notice = "The member was not locked. " + msgNotLocked
	case "temporary":
		data.Notice = "A temporary password was emailed to the member. You never see it."
	case "invited":
		data.Notice = "The invitation was sent. It shows as invited until they accept it."
	case "resent":
		data.Notice = "The invitation was sent again with a new link; the old link no longer works."
	}
	model, err := s.d.AdminRoles.Model(r.Context(), pr.Practice.ID)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	names := namesOf(model)
	// The role filter: the ticked roles of the practice (old links' single
	// role= included). None or every one ticked is no filter, shown as
	// "Select all" ticked; the all= box itself only helps the script, so a
	// role ticked without unticking "Select all" still filters.
	wanted := q["role"]
	if len(wanted) > 50 {
		wanted = wanted[:50]
	}
	var keys []string
	for _, role := range model.Roles {
		c := consoleRoleFilter{Key: role.Key, Name: role.Name, Checked: slices.Contains(wanted, role.Key)}
		if c.Checked {
			keys = append(keys, role.Key)
		}
		data.Roles = append(data.Roles, c)
	}
	if len(keys) == 0 || len(keys) == len(model.Roles) {
		data.AllRoles, keys = true, nil
		for i := range data.Roles {
			data.Roles[i].Checked = false
		}
	}
	data.RoleSummary = "all"
	if !data.AllRoles {
		data.RoleSummary = strings.Join(names.of(keys), ", ")
	}
	f := store.MemberFilter{PracticeID: pr.Practice.ID, Query: data.Query, Roles: keys, Limit: 50}
	if data.Status != "" {
		if !store.MemberStatus(data.Status).Valid() {
			data.Status = ""
		} else {
			f.Status = store.MemberStatus(data.Status)
		}
	}
	if c := q.Get("cursor"); c != "" {
		var cur consoleCursor
		if raw, err := base64.RawURLEncoding.DecodeString(c); err == nil && len(raw) < 1024 && json.Unmarshal(raw, &cur) == nil {
			f.AfterEmailKey, f.AfterID = cur.K, cur.I
		}
	}
	ms, more, err := s.d.AdminStore.ListMembers(r.Context(), f)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	rows, err := s.memberRows(r, pr, ms, names, data.CanInvite)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	data.Members = rows
	data.Count = countWords(len(rows), "member", "members") + " shown"
	if more {
		last := ms[len(ms)-1]
		raw, _ := json.Marshal(consoleCursor{K: store.EmailKey(last.Email), I: last.ID})
		next := url.Values{"q": {data.Query}, "role": keys, "status": {data.Status},
			"cursor": {base64.RawURLEncoding.EncodeToString(raw)}}
		data.NextURL = "/p/" + pr.Practice.Slug + "/admin/members?" + next.Encode()
	}
	w.Header().Set("Content-Security-Policy", consoleScriptCSP)
	s.renderAny(w, r, http.StatusOK, "admin_members", data)
}

// memberRows turns members into the list's rows: role names, supervisors by
// name, and (for those who manage members) the open invitation of invited
// members.
func (s *Server) memberRows(r *http.Request, pr account.Principal, ms []store.Member, names roleNames, invitations bool) ([]consoleMember, error) {
	ctx := r.Context()
	open := map[string]onboarding.Invitation{}
	if invitations && slices.ContainsFunc(ms, func(m store.Member) bool { return m.Status == store.StatusInvited }) {
		invs, err := s.d.Onboarding.Invitations(ctx, pr.Practice.Slug, account.Actor{MemberID: pr.Member.ID})
		if err != nil {
			return nil, err
		}
		for _, i := range invs {
			if openInvitation(i.State) {
				if cur, ok := open[i.MemberID]; !ok || i.CreatedAt.After(cur.CreatedAt) {
					open[i.MemberID] = i
				}
			}
		}
	}
	nameOf := map[string]string{}
	for _, m := range ms {
		nameOf[m.ID] = viewMember(m).Name
	}
	var out []consoleMember
	for _, m := range ms {
		row := consoleMember{ID: m.ID, Name: nameOf[m.ID], Email: m.Email, Status: string(m.Status), Roles: m.Roles,
			RoleNames: names.of(m.Roles), Self: m.ID == pr.Member.ID}
		if m.Status != store.StatusDeactivated {
			eff, err := s.d.AdminRoles.EffectiveMember(ctx, m)
			if err != nil {
				return nil, err
			}
			var sups []string
			for _, id := range eff.Supervisors {
				n, ok := nameOf[id]
				if !ok {
					sm, err := s.d.AdminStore.MemberByID(ctx, pr.Practice.ID, id)
					if err != nil {
						continue
					}
					n = viewMember(sm).Name
					nameOf[id] = n
				}
				sups = append(sups, n)
			}
			row.SupervisedBy = strings.Join(sups, ", ")
		}
		if i, ok := open[m.ID]; ok && m.Status == store.StatusInvited {
			row.Invitation, row.InvitationState = i.ID, string(i.State)
		}
		out = append(out, row)
	}
	return out, nil
}

// openInvitation reports whether an invitation in state st may still be
// resent or revoked.
func openInvitation(st store.InvitationState) bool {
	return st == store.InvitationPending || st == store.InvitationExpired || st == store.InvitationDeliveryFailed
}

// countWords is "1 member", "3 members", "No members".
func countWords(n int, one, many string) string {
	switch n {
	case 0:
		return "No " + many
	case 1:
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// consoleTarget loads the path's member for a confirmation page or action.
func (s *Server) consoleTarget(w http.ResponseWriter, r *http.Request, pr account.Principal) (store.Member, bool) {
	m, err := s.d.AdminStore.MemberByID(r.Context(), pr.Practice.ID, r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		s.message(w, r, http.StatusNotFound, viewPractice(pr.Practice), "Member not found",
			"There is no such member in this practice. Go back to the members list and pick one there.",
			&nextLink{URL: "/p/" + pr.Practice.Slug + "/admin/members", Label: "Members"})
		return m, false
	}
	if err != nil {
		s.internalError(w, r, err)
		return m, false
	}
	return m, true
}

func (s *Server) consoleUnlockConfirm(w http.ResponseWriter, r *http.Request) {
	pr, ok := s.consoleAllowed(w, r, roles.PermUnlock)
	if !ok {
		return
	}
	m, ok := s.consoleTarget(w, r, pr)
	if !ok {
		return
	}
	if m.Status != store.StatusLocked {
		// Every holder of the unlock permission gets the lockout mail, so
		// its link is often followed after someone else has unlocked.
		s.message(w, r, http.StatusOK, viewPractice(pr.Practice), viewMember(m).Name+" is not locked",
			msgNotLocked, s.memberLink(pr, m.ID))
		return
	}
	data := consoleConfirmData{Practice: viewPractice(pr.Practice),
		Title: "Unlock " + viewMember(m).Name + "?",
		Message: "This lifts the lock on " + m.Email + " after failed password attempts, so they can log in again. " +
			"They will be emailed that their account was unlocked.",
		Action: "/p/" + pr.Practice.Slug + "/admin/members/" + url.PathEscape(m.ID) + "/unlock", Confirm: "Unlock"}
	if r.URL.Query().Get("from") == "member" {
		data.Return, data.CancelURL = "member", s.memberLink(pr, m.ID).URL
	}
	s.renderAny(w, r, http.StatusOK, "admin_confirm", data)
}

func (s *Server) consoleUnlock(w http.ResponseWriter, r *http.Request) {
	pr, ok := s.consoleAllowed(w, r, roles.PermUnlock)
	if !ok {
		return
	}
	res, err := s.d.Accounts.Locks().UnlockMember(r.Context(), pr.Practice.Lockout(), r.PathValue("id"),
		lockout.Actor{MemberID: pr.Member.ID}, lockout.Meta(s.meta(r)))
	if !s.consoleActionOK(w, r, pr, err) {
		return
	}
	done := "unlocked"
	if !res.WasLocked {
		done = "notlocked" // nothing lifted, no mail sent
	}
	if r.PostFormValue("return") == "member" {
		http.Redirect(w, r, "/p/"+pr.Practice.Slug+"/admin/members/"+url.PathEscape(r.PathValue("id"))+"?done="+done, http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/p/"+pr.Practice.Slug+"/admin/members?done="+done, http.StatusSeeOther)
}

// msgNotLocked answers an unlock of a member who is not locked (anymore).
// It says nothing of logging in: the member may be invited or deactivated
// rather than unlocked.
const msgNotLocked = "Nothing was changed and no email was sent. " +
	"Someone may have unlocked them already; the audit trail says who."

func (s *Server) consoleTemporaryConfirm(w http.ResponseWriter, r *http.Request) {
	pr, ok := s.consoleAllowed(w, r, roles.PermResetPasswords)
	if !ok {
		return
	}
	m, ok := s.consoleTarget(w, r, pr)
	if !ok {
		return
	}
	// Say at once when it cannot work, rather than after the button.
	back := s.memberLink(pr, m.ID)
	name := viewMember(m).Name
	switch {
	case m.Status == store.StatusLocked:
		s.message(w, r, http.StatusConflict, viewPractice(pr.Practice), "Unlock first",
			name+"'s account is locked after failed password attempts. Unlock it first; then, if they have forgotten "+
				"their password, email them a temporary password.", back)
		return
	case m.Status == store.StatusDeactivated:
		s.message(w, r, http.StatusConflict, viewPractice(pr.Practice), "Not possible",
			name+" is deactivated. Reactivate them first if they should have access again.", back)
		return
	case m.Status == store.StatusInvited && !s.onboardsByTemporaryPassword(r, pr.Practice):
		s.message(w, r, http.StatusConflict, viewPractice(pr.Practice), "Not possible yet",
			name+" has not accepted their invitation yet. Resend the invitation from their page instead.", back)
		return
	}
	s.renderAny(w, r, http.StatusOK, "admin_confirm", consoleConfirmData{Practice: viewPractice(pr.Practice),
		Title: "Email a temporary password to " + name + "?",
		Message: "A new single-use temporary password goes to " + m.Email + " only; you will not see it. " +
			"Any earlier temporary password stops working. After logging in with it they must choose a new password.",
		Action:  "/p/" + pr.Practice.Slug + "/admin/members/" + url.PathEscape(m.ID) + "/temporary-password",
		Confirm: "Email temporary password"})
}

func (s *Server) consoleTemporary(w http.ResponseWriter, r *http.Request) {
	pr, ok := s.consoleAllowed(w, r, roles.PermResetPasswords)
	if !ok {
		return
	}
	m, ok := s.consoleTarget(w, r, pr)
	if !ok {
		return
	}
	_, err := s.d.Onboarding.IssueTemporaryPassword(r.Context(), pr.Practice.Slug, account.Actor{MemberID: pr.Member.ID},
		m.Email, s.meta(r))
	if !s.consoleActionOK(w, r, pr, err) {
		return
	}
	http.Redirect(w, r, "/p/"+pr.Practice.Slug+"/admin/members?done=temporary", http.StatusSeeOther)
}

// consoleActionOK turns an action's error into a page; true when err is nil.
func (s *Server) consoleActionOK(w http.ResponseWriter, r *http.Request, pr account.Principal, err error) bool {
	back := &nextLink{URL: "/p/" + pr.Practice.Slug + "/admin/members", Label: "Members"}
	var invalid *account.InvalidInputError
	switch {
	case err == nil:
		return true
	case errors.Is(err, account.ErrMemberNotFound):
		s.message(w, r, http.StatusNotFound, viewPractice(pr.Practice), "Member not found",
			"There is no such member in this practice. Go back to the members list and pick one there.", back)
	case errors.Is(err, account.ErrForbidden):
		s.message(w, r, http.StatusForbidden, viewPractice(pr.Practice), "Not allowed",
			"Your roles do not allow this. Ask your practice administrator.", back)
	case errors.As(err, &invalid):
		s.message(w, r, http.StatusBadRequest, viewPractice(pr.Practice), "Not possible", inputSentence(invalid), back)
	default:
		s.internalError(w, r, err)
	}
	return false
}

// trimTo bounds a query value.
func trimTo(v string, n int) string {
	v = strings.TrimSpace(v)
	if len(v) > n {
		v = strings.ToValidUTF8(v[:n], "")
	}
	return v
}

func (s *Server) consoleInvitePage(w http.ResponseWriter, r *http.Request) {
	pr, ok := s.consoleAllowed(w, r, roles.PermManageMembers)
	if !ok {
		return
	}
	s.renderInvite(w, r, pr, http.StatusOK, consoleInviteData{Checked: map[string]bool{}, CosignNotes: true, CosignPlans: true})
}

func (s *Server) renderInvite(w http.ResponseWriter, r *http.Request, pr account.Principal, status int, data consoleInviteData) {
	data.Practice = viewPractice(pr.Practice)
	m, err := s.d.AdminRoles.Model(r.Context(), pr.Practice.ID)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	grantable := s.grantable(r, pr)
	data.Roles = nil
	for _, role := range m.Roles {
		if grantable[role.Key] {
			data.Roles = append(data.Roles, role)
		}
	}
	if data.CanSupervise = s.may(r, pr, roles.PermAssign); data.CanSupervise {
		if data.Supervisors, err = s.supervisorChoices(r, pr.Practice.ID, ""); err != nil {
			s.internalError(w, r, err)
			return
		}
	}
	s.renderAny(w, r, status, "admin_invite", data)
}

func (s *Server) consoleInvite(w http.ResponseWriter, r *http.Request) {
	pr, ok := s.consoleAllowed(w, r, roles.PermManageMembers)
	if !ok {
		return
	}
	if !s.parseForm(w, r, viewPractice(pr.Practice)) {
		return
	}
	data := consoleInviteData{Email: trimTo(r.PostForm.Get("email"), 254), Name: trimTo(r.PostForm.Get("name"), 200),
		Checked: map[string]bool{}, Supervisor: trimTo(r.PostForm.Get("supervisor"), 100),
		CosignNotes: r.PostForm.Get("cosign_notes") == "yes", CosignPlans: r.PostForm.Get("cosign_plans") == "yes"}
	keys := r.PostForm["role"]
	if len(keys) > 50 {
		keys = keys[:50]
	}
	for _, k := range keys {
		data.Checked[k] = true
	}
	req := onboarding.InviteRequest{Email: data.Email, Name: data.Name, Roles: keys}
	if data.Supervisor != "" {
		// The supervisor must be one the form offers, able to co-sign what
		// is asked: checked here, before the invitation goes out.
		choices, err := s.supervisorChoices(r, pr.Practice.ID, "")
		if err != nil {
			s.internalError(w, r, err)
			return
		}
		i := slices.IndexFunc(choices, func(c supervisorChoice) bool { return c.ID == data.Supervisor })
		switch {
		case !s.may(r, pr, roles.PermAssign):
			data.Error, data.ErrorField = "Your roles do not include choosing supervisors. Invite without one, "+
				"and ask your practice's account owner to choose the supervisor on the member's page.", "supervisor"
		case i < 0:
			// Not offered: never a supervisor, or one who left or lost the
			// role since the form was shown.
			data.Error, data.ErrorField = "Choose the supervisor from the list again: only active members with a supervisor "+
				"role can supervise, and the one chosen is not (now) one. Nothing was sent. Or invite without a supervisor "+
				"and choose one on the member's page later.", "supervisor"
		case data.CosignNotes && !choices[i].Notes || data.CosignPlans && !choices[i].Plans:
			data.Error, data.ErrorField = choices[i].Name+"'s roles do not include co-signing "+
				cosignWords(data.CosignNotes && !choices[i].Notes, data.CosignPlans && !choices[i].Plans)+
				". Untick that requirement, or choose another supervisor.", "supervisor"
		}
		if data.Error != "" {
			s.renderInvite(w, r, pr, http.StatusBadRequest, data)
			return
		}
		req.Supervisors = []roles.SupervisorLink{{SupervisorID: data.Supervisor, CosignNotes: data.CosignNotes,
			CosignTreatmentPlans: data.CosignPlans}}
	}
	req.UpdatePending = r.PostForm.Get("update_pending") == "yes"
	_, err := s.d.Onboarding.Invite(r.Context(), pr.Practice.Slug, account.Actor{MemberID: pr.Member.ID}, req, s.meta(r))
	if pending, ok := errors.AsType[*onboarding.PendingInvitationError](err); ok {
		data.Pending = s.pendingView(r, pr, pending.Invitation)
		s.renderInvite(w, r, pr, http.StatusConflict, data)
		return
	}
	var invalid *account.InvalidInputError
	switch {
	case err == nil:
		http.Redirect(w, r, "/p/"+pr.Practice.Slug+"/admin/members?done=invited", http.StatusSeeOther)
		return
	case errors.Is(err, onboarding.ErrSupervisorRefused):
		// The supervision is part of the invitation: refused, nothing was
		// saved or sent (the supervisor changed since the form was shown).
		data.Error, data.ErrorField = "Nothing was sent: the supervisor you chose can no longer supervise (their roles or "+
			"status changed since this page was opened). Choose another supervisor, or invite without one and choose "+
			"the supervisor on the member's page later.", "supervisor"
	case errors.As(err, &invalid):
		data.Error, data.ErrorField = inputSentence(invalid), invalid.Field
	case errors.Is(err, onboarding.ErrAlreadyMember):
		data.Error, data.ErrorField = "This address already belongs to a member of the practice. Find them in the members list instead.", "email"
	case errors.Is(err, account.ErrForbidden) && wordedRefusal(err) != "":
		data.Error, data.ErrorField = plainWords(wordedRefusal(err)), "role"
	case errors.Is(err, account.ErrForbidden):
		data.Error, data.ErrorField = "You can only give roles whose access you hold yourself; the roles listed here are those. "+
			"Choose among them, or ask your practice's account owner.", "role"
	default:
		s.internalError(w, r, err)
		return
	}
	s.renderInvite(w, r, pr, http.StatusBadRequest, data)
}

// cosignWords names the co-signatures in words.
func cosignWords(notes, plans bool) string {
	switch {
	case notes && plans:
		return "progress notes and treatment plans"
	case notes:
		return "progress notes"
	}
	return "treatment plans"
}

type consoleToggle struct {
	Key, Name, Description string
	On                     bool
}

type consoleRolesData struct {
	Practice              *practiceView
	Preset, Notice, Error string
	Roles                 []consoleRoleView
	Toggles               []consoleToggle
	CanDefine             bool
	// NewRole refills the create-role form after a refusal (NewOpen), its
	// permissions ticked among NewAreas.
	NewRole  roles.Role
	NewAreas []consoleRoleArea
	NewOpen  bool
	Nav      consoleNav
	// edited is a refused edit form's role: its section is shown open with
	// the administrator's ticks kept.
	edited *roles.Role
}

// consoleRolesAllowed admits holders of roles.define, roles.assign or
// members.manage (who read the role model); others get 403.
func (s *Server) consoleRolesAllowed(w http.ResponseWriter, r *http.Request) (account.Principal, bool) {
	pr, ok := s.signedIn(w, r)
	if !ok {
		return pr, false
	}
	for _, perm := range []string{roles.PermDefine, roles.PermAssign, roles.PermManageMembers} {
		if s.may(r, pr, perm) {
			return pr, true
		}
	}
	s.message(w, r, http.StatusForbidden, viewPractice(pr.Practice), "Not allowed",
		"Your roles do not include the practice's roles. Ask your practice's account owner if you need them.",
		&nextLink{URL: "/p/" + pr.Practice.Slug + "/", Label: "Back to your account"})
	return pr, false
}

func (s *Server) consoleRoles(w http.ResponseWriter, r *http.Request) {
	pr, ok := s.consoleRolesAllowed(w, r)
	if !ok {
		return
	}
	data := consoleRolesData{}
	switch r.URL.Query().Get("done") {
	case "role":
		data.Notice = "The role was saved."
	case "toggle":
		data.Notice = "The toggle was changed."
	case "created":
		data.Notice = "The role was created. Assign it to members on their pages."
	}
	s.renderRoles(w, r, pr, http.StatusOK, data)
}

func (s *Server) renderRoles(w http.ResponseWriter, r *http.Request, pr account.Principal, status int, data consoleRolesData) {
	m, err := s.d.AdminRoles.Model(r.Context(), pr.Practice.ID)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	data.CanDefine = s.may(r, pr, roles.PermDefine)
	var apps []store.App
	if data.CanDefine {
		apps = s.roleApps(r, pr)
	}
	data.Practice, data.Preset, data.Roles = viewPractice(pr.Practice), m.Preset, roleViews(m, apps, data.edited)
	data.NewAreas = roleChoices("p-new", data.NewRole.Permissions, apps)
	data.Nav = s.nav(r, pr)
	for _, t := range m.Toggles {
		data.Toggles = append(data.Toggles, consoleToggle{Key: t.Key, Name: t.Name, Description: t.Description, On: m.ToggleOn[t.Key]})
	}
	s.renderAny(w, r, status, "admin_roles", data)
}

func (s *Server) consoleRoleSave(w http.ResponseWriter, r *http.Request) {
	pr, ok := s.consoleAllowed(w, r, roles.PermDefine)
	if !ok {
		return
	}
	if !s.parseForm(w, r, viewPractice(pr.Practice)) {
		return
	}
	m, err := s.d.AdminRoles.Model(r.Context(), pr.Practice.ID)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	key := r.PathValue("key")
	var role *roles.Role
	for i := range m.Roles {
		if m.Roles[i].Key == key {
			role = &m.Roles[i]
		}
	}
	if role == nil {
		s.message(w, r, http.StatusNotFound, viewPractice(pr.Practice), "Role not found",
			"The practice has no such role. Go back to the roles page.", &nextLink{URL: "/p/" + pr.Practice.Slug + "/admin/roles", Label: "Roles"})
		return
	}
	perms, refused := formPermissions(r.PostForm, "Nothing was changed")
	updated := *role
	updated.Permissions = perms
	if refused != "" {
		updated.Permissions = role.Permissions
		s.renderRoles(w, r, pr, http.StatusBadRequest, consoleRolesData{Error: refused, edited: &updated})
		return
	}
	err = s.d.AdminRoles.PutRole(r.Context(), roles.Actor{PracticeID: pr.Practice.ID, MemberID: pr.Member.ID}, updated,
		roles.Meta{ClientAddr: s.meta(r).ClientAddr, UserAgent: r.UserAgent(), RequestID: requestID(r)})
	if err == nil {
		http.Redirect(w, r, "/p/"+pr.Practice.Slug+"/admin/roles?done=role", http.StatusSeeOther)
		return
	}
	s.roleChangeFailed(w, r, pr, err, &updated)
}

func (s *Server) consoleToggle(w http.ResponseWriter, r *http.Request) {
	pr, ok := s.consoleAllowed(w, r, roles.PermDefine)
	if !ok {
		return
	}
	if !s.parseForm(w, r, viewPractice(pr.Practice)) {
		return
	}
	on := r.PostForm.Get("on") == "true"
	err := s.d.AdminRoles.SetToggle(r.Context(), roles.Actor{PracticeID: pr.Practice.ID, MemberID: pr.Member.ID},
		r.PathValue("key"), on, roles.Meta{ClientAddr: s.meta(r).ClientAddr, UserAgent: r.UserAgent(), RequestID: requestID(r)})
	if err == nil {
		http.Redirect(w, r, "/p/"+pr.Practice.Slug+"/admin/roles?done=toggle", http.StatusSeeOther)
		return
	}
	s.roleChangeFailed(w, r, pr, err, nil)
}

// roleChangeFailed re-renders the roles page with the role service's
// explanation (it names roles and permissions, never secrets); edited, when
// not nil, is the refused role form, shown open with its ticks kept.
func (s *Server) roleChangeFailed(w http.ResponseWriter, r *http.Request, pr account.Principal, err error, edited *roles.Role) {
	switch {
	case errors.Is(err, roles.ErrForbidden), errors.Is(err, roles.ErrInvalid), errors.Is(err, roles.ErrConstraint),
		errors.Is(err, roles.ErrInvalidRole), errors.Is(err, roles.ErrBadPermission), errors.Is(err, roles.ErrLastManager):
		status := http.StatusBadRequest
		if errors.Is(err, roles.ErrForbidden) {
			status = http.StatusForbidden
		}
		s.renderRoles(w, r, pr, status, consoleRolesData{Error: roleRefusal("Nothing was changed", err), edited: edited})
	default:
		s.internalError(w, r, err)
	}
}

// pendingView words a pending invitation for the update question: role
// names, not keys.
func (s *Server) pendingView(r *http.Request, pr account.Principal, inv onboarding.Invitation) *consolePending {
	names := inv.Roles
	if m, err := s.d.AdminRoles.Model(r.Context(), pr.Practice.ID); err == nil {
		names = nil
		for _, role := range m.Roles {
			if slices.Contains(inv.Roles, role.Key) {
				names = append(names, role.Name)
			}
		}
	}
	return &consolePending{Email: inv.Email, Roles: strings.Join(names, ", "),
		Sent: inv.CreatedAt.UTC().Format("2 Jan 2006 15:04 UTC")}
}
