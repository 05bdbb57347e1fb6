package adminapi

import (
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// A member's access beyond their roles: per-member overrides, the preset's
// member options (named bundles of overrides, such as the Office Staff tab
// checkboxes) and emergency (break-glass) elevations. The role service makes
// every change, checks the actor's permissions and audits it.

func (a *API) memberAccessRoutes(p string) {
	a.handle("GET "+p+"/members/{id}/overrides", roles.PermViewMembers, a.getMemberOverrides)
	a.handle("PUT "+p+"/members/{id}/overrides", roles.PermAssign, a.setMemberOverrides)
	a.handle("PUT "+p+"/members/{id}/options/{option}", roles.PermAssign, a.setMemberOption)
	a.handle("GET "+p+"/members/{id}/elevations", roles.PermGrantElevation, a.listMemberElevations)
	a.handle("POST "+p+"/members/{id}/elevations", roles.PermGrantElevation, a.idempotent(a.grantElevation))
	a.handle("GET "+p+"/elevations", "", a.listPracticeElevations)
	a.handle("POST "+p+"/elevations/{elevation}/end", roles.PermGrantElevation, a.endElevation)
}

// memberOptionView is one of the preset's member options and whether the
// member has it on (every one of its overrides is in place).
type memberOptionView struct {
	Key         string           `json:"key"`
	Name        string           `json:"name"`
	Description string           `json:"description"`
	On          bool             `json:"on"`
	Overrides   []roles.Override `json:"overrides"`
}

// memberOverridesView is the overrides resource.
type memberOverridesView struct {
	MemberID  string             `json:"member_id"`
	Overrides []roles.Override   `json:"overrides"`
	Options   []memberOptionView `json:"options"`
}

// maxOverrides bounds one member's override list.
const maxOverrides = 200

func (a *API) overridesView(r *http.Request, c *caller, memberID string) (memberOverridesView, error) {
	model, err := a.d.Roles.Model(r.Context(), c.practice.ID)
	if err != nil {
		return memberOverridesView{}, err
	}
	stored, err := a.d.Store.MemberOverrides(r.Context(), memberID)
	if err != nil {
		return memberOverridesView{}, err
	}
	out := memberOverridesView{MemberID: memberID, Overrides: []roles.Override{}, Options: []memberOptionView{}}
	for _, o := range stored {
		out.Overrides = append(out.Overrides, roles.Override{Permission: o.Permission, Grant: o.Grant})
	}
	for _, opt := range model.MemberOptions {
		ov := opt.Overrides
		if ov == nil {
			ov = []roles.Override{}
		}
		out.Options = append(out.Options, memberOptionView{Key: opt.Key, Name: opt.Name, Description: opt.Description,
			On: opt.OnFor(out.Overrides), Overrides: ov})
	}
	return out, nil
}

func (a *API) getMemberOverrides(w http.ResponseWriter, r *http.Request, c *caller) error {
	m, err := a.member(r, c)
	if err != nil {
		return err
	}
	v, err := a.overridesView(r, c, m.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (a *API) setMemberOverrides(w http.ResponseWriter, r *http.Request, c *caller) error {
	var body struct {
		Overrides []roles.Override `json:"overrides"`
	}
	if err := a.decode(w, r, &body); err != nil {
		return err
	}
	if body.Overrides == nil || len(body.Overrides) > maxOverrides {
		return badRequest(`Send {"overrides": [{"permission": "…", "grant": true}]} with at most 200 entries; [] removes every override.`)
	}
	for _, o := range body.Overrides {
		if o.Permission == "" || len(o.Permission) > 200 {
			return badRequest("Each override needs a permission from the catalogue (docs/roles.md).")
		}
	}
	m, err := a.member(r, c)
	if err != nil {
		return err
	}
	if err := a.d.Roles.SetMemberOverrides(r.Context(), c.rolesActor(), m.ID, body.Overrides, c.rolesMeta()); err != nil {
		return err
	}
	v, err := a.overridesView(r, c, m.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (a *API) setMemberOption(w http.ResponseWriter, r *http.Request, c *caller) error {
	var body struct {
		On *bool `json:"on"`
	}
	if err := a.decode(w, r, &body); err != nil {
		return err
	}
	if body.On == nil {
		return badRequest(`Send {"on": true} or {"on": false}.`)
	}
	option := r.PathValue("option")
	if len(option) > 100 {
		return badRequest("The option key is too long; see the options listed by GET …/overrides.")
	}
	m, err := a.member(r, c)
	if err != nil {
		return err
	}
	if err := a.d.Roles.ApplyMemberOption(r.Context(), c.rolesActor(), m.ID, option, *body.On, c.rolesMeta()); err != nil {
		return err
	}
	v, err := a.overridesView(r, c, m.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// elevationView is an emergency elevation as the API shows it.
type elevationView struct {
	ID          string    `json:"id"`
	MemberID    string    `json:"member_id"`
	GrantedBy   string    `json:"granted_by"`
	Permissions []string  `json:"permissions"`
	Reason      string    `json:"reason"`
	CreatedAt   time.Time `json:"created_at"`
	EndsAt      time.Time `json:"ends_at"`
}

func (a *API) listMemberElevations(w http.ResponseWriter, r *http.Request, c *caller) error {
	m, err := a.member(r, c)
	if err != nil {
		return err
	}
	stored, err := a.d.Store.ActiveElevations(r.Context(), m.ID, a.d.Now())
	if err != nil {
		return err
	}
	stored = slices.DeleteFunc(stored, func(e store.Elevation) bool { return e.PracticeID != c.practice.ID })
	writeElevations(w, stored)
	return nil
}

func (a *API) listPracticeElevations(w http.ResponseWriter, r *http.Request, c *caller) error {
	ok, err := a.allowed(r.Context(), c, roles.PermGrantElevation)
	if err == nil && !ok {
		ok, err = a.allowed(r.Context(), c, roles.PermAudit)
	}
	if err != nil {
		return err
	}
	if !ok {
		return &apiError{http.StatusForbidden, "forbidden",
			"You hold neither elevation.grant nor audit.view in this practice; ask an administrator."}
	}
	stored, err := a.d.Store.PracticeActiveElevations(r.Context(), c.practice.ID, a.d.Now())
	if err != nil {
		return err
	}
	writeElevations(w, stored)
	return nil
}

func writeElevations(w http.ResponseWriter, stored []store.Elevation) {
	out := struct {
		Elevations []elevationView `json:"elevations"`
	}{Elevations: []elevationView{}}
	for _, e := range stored {
		out.Elevations = append(out.Elevations, elevationView{ID: e.ID, MemberID: e.MemberID, GrantedBy: e.GrantedBy,
			Permissions: e.Permissions, Reason: e.Reason, CreatedAt: e.CreatedAt.UTC(), EndsAt: e.ExpiresAt.UTC()})
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) grantElevation(w http.ResponseWriter, r *http.Request, c *caller) error {
	var body struct {
		Permissions     []string `json:"permissions"`
		DurationMinutes int      `json:"duration_minutes"`
		Reason          string   `json:"reason"`
	}
	if err := a.decode(w, r, &body); err != nil {
		return err
	}
	if len(body.Permissions) == 0 || len(body.Permissions) > 100 {
		return badRequest(`Send {"permissions": ["clinical_notes.view:all", …], "duration_minutes": 240, "reason": "…"} with 1 to 100 permissions.`)
	}
	for _, p := range body.Permissions {
		if p == "" || len(p) > 200 {
			return badRequest("Each permission must come from the catalogue (docs/roles.md).")
		}
	}
	if body.DurationMinutes < 1 || body.DurationMinutes > int(roles.MaxElevation/time.Minute) {
		return badRequest("duration_minutes must be from 1 to 720 (12 hours).")
	}
	if len(body.Reason) > 2000 {
		return badRequest("The reason is too long; say why emergency access is needed in at most 500 characters.")
	}
	m, err := a.member(r, c)
	if err != nil {
		return err
	}
	e, err := a.d.Roles.GrantElevation(r.Context(), c.rolesActor(), m.ID, body.Permissions,
		time.Duration(body.DurationMinutes)*time.Minute, body.Reason, c.rolesMeta())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, elevationView{ID: e.ID, MemberID: e.MemberID, GrantedBy: e.GrantedBy,
		Permissions: e.Permissions, Reason: e.Reason, CreatedAt: e.CreatedAt.UTC(), EndsAt: e.ExpiresAt.UTC()})
	return nil
}

func (a *API) endElevation(w http.ResponseWriter, r *http.Request, c *caller) error {
	id := r.PathValue("elevation")
	if len(id) > 100 {
		return &apiError{http.StatusNotFound, "not_found", "There is no running emergency access with this id in this practice."}
	}
	err := a.d.Roles.EndElevation(r.Context(), c.rolesActor(), id, c.rolesMeta())
	if errors.Is(err, roles.ErrInvalid) {
		return &apiError{http.StatusNotFound, "not_found", "There is no running emergency access with this id in this practice."}
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "ended_at": a.d.Now().UTC()})
	return nil
}
