package httpserver

import (
	"net/http"
	"slices"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// Deactivating a supervisor (seed 003): the confirmation page lists the
// members they supervise and offers to hand each to another supervisor;
// whoever is not handed on stops being supervised by them.

// maxReassign bounds the supervisees handled on one confirmation page.
const maxReassign = 100

// consoleSupervisee is one member the deactivated member supervises, with
// the supervisors who could take them on.
type consoleSupervisee struct {
	ID, Name string
	Choices  []supervisorChoice
}

type consoleDeactivateData struct {
	Practice                        *practiceView
	Title, Message, Action, Confirm string
	CancelURL                       string
	Name                            string
	// Supervisees are the members the member supervises; CanReassign says
	// whether the viewer may hand them on (roles.assign).
	Supervisees []consoleSupervisee
	CanReassign bool
}

// activeSupervisees lists the members whom id supervises and who are not
// deactivated, at most maxReassign.
func (s *Server) activeSupervisees(r *http.Request, pr account.Principal, id string) ([]store.Member, error) {
	sup, err := s.d.AdminRoles.Supervision(r.Context(), pr.Practice.ID, id)
	if err != nil {
		return nil, err
	}
	var out []store.Member
	for _, see := range sup.Supervisees {
		m, err := s.d.AdminStore.MemberByID(r.Context(), pr.Practice.ID, see)
		if err != nil || m.Status == store.StatusDeactivated {
			continue
		}
		out = append(out, m)
		if len(out) == maxReassign {
			break
		}
	}
	return out, nil
}

func (s *Server) deactivateConfirm(w http.ResponseWriter, r *http.Request, pr account.Principal, m store.Member, a memberAction) {
	data := consoleDeactivateData{Practice: viewPractice(pr.Practice), Title: a.title(m), Message: a.message(m),
		Action: s.memberAction(pr, m.ID, a.path), Confirm: a.confirm, CancelURL: s.memberLink(pr, m.ID).URL,
		Name: viewMember(m).Name, CanReassign: s.may(r, pr, roles.PermAssign)}
	sees, err := s.activeSupervisees(r, pr, m.ID)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	var choices []supervisorChoice
	if len(sees) > 0 && data.CanReassign {
		if choices, err = s.supervisorChoices(r, pr.Practice.ID, m.ID); err != nil {
			s.internalError(w, r, err)
			return
		}
	}
	for _, see := range sees {
		row := consoleSupervisee{ID: see.ID, Name: viewMember(see).Name}
		for _, c := range choices {
			if c.ID != see.ID {
				row.Choices = append(row.Choices, c)
			}
		}
		data.Supervisees = append(data.Supervisees, row)
	}
	s.renderAny(w, r, http.StatusOK, "admin_deactivate", data)
}

// reassignSupervisees hands each supervisee of the member id to the
// supervisor chosen on the confirmation page (field reassign-<supervisee>),
// keeping the co-signatures the new supervisor may give, and ends their
// supervision by id. It does nothing unless the page offered the choice
// (reassign=1) and the viewer holds roles.assign; the role service checks
// and audits each change.
func (s *Server) reassignSupervisees(r *http.Request, pr account.Principal, id string) error {
	if err := r.ParseForm(); err != nil || r.PostForm.Get("reassign") != "1" || !s.may(r, pr, roles.PermAssign) {
		return nil
	}
	sees, err := s.activeSupervisees(r, pr, id)
	if err != nil || len(sees) == 0 {
		return err
	}
	choices, err := s.supervisorChoices(r, pr.Practice.ID, id)
	if err != nil {
		return err
	}
	for _, see := range sees {
		theirs, err := s.d.AdminRoles.Supervision(r.Context(), pr.Practice.ID, see.ID)
		if err != nil {
			return err
		}
		var old roles.SupervisorLink
		links := make([]roles.SupervisorLink, 0, len(theirs.Supervisors))
		for _, l := range theirs.Supervisors {
			if l.SupervisorID == id {
				old = l
				continue
			}
			links = append(links, l)
		}
		next := r.PostForm.Get("reassign-" + see.ID)
		if i := slices.IndexFunc(choices, func(c supervisorChoice) bool { return c.ID == next }); i >= 0 && next != see.ID &&
			!slices.ContainsFunc(links, func(l roles.SupervisorLink) bool { return l.SupervisorID == next }) {
			links = append(links, roles.SupervisorLink{SupervisorID: next, CosignNotes: old.CosignNotes && choices[i].Notes,
				CosignTreatmentPlans: old.CosignTreatmentPlans && choices[i].Plans})
		}
		if err := s.d.AdminRoles.SetSupervisors(r.Context(), s.rolesActor(pr), see.ID, links, s.rolesMeta(r)); err != nil {
			return err
		}
	}
	return nil
}
