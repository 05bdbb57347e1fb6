package httpserver

import (
	"net/http"

	"github.com/frontdeskhq/frontdesk/identity/oidc"
	"github.com/frontdeskhq/frontdesk/identity/roles"
)

// consoleAppLaunch changes how staff open a registered app from their home
// page: its display name ("" shows its name) and launch URL ("" keeps it off
// the home page). The provider checks both and audits the change.
func (s *Server) consoleAppLaunch(w http.ResponseWriter, r *http.Request) {
	pr, ok := s.consoleAllowed(w, r, roles.PermEditSettings)
	if !ok {
		return
	}
	if !s.parseForm(w, r, viewPractice(pr.Practice)) {
		return
	}
	name := trimTo(r.PostForm.Get("display_name"), 400)
	launch := trimTo(r.PostForm.Get("launch_url"), 2100)
	_, err := s.d.OIDC.UpdateApp(r.Context(), pr.Practice.ID, r.PathValue("client_id"), pr.Member.ID,
		oidc.AppUpdate{DisplayName: &name, LaunchURL: &launch}, s.meta(r))
	if err != nil {
		s.consoleFail(w, r, pr, err, s.appsLink(pr))
		return
	}
	http.Redirect(w, r, "/p/"+pr.Practice.Slug+"/admin/apps?done=launch", http.StatusSeeOther)
}
