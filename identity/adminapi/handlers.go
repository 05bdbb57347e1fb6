package adminapi

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/auditexport"
	"github.com/frontdeskhq/frontdesk/identity/onboarding"
	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/lockout"
)

// Member is a member as the API shows it (never a credential).
type Member struct {
	ID          string    `json:"id"`
	Email       string    `json:"email"`
	DisplayName string    `json:"display_name"`
	LegalName   string    `json:"legal_name"`
	Credentials string    `json:"credentials"`
	NPI         string    `json:"npi"`
	Taxonomy    string    `json:"taxonomy"`
	Status      string    `json:"status"`
	Roles       []string  `json:"roles"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

func memberView(m store.Member) Member {
	r := m.Roles
	if r == nil {
		r = []string{}
	}
	return Member{ID: m.ID, Email: m.Email, DisplayName: m.DisplayName, LegalName: m.LegalName,
		Credentials: m.Credentials, NPI: m.NPI, Taxonomy: m.Taxonomy, Status: string(m.Status), Roles: r, CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt}
}

// memberCursor is the opaque pagination cursor of the member list.
type memberCursor struct {
	K string `json:"k"`
	I string `json:"i"`
}

func (a *API) listMembers(w http.ResponseWriter, r *http.Request, c *caller) error {
	if ok, err := a.allowed(r.Context(), c, roles.PermViewMembers); err != nil {
		return err
	} else if !ok {
		return &apiError{http.StatusForbidden, "forbidden", "You do not hold the " + roles.PermViewMembers + " permission in this practice; ask an administrator."}
	}
	q := r.URL.Query()
	f := store.MemberFilter{PracticeID: c.practice.ID, Query: q.Get("q"), Role: q.Get("role")}
	if len(f.Query) > 200 || len(f.Role) > 100 {
		return badRequest("q and role are too long.")
	}
	if s := q.Get("status"); s != "" {
		if !store.MemberStatus(s).Valid() {
			return badRequest("status must be one of invited, active, locked, deactivated.")
		}
		f.Status = store.MemberStatus(s)
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 200 {
			return badRequest("limit must be a number from 1 to 200.")
		}
		f.Limit = n
	}
	if cur := q.Get("cursor"); cur != "" {
		raw, err := base64.RawURLEncoding.DecodeString(cur)
		var mc memberCursor
		if err != nil || len(raw) > 1024 || json.Unmarshal(raw, &mc) != nil {
			return badRequest("cursor is not one this API returned; start again without it.")
		}
		f.AfterEmailKey, f.AfterID = mc.K, mc.I
	}
	ms, more, err := a.d.Store.ListMembers(r.Context(), f)
	if err != nil {
		return err
	}
	out := struct {
		Members    []Member `json:"members"`
		NextCursor string   `json:"next_cursor,omitempty"`
	}{Members: make([]Member, 0, len(ms))}
	for _, m := range ms {
		out.Members = append(out.Members, memberView(m))
	}
	if more {
		last := ms[len(ms)-1]
		raw, _ := json.Marshal(memberCursor{K: store.EmailKey(last.Email), I: last.ID})
		out.NextCursor = base64.RawURLEncoding.EncodeToString(raw)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// member loads the path's member; a member may always read themselves with
// members.view:own, others need members.view:all.
func (a *API) member(r *http.Request, c *caller) (store.Member, error) {
	id := r.PathValue("id")
	m, err := a.d.Store.MemberByID(r.Context(), c.practice.ID, id)
	if err != nil {
		return store.Member{}, err
	}
	return m, nil
}

func (a *API) getMember(w http.ResponseWriter, r *http.Request, c *caller) error {
	perm := roles.PermViewMembers
	if r.PathValue("id") == c.memberID {
		perm = roles.PermViewOwnProfile
	}
	if ok, err := a.allowed(r.Context(), c, perm); err != nil {
		return err
	} else if !ok {
		return &apiError{http.StatusForbidden, "forbidden", "You do not hold the " + perm + " permission in this practice; ask an administrator."}
	}
	m, err := a.member(r, c)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, memberView(m))
	return nil
}

func (a *API) setMemberRoles(w http.ResponseWriter, r *http.Request, c *caller) error {
	var body struct {
		Roles []string `json:"roles"`
	}
	if err := a.decode(w, r, &body); err != nil {
		return err
	}
	if body.Roles == nil || len(body.Roles) > 50 {
		return badRequest(`Send {"roles": [role keys]} with at most 50 roles.`)
	}
	m, err := a.member(r, c)
	if err != nil {
		return err
	}
	if err := a.d.Roles.SetMemberRoles(r.Context(), c.rolesActor(), m.ID, body.Roles, c.rolesMeta()); err != nil {
		return err
	}
	if m, err = a.member(r, c); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, memberView(m))
	return nil
}

func (a *API) unlockMember(w http.ResponseWriter, r *http.Request, c *caller) error {
	res, err := a.d.Accounts.Locks().UnlockMember(r.Context(), c.practice.Lockout(), r.PathValue("id"),
		lockout.Actor(c.actor()), lockout.Meta(c.meta))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"member_id": r.PathValue("id"), "was_locked": res.WasLocked})
	return nil
}

func (a *API) temporaryPassword(w http.ResponseWriter, r *http.Request, c *caller) error {
	m, err := a.member(r, c)
	if err != nil {
		return err
	}
	res, err := a.d.Onboarding.IssueTemporaryPassword(r.Context(), c.practice.Slug, c.actor(), m.Email, c.meta)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, res)
	return nil
}

func (a *API) deactivateMember(w http.ResponseWriter, r *http.Request, c *caller) error {
	res, err := a.d.Accounts.DeactivateMember(r.Context(), c.practice.Slug, c.actor(), r.PathValue("id"), c.meta)
	if err != nil {
		return err
	}
	if res.Reassign == nil {
		res.Reassign = []account.Reassignment{}
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (a *API) listInvitations(w http.ResponseWriter, r *http.Request, c *caller) error {
	invs, err := a.d.Onboarding.Invitations(r.Context(), c.practice.Slug, c.actor())
	if err != nil {
		return err
	}
	if invs == nil {
		invs = []onboarding.Invitation{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"invitations": invs})
	return nil
}

func (a *API) createInvitation(w http.ResponseWriter, r *http.Request, c *caller) error {
	var body struct {
		Email string   `json:"email"`
		Name  string   `json:"name"`
		Roles []string `json:"roles"`
		App   string   `json:"app"`
		// UpdatePending replaces a pending invitation to the same address.
		UpdatePending bool `json:"update_pending"`
		// Supervisors places the invitee under supervision, in the
		// invitation's transaction: a refused supervisor refuses the
		// invitation, and nothing is saved or sent.
		Supervisors []supervisorLink `json:"supervisors"`
	}
	if err := a.decode(w, r, &body); err != nil {
		return err
	}
	if len(body.Roles) > 50 {
		return badRequest("At most 50 roles.")
	}
	if len(body.Supervisors) > 20 {
		return badRequest("At most 20 supervisors.")
	}
	var links []roles.SupervisorLink
	for _, s := range body.Supervisors {
		if s.MemberID == "" || len(s.MemberID) > 100 {
			return badRequest("Each supervisor needs the member_id of a member of this practice.")
		}
		links = append(links, roles.SupervisorLink{SupervisorID: s.MemberID, CosignNotes: s.CosignNotes,
			CosignTreatmentPlans: s.CosignTreatmentPlans})
	}
	inv, err := a.d.Onboarding.Invite(r.Context(), c.practice.Slug, c.actor(), onboarding.InviteRequest{Email: body.Email,
		Name: body.Name, Roles: body.Roles, App: body.App, UpdatePending: body.UpdatePending, Supervisors: links}, c.meta)
	if pending, ok := errors.AsType[*onboarding.PendingInvitationError](err); ok {
		// Never replaced silently: the pending invitation comes back, and
		// update_pending: true replaces it.
		writeJSON(w, http.StatusConflict, map[string]any{"error": "invitation_pending",
			"message": "This address already has a pending invitation (below). Send the invitation again with " +
				`"update_pending": true to replace its roles; its link will stop working and the new email says so.`,
			"invitation": pending.Invitation})
		return nil
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, inv)
	return nil
}

func (a *API) resendInvitation(w http.ResponseWriter, r *http.Request, c *caller) error {
	inv, err := a.d.Onboarding.ResendInvitation(r.Context(), c.practice.Slug, c.actor(), r.PathValue("id"), c.meta)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, inv)
	return nil
}

func (a *API) revokeInvitation(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := a.d.Onboarding.RevokeInvitation(r.Context(), c.practice.Slug, c.actor(), r.PathValue("id"), c.meta); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"invitation_id": r.PathValue("id"), "state": "revoked"})
	return nil
}

func (a *API) listRoles(w http.ResponseWriter, r *http.Request, c *caller) error {
	var ok bool
	for _, p := range []string{roles.PermAssign, roles.PermDefine, roles.PermManageMembers} {
		allowed, err := a.allowed(r.Context(), c, p)
		if err != nil {
			return err
		}
		ok = ok || allowed
	}
	if !ok {
		return &apiError{http.StatusForbidden, "forbidden", "Reading roles needs roles.assign, roles.define or members.manage; ask an administrator."}
	}
	m, err := a.d.Roles.Model(r.Context(), c.practice.ID)
	if err != nil {
		return err
	}
	givable, err := a.d.Roles.GivableRoles(r.Context(), c.rolesActor())
	if err != nil {
		return err
	}
	out := struct {
		Preset  string          `json:"preset"`
		Roles   []roles.Role    `json:"roles"`
		Toggles map[string]bool `json:"toggles"`
		Givable []string        `json:"givable"`
	}{Preset: m.Preset, Roles: m.Roles, Toggles: m.ToggleOn, Givable: []string{}}
	for _, g := range givable {
		out.Givable = append(out.Givable, g.Key)
	}
	if out.Roles == nil {
		out.Roles = []roles.Role{}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// auditFilter parses the audit list/export query parameters.
func auditFilter(r *http.Request, practiceID string) (store.AuditFilter, error) {
	q := r.URL.Query()
	f := store.AuditFilter{PracticeID: practiceID, Action: q.Get("action"), ActorID: q.Get("actor"),
		SubjectID: q.Get("subject"), Person: q.Get("person"), Outcome: q.Get("outcome")}
	if f.Outcome != "" && f.Outcome != "success" && f.Outcome != "failure" {
		return f, badRequest("outcome must be success or failure.")
	}
	for _, v := range []string{f.Action, f.ActorID, f.SubjectID, f.Person, f.Outcome} {
		if len(v) > 200 {
			return f, badRequest("A filter value is too long.")
		}
	}
	for _, tv := range []struct {
		name string
		dst  *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if s := q.Get(tv.name); s != "" {
			t, err := auditexport.ParseTime(s)
			if err != nil {
				return f, badRequest(tv.name + ": " + err.Error())
			}
			*tv.dst = t
		}
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			return f, badRequest("limit must be a number from 1 to 1000.")
		}
		f.Limit = n
	}
	if b := q.Get("before"); b != "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n < 1 {
			return f, badRequest("before must be an event id.")
		}
		f.BeforeID = n
	}
	return f, nil
}

func (a *API) listAudit(w http.ResponseWriter, r *http.Request, c *caller) error {
	f, err := auditFilter(r, c.practice.ID)
	if err != nil {
		return err
	}
	if f.Limit == 0 {
		f.Limit = 100
	}
	recs, err := a.d.Store.QueryAudit(r.Context(), f)
	if err != nil {
		return err
	}
	out := struct {
		Events     []auditexport.Event `json:"events"`
		NextBefore int64               `json:"next_before,omitempty"`
	}{Events: make([]auditexport.Event, 0, len(recs))}
	for _, rec := range recs {
		out.Events = append(out.Events, auditexport.FromRecord(rec))
	}
	if len(recs) == f.Limit {
		out.NextBefore = recs[len(recs)-1].ID
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) exportAudit(w http.ResponseWriter, r *http.Request, c *caller) error {
	f, err := auditFilter(r, c.practice.ID)
	if err != nil {
		return err
	}
	format, err := auditexport.ParseFormat(r.URL.Query().Get("format"))
	if err != nil {
		return badRequest(err.Error())
	}
	f.BeforeID, f.Limit = 0, 0
	w.Header().Set("Content-Type", format.ContentType())
	w.Header().Set("Content-Disposition", `attachment; filename="audit-`+c.practice.Slug+"."+strings.ToLower(string(format))+`"`)
	if _, err := auditexport.Write(r.Context(), a.d.Store, f, format, w); err != nil {
		// Headers are sent; the truncated body is all the client gets.
		a.d.Logger.ErrorContext(r.Context(), "admin api: audit export failed", "err", err)
	}
	return nil
}
