package httpserver

import (
	"errors"
	"net/http"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/sso"
)

// Practice settings in the console (on the sign-in settings page): the
// practice's time zone, how it onboards new staff, and its permanent login
// address to share with staff.

// consoleSettings is the settings section of the sign-in page.
type consoleSettings struct {
	account.PracticeSettings
	// TimeZones are suggestions for the time zone field (any IANA name is
	// accepted).
	TimeZones []string
	// Value refills the time zone field after a refusal.
	Value, Error string
}

// suggestedTimeZones are offered in the time zone field's list: the United
// States first (where most practices using frontdesk are), then others.
func suggestedTimeZones() []string {
	return []string{"America/New_York", "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles",
		"America/Anchorage", "Pacific/Honolulu", "America/Puerto_Rico", "America/Toronto", "America/Vancouver",
		"Europe/London", "Europe/Dublin", "Europe/Berlin", "Australia/Sydney", "UTC"}
}

// fillSettings reads the settings into c; false when it answered the page.
func (s *Server) fillSettings(w http.ResponseWriter, r *http.Request, pr account.Principal, c *consoleSettings) bool {
	set, err := s.d.Accounts.PracticeSettings(r.Context(), pr.Practice.Slug, actorOf(pr))
	if err != nil {
		s.consoleFail(w, r, pr, err, s.signInLink(pr))
		return false
	}
	c.PracticeSettings, c.TimeZones = set, suggestedTimeZones()
	if c.Value == "" {
		c.Value = set.TimeZone
	}
	return true
}

// maxTimeZoneField bounds the time zone field.
const maxTimeZoneField = 64

func (s *Server) consoleSettingsSave(w http.ResponseWriter, r *http.Request) {
	pr, ok := s.consoleAllowed(w, r, roles.PermEditSettings)
	if !ok {
		return
	}
	if !s.parseForm(w, r, viewPractice(pr.Practice)) {
		return
	}
	tz := trimTo(r.PostForm.Get("time_zone"), maxTimeZoneField)
	upd := account.PracticeSettingsUpdate{TimeZone: &tz}
	if o, ok := r.PostForm["onboarding"]; ok && len(o) == 1 {
		upd.Onboarding = &o[0]
	}
	_, err := s.d.Accounts.SetPracticeSettings(r.Context(), pr.Practice.Slug, actorOf(pr), upd, s.meta(r))
	var invalid *account.InvalidInputError
	switch {
	case err == nil:
		s.signInDone(w, r, pr, "settings")
	case errors.As(err, &invalid) && invalid.Field == "time_zone":
		s.renderSignIn(w, r, pr, http.StatusBadRequest, consoleSignInData{Form: consoleSSOForm{Kind: sso.KindGoogle},
			Settings: consoleSettings{Value: tz, Error: "Nothing was saved: “" + tz + "” is not a time zone. " +
				"Pick one from the list, or type a name such as America/Chicago."}})
	case errors.As(err, &invalid):
		s.renderSignIn(w, r, pr, http.StatusBadRequest, consoleSignInData{Form: consoleSSOForm{Kind: sso.KindGoogle},
			Settings: consoleSettings{Value: tz, Error: "Nothing was saved: choose one of the ways of giving new staff access."}})
	default:
		s.consoleFail(w, r, pr, err, s.signInLink(pr))
	}
}
