package adminapi

import (
	"net/http"
	"slices"

	"github.com/frontdeskhq/frontdesk/identity/roles"
)

// roleBody is a role definition as the API accepts it.
type roleBody struct {
	Key         string   `json:"key"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Permissions []string `json:"permissions"`
	Requires    []string `json:"requires"`
	Exclusive   []string `json:"exclusive"`
	// Gives is nil when the body leaves it out: an update keeps what the
	// role gives.
	Gives []string `json:"gives"`
}

func (b roleBody) role() roles.Role {
	return roles.Role{Key: b.Key, Name: b.Name, Description: b.Description, Permissions: b.Permissions,
		Requires: b.Requires, Exclusive: b.Exclusive, Gives: b.Gives}
}

// findRole returns the practice's role with key, if any.
func (a *API) findRole(r *http.Request, c *caller, key string) (roles.Role, bool, error) {
	m, err := a.d.Roles.Model(r.Context(), c.practice.ID)
	if err != nil {
		return roles.Role{}, false, err
	}
	i := slices.IndexFunc(m.Roles, func(x roles.Role) bool { return x.Key == key })
	if i < 0 {
		return roles.Role{}, false, nil
	}
	return m.Roles[i], true, nil
}

func (a *API) createRole(w http.ResponseWriter, r *http.Request, c *caller) error {
	var body roleBody
	if err := a.decode(w, r, &body); err != nil {
		return err
	}
	if _, exists, err := a.findRole(r, c, body.Key); err != nil {
		return err
	} else if exists {
		return &apiError{http.StatusConflict, "role_exists", "The practice already has a role with this key; edit it with PUT …/roles/{key}."}
	}
	if err := a.d.Roles.PutRole(r.Context(), c.rolesActor(), body.role(), c.rolesMeta()); err != nil {
		return err
	}
	return a.writeRole(w, r, c, body.Key, http.StatusCreated)
}

func (a *API) updateRole(w http.ResponseWriter, r *http.Request, c *caller) error {
	var body roleBody
	if err := a.decode(w, r, &body); err != nil {
		return err
	}
	key := r.PathValue("key")
	if body.Key == "" {
		body.Key = key
	}
	if body.Key != key {
		return badRequest("The key in the body differs from the key in the path; a role's key cannot change.")
	}
	if _, exists, err := a.findRole(r, c, key); err != nil {
		return err
	} else if !exists {
		return &apiError{http.StatusNotFound, "not_found", "The practice has no role with this key; create it with POST …/roles."}
	}
	if err := a.d.Roles.PutRole(r.Context(), c.rolesActor(), body.role(), c.rolesMeta()); err != nil {
		return err
	}
	return a.writeRole(w, r, c, key, http.StatusOK)
}

func (a *API) writeRole(w http.ResponseWriter, r *http.Request, c *caller, key string, status int) error {
	role, _, err := a.findRole(r, c, key)
	if err != nil {
		return err
	}
	writeJSON(w, status, role)
	return nil
}

func (a *API) setToggle(w http.ResponseWriter, r *http.Request, c *caller) error {
	var body struct {
		On *bool `json:"on"`
	}
	if err := a.decode(w, r, &body); err != nil {
		return err
	}
	if body.On == nil {
		return badRequest(`Send {"on": true} or {"on": false}.`)
	}
	key := r.PathValue("key")
	if err := a.d.Roles.SetToggle(r.Context(), c.rolesActor(), key, *body.On, c.rolesMeta()); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"key": key, "on": *body.On})
	return nil
}
