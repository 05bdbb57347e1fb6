package httpserver

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// The practitioner profile on the console's member page: legal name,
// preferred name, credentials, NPI and taxonomy code (seed 003). The section
// is its own template, templates/pages/partial_practitioner.html, which the
// member page includes with {{template "practitioner" .Practitioner}}.

// practitionerSection is the partial's value.
type practitionerSection struct {
	Slug, MemberID string
	CanEdit        bool
	store.PractitionerProfile
	// Error explains a refused form; Field names the field it is about.
	Error, Field string
}

// practitionerFor is the section for member m as pr sees it.
func (s *Server) practitionerFor(r *http.Request, pr account.Principal, m store.Member) *practitionerSection {
	return &practitionerSection{Slug: pr.Practice.Slug, MemberID: m.ID, PractitionerProfile: m.Profile(),
		CanEdit: s.may(r, pr, roles.PermManageMembers)}
}

// Bounds of the practitioner form (the account service checks the content).
const (
	maxPractitionerName = 800
	maxPractitionerCode = 40
)

func (s *Server) consolePractitionerSave(w http.ResponseWriter, r *http.Request) {
	pr, m, ok := s.accessForm(w, r, roles.PermManageMembers)
	if !ok {
		return
	}
	f := r.PostForm
	prof := store.PractitionerProfile{PreferredName: trimTo(f.Get("preferred_name"), maxPractitionerName),
		LegalName: trimTo(f.Get("legal_name"), maxPractitionerName), Credentials: trimTo(f.Get("credentials"), maxPractitionerName),
		NPI: trimTo(f.Get("npi"), maxPractitionerCode), Taxonomy: trimTo(f.Get("taxonomy"), maxPractitionerCode)}
	if prof.PreferredName == "" {
		s.practitionerRefused(w, r, pr, m, prof, "preferred_name", "Nothing was saved: type the name the practitioner goes by.")
		return
	}
	_, err := s.d.Accounts.SetPractitionerProfile(r.Context(), pr.Practice.Slug, actorOf(pr), m.ID,
		account.PractitionerUpdate{PreferredName: &prof.PreferredName, LegalName: &prof.LegalName,
			Credentials: &prof.Credentials, NPI: &prof.NPI, Taxonomy: &prof.Taxonomy}, s.meta(r))
	var invalid *account.InvalidInputError
	switch {
	case err == nil:
		http.Redirect(w, r, "/p/"+pr.Practice.Slug+"/admin/members/"+url.PathEscape(m.ID)+"?done=practitioner#practitioner", http.StatusSeeOther)
	case errors.As(err, &invalid):
		s.practitionerRefused(w, r, pr, m, prof, invalid.Field, "Nothing was saved: the "+practitionerFieldName(invalid.Field)+" "+invalid.Reason+".")
	default:
		s.consoleFail(w, r, pr, err, s.memberLink(pr, m.ID))
	}
}

// practitionerFieldName is a form field in words.
func practitionerFieldName(field string) string {
	switch field {
	case "legal_name":
		return "legal name"
	case "preferred_name", "display_name":
		return "preferred name"
	case "npi":
		return "NPI"
	case "taxonomy":
		return "taxonomy code"
	}
	return field
}

// practitionerRefused shows the member page again with the typed values and
// the reason.
func (s *Server) practitionerRefused(w http.ResponseWriter, r *http.Request, pr account.Principal, m store.Member,
	typed store.PractitionerProfile, field, msg string) {
	sec := s.practitionerFor(r, pr, m)
	sec.PractitionerProfile, sec.Error, sec.Field = typed, msg, field
	s.renderMember(w, r, pr, m, http.StatusBadRequest, consoleMemberData{Practitioner: sec})
}
