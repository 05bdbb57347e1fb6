package httpserver

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/problem"
	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// The member page's access sections: supervisors (with co-signature),
// per-member overrides and the preset's member options, and emergency
// (break-glass) access. Same rules as console_manage.go: server-rendered, no
// JavaScript, every change a POST behind the console's cross-origin
// protection, checked against the member's current permissions; the role
// service checks again and audits every change.

func (s *Server) consoleAccessRoutes() {
	s.handleForm("POST /p/{practice}/admin/members/{id}/supervisors", http.HandlerFunc(s.consoleSupervisors))
	s.handleForm("POST /p/{practice}/admin/members/{id}/options", http.HandlerFunc(s.consoleOptions))
	s.handleForm("POST /p/{practice}/admin/members/{id}/overrides", http.HandlerFunc(s.consoleOverrides))
	s.handleForm("POST /p/{practice}/admin/members/{id}/elevations", http.HandlerFunc(s.consoleGrantElevation))
	s.handleForm("POST /p/{practice}/admin/members/{id}/elevations/{elevation}/end", http.HandlerFunc(s.consoleEndElevation))
}

// consoleSupervisorChoice is one member who could supervise the member.
type consoleSupervisorChoice struct {
	ID, Name                string
	Chosen, Notes, Plans    bool
	Supervisee, Deactivated bool
	// MayNotes and MayPlans: the supervisor may be asked to co-sign progress
	// notes, treatment plans (their permissions allow it).
	MayNotes, MayPlans bool
}

// consoleOption is one of the preset's member options.
type consoleOption struct {
	Key, Name, Description string
	On                     bool
}

// consoleOverride is one per-member override.
type consoleOverride struct {
	Permission string
	Grant      bool
	// Words says what the permission allows.
	Words string
}

// consoleElevation is one running emergency elevation.
type consoleElevation struct {
	ID, GrantedBy, Reason string
	Permissions           []string
	EndsAt                string
}

// consolePermission is a permission offered as a checkbox, with the
// catalogue's description.
type consolePermission struct {
	Name, Description string
}

// consoleDuration is one choice of the emergency-access duration.
type consoleDuration struct {
	Minutes int
	Label   string
	Default bool
}

// consoleAccess is the data of the member page's access sections.
type consoleAccess struct {
	CanAssign, CanElevate bool
	Supervisors           []consoleSupervisorChoice
	Options               []consoleOption
	Overrides             []consoleOverride
	Permissions           []consolePermissionGroup // every permission an override may name, by area
	Elevations            []consoleElevation
	ElevationPermissions  []consolePermissionGroup // what emergency access may grant, by area
	Durations             []consoleDuration
	// SupervisedBy names the member's current supervisors (the section's
	// summary).
	SupervisedBy string
	// OverridesSummary counts the overrides in words.
	OverridesSummary string
}

// maxSupervisorChoices bounds the supervisor list shown on a member's page.
const maxSupervisorChoices = 200

// memberAccess fills the member page's access sections (nil when the viewer
// may change none of them) and the notice of a change just made.
func (s *Server) memberAccess(r *http.Request, pr account.Principal, m store.Member, data *consoleMemberData) error {
	switch r.URL.Query().Get("done") {
	case "supervisors":
		data.Notice = "The supervisors were saved."
	case "options", "overrides":
		data.Notice = "The member's access was saved. Their apps see it at their next token refresh."
	case "elevation":
		data.Notice = "Emergency access was granted. It ends on its own; the practice's administrators were told."
	case "elevation-ended":
		data.Notice = "The emergency access was ended."
	}
	a := &consoleAccess{CanAssign: s.may(r, pr, roles.PermAssign), CanElevate: s.may(r, pr, roles.PermGrantElevation)}
	if (!a.CanAssign && !a.CanElevate) || m.Status == store.StatusDeactivated {
		return nil
	}
	ctx := r.Context()
	if a.CanAssign {
		sup, err := s.d.AdminRoles.Supervision(ctx, pr.Practice.ID, m.ID)
		if err != nil {
			return err
		}
		// Only members who can supervise are offered; a current supervisor
		// who no longer can is still listed, so they can be removed.
		choices, err := s.supervisorChoices(r, pr.Practice.ID, m.ID)
		if err != nil {
			return err
		}
		for _, c := range choices {
			ch := consoleSupervisorChoice{ID: c.ID, Name: c.Name, Supervisee: slices.Contains(sup.Supervisees, c.ID),
				MayNotes: c.Notes, MayPlans: c.Plans}
			if i := slices.IndexFunc(sup.Supervisors, func(l roles.SupervisorLink) bool { return l.SupervisorID == c.ID }); i >= 0 {
				ch.Chosen, ch.Notes, ch.Plans = true, sup.Supervisors[i].CosignNotes, sup.Supervisors[i].CosignTreatmentPlans
			}
			a.Supervisors = append(a.Supervisors, ch)
		}
		var names []string
		for _, l := range sup.Supervisors {
			name := l.SupervisorID
			if sm, err := s.d.AdminStore.MemberByID(ctx, pr.Practice.ID, l.SupervisorID); err == nil {
				name = viewMember(sm).Name
			}
			names = append(names, name)
			if slices.ContainsFunc(a.Supervisors, func(c consoleSupervisorChoice) bool { return c.ID == l.SupervisorID }) {
				continue
			}
			a.Supervisors = append(a.Supervisors, consoleSupervisorChoice{ID: l.SupervisorID, Name: name, Chosen: true,
				Notes: l.CosignNotes, Plans: l.CosignTreatmentPlans, MayNotes: l.CosignNotes, MayPlans: l.CosignTreatmentPlans})
		}
		a.SupervisedBy = strings.Join(names, ", ")
		model, err := s.d.AdminRoles.Model(ctx, pr.Practice.ID)
		if err != nil {
			return err
		}
		stored, err := s.d.AdminStore.MemberOverrides(ctx, m.ID)
		if err != nil {
			return err
		}
		current := make([]roles.Override, 0, len(stored))
		for _, o := range stored {
			current = append(current, roles.Override{Permission: o.Permission, Grant: o.Grant})
			a.Overrides = append(a.Overrides, consoleOverride{Permission: o.Permission, Grant: o.Grant,
				Words: permissionWords(o.Permission)})
		}
		for _, o := range model.MemberOptions {
			a.Options = append(a.Options, consoleOption{Key: o.Key, Name: o.Name, Description: o.Description,
				On: o.OnFor(current)})
		}
		a.Permissions = groupPermissions(overridablePermissions())
		a.OverridesSummary = strings.ToLower(countWords(len(a.Overrides), "exception", "exceptions")) + " to their roles"
	}
	if a.CanElevate {
		running, err := s.d.AdminStore.ActiveElevations(ctx, m.ID, time.Now())
		if err != nil {
			return err
		}
		for _, e := range running {
			if e.PracticeID != pr.Practice.ID {
				continue
			}
			var words []string
			for _, p := range e.Permissions {
				words = append(words, permissionWords(p))
			}
			a.Elevations = append(a.Elevations, consoleElevation{ID: e.ID, GrantedBy: e.GrantedBy, Reason: e.Reason,
				Permissions: words, EndsAt: e.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC")})
		}
		var elev []string
		for _, p := range elevationPermissions() {
			elev = append(elev, p.Name)
		}
		a.ElevationPermissions = groupPermissions(elev)
		for i := range a.ElevationPermissions {
			for j := range a.ElevationPermissions[i].Permissions {
				p := &a.ElevationPermissions[i].Permissions[j]
				p.Description = strings.TrimSuffix(p.Description, " ("+roles.ScopeWords("", roles.ScopeAll)+")")
			}
		}
		for _, d := range []int{15, 60, 120, 240, 480, 720} {
			label := strconv.Itoa(d) + " minutes"
			if d >= 60 {
				label = strconv.Itoa(d/60) + " hour"
				if d > 60 {
					label += "s"
				}
			}
			a.Durations = append(a.Durations, consoleDuration{Minutes: d, Label: label,
				Default: time.Duration(d)*time.Minute == roles.DefaultElevation})
		}
	}
	data.Access = a
	return nil
}

// overridablePermissions lists every catalogue permission with each of the
// scopes it has (app log-in rights, which name a client, are left to the
// API).
func overridablePermissions() []string {
	var out []string
	for _, e := range roles.Catalogue() {
		if strings.Contains(e.Name, "<") {
			continue
		}
		if !e.Scoped() {
			out = append(out, e.Name)
			continue
		}
		for _, sc := range e.Scopes {
			out = append(out, e.Name+":"+string(sc))
		}
	}
	return out
}

// elevationPermissions lists what the console offers as emergency access:
// the client, note, scheduling and billing permissions, at the widest scope.
func elevationPermissions() []consolePermission {
	var out []consolePermission
	for _, e := range roles.Catalogue() {
		switch e.Group {
		case "Clients", "Notes", "Scheduling", "Billing":
		default:
			continue
		}
		name := e.Name
		if e.Scoped() {
			name += ":" + string(roles.ScopeAll)
		}
		out = append(out, consolePermission{Name: name, Description: e.Description})
	}
	return out
}

func (s *Server) memberDone(w http.ResponseWriter, r *http.Request, pr account.Principal, id, done string) {
	http.Redirect(w, r, "/p/"+pr.Practice.Slug+"/admin/members/"+url.PathEscape(id)+"?done="+done, http.StatusSeeOther)
}

// accessForm signs the member in, checks perm, reads the form and loads the
// target member.
func (s *Server) accessForm(w http.ResponseWriter, r *http.Request, perm string) (account.Principal, store.Member, bool) {
	pr, ok := s.consoleAllowed(w, r, perm)
	if !ok {
		return pr, store.Member{}, false
	}
	if !s.parseForm(w, r, viewPractice(pr.Practice)) {
		return pr, store.Member{}, false
	}
	m, ok := s.consoleTarget(w, r, pr)
	return pr, m, ok
}

func (s *Server) rolesActor(pr account.Principal) roles.Actor {
	return roles.Actor{PracticeID: pr.Practice.ID, MemberID: pr.Member.ID}
}

// formList returns the form's values of key, refusing more than max.
func formList(r *http.Request, key string, max int) ([]string, bool) {
	v := r.PostForm[key]
	if len(v) > max {
		return nil, false
	}
	for _, x := range v {
		if len(x) > 200 {
			return nil, false
		}
	}
	return v, true
}

func (s *Server) tooMany(w http.ResponseWriter, r *http.Request, pr account.Principal, id string) {
	s.message(w, r, http.StatusBadRequest, viewPractice(pr.Practice), "Nothing was changed",
		"The form holds more entries than this page accepts. Go back to the member and try again.", s.memberLink(pr, id))
}

func (s *Server) consoleSupervisors(w http.ResponseWriter, r *http.Request) {
	pr, m, ok := s.accessForm(w, r, roles.PermAssign)
	if !ok {
		return
	}
	chosen, ok1 := formList(r, "supervisor", 20)
	notes, ok2 := formList(r, "cosign_notes", 20)
	plans, ok3 := formList(r, "cosign_plans", 20)
	if !ok1 || !ok2 || !ok3 {
		s.tooMany(w, r, pr, m.ID)
		return
	}
	links := make([]roles.SupervisorLink, 0, len(chosen))
	for _, id := range chosen {
		links = append(links, roles.SupervisorLink{SupervisorID: id, CosignNotes: slices.Contains(notes, id),
			CosignTreatmentPlans: slices.Contains(plans, id)})
	}
	for _, id := range append(slices.Clone(notes), plans...) {
		if !slices.Contains(chosen, id) {
			s.message(w, r, http.StatusBadRequest, viewPractice(pr.Practice), "Nothing was changed",
				"A co-signature box is ticked for someone not chosen as a supervisor. Tick “Supervises” for them too, or untick the co-signature.",
				s.memberLink(pr, m.ID))
			return
		}
	}
	if err := s.d.AdminRoles.SetSupervisors(r.Context(), s.rolesActor(pr), m.ID, links, s.rolesMeta(r)); err != nil {
		if errors.Is(err, roles.ErrInvalid) {
			s.message(w, r, http.StatusBadRequest, viewPractice(pr.Practice), "Nothing was changed", supervisionRefusal,
				s.memberLink(pr, m.ID))
			return
		}
		s.consoleFail(w, r, pr, err, s.memberLink(pr, m.ID))
		return
	}
	s.memberDone(w, r, pr, m.ID, "supervisors")
}

func (s *Server) consoleOptions(w http.ResponseWriter, r *http.Request) {
	pr, m, ok := s.accessForm(w, r, roles.PermAssign)
	if !ok {
		return
	}
	want, ok := formList(r, "option", 50)
	if !ok {
		s.tooMany(w, r, pr, m.ID)
		return
	}
	model, err := s.d.AdminRoles.Model(r.Context(), pr.Practice.ID)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	stored, err := s.d.AdminStore.MemberOverrides(r.Context(), m.ID)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	current := make([]roles.Override, 0, len(stored))
	for _, o := range stored {
		current = append(current, roles.Override{Permission: o.Permission, Grant: o.Grant})
	}
	for _, k := range want {
		if !slices.ContainsFunc(model.MemberOptions, func(o roles.MemberOption) bool { return o.Key == k }) {
			s.message(w, r, http.StatusBadRequest, viewPractice(pr.Practice), "Nothing was changed",
				"The practice has no such member option. Go back to the member and pick from the list.", s.memberLink(pr, m.ID))
			return
		}
	}
	// Each changed option is its own audited change; options left as they
	// were are not touched.
	for _, o := range model.MemberOptions {
		on := slices.Contains(want, o.Key)
		if on == o.OnFor(current) {
			continue
		}
		if err := s.d.AdminRoles.ApplyMemberOption(r.Context(), s.rolesActor(pr), m.ID, o.Key, on, s.rolesMeta(r)); err != nil {
			s.consoleFail(w, r, pr, err, s.memberLink(pr, m.ID))
			return
		}
	}
	s.memberDone(w, r, pr, m.ID, "options")
}

func (s *Server) consoleOverrides(w http.ResponseWriter, r *http.Request) {
	pr, m, ok := s.accessForm(w, r, roles.PermAssign)
	if !ok {
		return
	}
	keep, ok := formList(r, "keep", 200)
	if !ok {
		s.tooMany(w, r, pr, m.ID)
		return
	}
	stored, err := s.d.AdminStore.MemberOverrides(r.Context(), m.ID)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	next := []roles.Override{}
	for _, o := range stored {
		if slices.Contains(keep, o.Permission) {
			next = append(next, roles.Override{Permission: o.Permission, Grant: o.Grant})
		}
	}
	if add := r.PostForm.Get("add_permission"); add != "" {
		if len(add) > 200 {
			s.tooMany(w, r, pr, m.ID)
			return
		}
		var grant bool
		switch r.PostForm.Get("add_effect") {
		case "grant":
			grant = true
		case "deny":
		default:
			s.message(w, r, http.StatusBadRequest, viewPractice(pr.Practice), "Nothing was changed",
				"Choose whether the new override grants or denies the permission.", s.memberLink(pr, m.ID))
			return
		}
		next = slices.DeleteFunc(next, func(o roles.Override) bool { return o.Permission == add })
		next = append(next, roles.Override{Permission: add, Grant: grant})
	}
	if err := s.d.AdminRoles.SetMemberOverrides(r.Context(), s.rolesActor(pr), m.ID, next, s.rolesMeta(r)); err != nil {
		s.consoleFail(w, r, pr, err, s.memberLink(pr, m.ID))
		return
	}
	s.memberDone(w, r, pr, m.ID, "overrides")
}

func (s *Server) consoleGrantElevation(w http.ResponseWriter, r *http.Request) {
	pr, m, ok := s.accessForm(w, r, roles.PermGrantElevation)
	if !ok {
		return
	}
	perms, ok := formList(r, "permission", 100)
	if !ok {
		s.tooMany(w, r, pr, m.ID)
		return
	}
	bad := func(msg string) {
		s.message(w, r, http.StatusBadRequest, viewPractice(pr.Practice), "No emergency access was granted", msg, s.memberLink(pr, m.ID))
	}
	if r.PostForm.Get("confirm") != "yes" {
		bad("Tick the box confirming that this is an emergency and that the access is recorded and reported, then grant again.")
		return
	}
	if len(perms) == 0 {
		bad("Choose at least one kind of access to grant.")
		return
	}
	minutes, err := strconv.Atoi(r.PostForm.Get("duration"))
	if err != nil || minutes < 1 || time.Duration(minutes)*time.Minute > roles.MaxElevation {
		bad("Choose how long the access lasts from the list.")
		return
	}
	reason := r.PostForm.Get("reason")
	if len(reason) > 2000 {
		bad("Say why emergency access is needed in at most 500 characters.")
		return
	}
	_, err = s.d.AdminRoles.GrantElevation(r.Context(), s.rolesActor(pr), m.ID, perms, time.Duration(minutes)*time.Minute,
		reason, s.rolesMeta(r))
	if err != nil {
		if errors.Is(err, roles.ErrInvalid) || errors.Is(err, roles.ErrBadPermission) {
			bad(plainWords(invalidText(err)) + " Go back, change the form and grant again.")
			return
		}
		s.consoleFail(w, r, pr, err, s.memberLink(pr, m.ID))
		return
	}
	s.memberDone(w, r, pr, m.ID, "elevation")
}

// supervisionRefusal is why a choice of supervisors was refused, in words
// (the role service's text names members by id).
const supervisionRefusal = "Each supervisor must be another active member who holds a supervisor role, and can only be asked " +
	"to co-sign what their roles let them co-sign. Go back to the member and choose from the list."

// invalidText is the role service's explanation of a refused request (what
// to fix; never a secret), as a sentence.
func invalidText(err error) string {
	var msg string
	if p, ok := problem.As(err); ok {
		msg = p.Public
		if errors.Is(err, roles.ErrInvalid) {
			msg = p.Reason // "invalid request" adds nothing to the form's own words
		}
	}
	if msg == "" {
		return "The request was not valid."
	}
	return strings.ToUpper(msg[:1]) + msg[1:] + "."
}

func (s *Server) consoleEndElevation(w http.ResponseWriter, r *http.Request) {
	pr, m, ok := s.accessForm(w, r, roles.PermGrantElevation)
	if !ok {
		return
	}
	id := r.PathValue("elevation")
	running, err := s.d.AdminStore.ActiveElevations(r.Context(), m.ID, time.Now())
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	if !slices.ContainsFunc(running, func(e store.Elevation) bool { return e.ID == id && e.PracticeID == pr.Practice.ID }) {
		s.message(w, r, http.StatusNotFound, viewPractice(pr.Practice), "Not running",
			"This emergency access already ended. Go back to the member to see what is running now.", s.memberLink(pr, m.ID))
		return
	}
	err = s.d.AdminRoles.EndElevation(r.Context(), s.rolesActor(pr), id, s.rolesMeta(r))
	if errors.Is(err, roles.ErrInvalid) {
		s.message(w, r, http.StatusNotFound, viewPractice(pr.Practice), "Not running",
			"This emergency access already ended. Go back to the member to see what is running now.", s.memberLink(pr, m.ID))
		return
	}
	if err != nil {
		s.consoleFail(w, r, pr, err, s.memberLink(pr, m.ID))
		return
	}
	s.memberDone(w, r, pr, m.ID, "elevation-ended")
}
