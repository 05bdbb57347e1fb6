package adminapi

import (
	"net/http"

	"github.com/frontdeskhq/frontdesk/identity/roles"
)

// presetJSON is one role preset as the API lists it: the preset (key, name,
// description, roles, owner_roles, toggles, member_options) and whether a
// practice created without --preset gets it. It is the same shape as
// `frontdesk practice presets --json`.
type presetJSON struct {
	roles.Preset
	Default bool `json:"default"`
}

// listPresets answers GET …/presets: every role preset frontdesk ships, with
// the practice's own preset named, so an administrator can compare the
// practice's roles with the product it migrated from. Like the role model
// itself it needs roles.assign, roles.define or members.manage.
func (a *API) listPresets(w http.ResponseWriter, r *http.Request, c *caller) error {
	var ok bool
	for _, p := range []string{roles.PermAssign, roles.PermDefine, roles.PermManageMembers} {
		allowed, err := a.allowed(r.Context(), c, p)
		if err != nil {
			return err
		}
		ok = ok || allowed
	}
	if !ok {
		return &apiError{http.StatusForbidden, "forbidden", "Reading presets needs roles.assign, roles.define or members.manage; ask an administrator."}
	}
	m, err := a.d.Roles.Model(r.Context(), c.practice.ID)
	if err != nil {
		return err
	}
	presets := roles.Presets()
	out := struct {
		Current string       `json:"current"`
		Presets []presetJSON `json:"presets"`
	}{Current: m.Preset, Presets: make([]presetJSON, 0, len(presets))}
	for _, p := range presets {
		out.Presets = append(out.Presets, presetJSON{Preset: p, Default: p.Key == roles.DefaultPreset})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
