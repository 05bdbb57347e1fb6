package adminapi

import (
	"net/http"

	"github.com/frontdeskhq/frontdesk/identity/roles"
)

// loginPolicyRoutes registers the practice's login policy: which roles must
// log in with a passkey or single sign-on (never a password alone).
func (a *API) loginPolicyRoutes(p string) {
	a.handle("GET "+p+"/login-policy", roles.PermViewSettings, a.getLoginPolicy)
	a.handle("PUT "+p+"/login-policy", roles.PermEditSettings, a.putLoginPolicy)
}

func (a *API) getLoginPolicy(w http.ResponseWriter, r *http.Request, c *caller) error {
	lp, err := a.d.Accounts.LoginPolicy(r.Context(), c.practice.Slug, c.actor())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, lp)
	return nil
}

// putLoginPolicy replaces the policy; the account service checks the role
// keys, bounds their number and audits the change with before and after.
func (a *API) putLoginPolicy(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in struct {
		RequireStrongLogin *[]string `json:"require_strong_login"`
	}
	if err := a.decode(w, r, &in); err != nil {
		return err
	}
	if in.RequireStrongLogin == nil {
		return badRequest("require_strong_login is required: a list of role keys, [] for none.")
	}
	lp, err := a.d.Accounts.SetLoginPolicy(r.Context(), c.practice.Slug, c.actor(), *in.RequireStrongLogin, c.meta)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, lp)
	return nil
}
