package adminapi

import (
	"net/http"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/roles"
)

// settingsRoutes registers the practice's settings: its time zone and how
// it onboards new staff.
func (a *API) settingsRoutes(p string) {
	a.handle("GET "+p+"/settings", roles.PermViewSettings, a.getSettings)
	a.handle("PATCH "+p+"/settings", roles.PermEditSettings, a.patchSettings)
}

// settingsJSON is the practice's settings in the API.
type settingsJSON struct {
	TimeZone                    string `json:"time_zone"`
	Onboarding                  string `json:"onboarding"`
	TemporaryPasswordOnboarding bool   `json:"temporary_password_onboarding"`
	LoginURL                    string `json:"login_url"`
}

func viewSettings(s account.PracticeSettings) settingsJSON {
	return settingsJSON{TimeZone: s.TimeZone, Onboarding: s.Onboarding,
		TemporaryPasswordOnboarding: s.TemporaryPasswordOnboarding, LoginURL: s.LoginURL}
}

func (a *API) getSettings(w http.ResponseWriter, r *http.Request, c *caller) error {
	s, err := a.d.Accounts.PracticeSettings(r.Context(), c.practice.Slug, c.actor())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewSettings(s))
	return nil
}

// patchSettings changes the fields sent; the account service checks them
// (an IANA time zone name; invitation, temporary_password or "") and audits
// each change with before and after.
func (a *API) patchSettings(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in struct {
		TimeZone   *string `json:"time_zone"`
		Onboarding *string `json:"onboarding"`
	}
	if err := a.decode(w, r, &in); err != nil {
		return err
	}
	if in.TimeZone == nil && in.Onboarding == nil {
		return badRequest(`Send {"time_zone": "America/Chicago"} and/or {"onboarding": "temporary_password"}.`)
	}
	s, err := a.d.Accounts.SetPracticeSettings(r.Context(), c.practice.Slug, c.actor(),
		account.PracticeSettingsUpdate{TimeZone: in.TimeZone, Onboarding: in.Onboarding}, c.meta)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewSettings(s))
	return nil
}
