package adminapi

import (
	"context"
	"net/http"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/roles"
)

// PasskeyRevoker removes every passkey of a member; *passkeys.Service is one.
type PasskeyRevoker interface {
	RevokeMember(ctx context.Context, practiceSlug, memberID string, actor account.Actor, meta account.Meta) (int64, error)
}

// updateMemberProfile changes a member's display (preferred) name and
// practitioner profile: legal name, credentials, NPI and taxonomy code.
// Absent fields stay as they are; "" clears a practitioner field (the
// display name cannot be empty).
func (a *API) updateMemberProfile(w http.ResponseWriter, r *http.Request, c *caller) error {
	var body struct {
		DisplayName *string `json:"display_name"`
		LegalName   *string `json:"legal_name"`
		Credentials *string `json:"credentials"`
		NPI         *string `json:"npi"`
		Taxonomy    *string `json:"taxonomy"`
	}
	if err := a.decode(w, r, &body); err != nil {
		return err
	}
	if body.DisplayName == nil && body.LegalName == nil && body.Credentials == nil && body.NPI == nil && body.Taxonomy == nil {
		return badRequest(`Send at least one of "display_name" (the preferred name), "legal_name", "credentials", "npi" and "taxonomy".`)
	}
	if body.LegalName == nil && body.Credentials == nil && body.NPI == nil && body.Taxonomy == nil {
		m, err := a.d.Accounts.SetDisplayName(r.Context(), c.practice.Slug, c.actor(), r.PathValue("id"), *body.DisplayName, c.meta)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, memberView(m))
		return nil
	}
	if body.DisplayName != nil {
		if _, err := account.CheckText("display_name", *body.DisplayName, account.MaxDisplayNameRunes); err != nil {
			return err
		}
	}
	m, err := a.d.Accounts.SetPractitionerProfile(r.Context(), c.practice.Slug, c.actor(), r.PathValue("id"),
		account.PractitionerUpdate{PreferredName: body.DisplayName, LegalName: body.LegalName, Credentials: body.Credentials,
			NPI: body.NPI, Taxonomy: body.Taxonomy}, c.meta)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, memberView(m))
	return nil
}

// supervisorLink is one supervisor of a member as the API shows it.
type supervisorLink struct {
	MemberID             string `json:"member_id"`
	CosignNotes          bool   `json:"cosign_notes"`
	CosignTreatmentPlans bool   `json:"cosign_treatment_plans"`
}

func (a *API) setMemberSupervisors(w http.ResponseWriter, r *http.Request, c *caller) error {
	var body struct {
		Supervisors []supervisorLink `json:"supervisors"`
	}
	if err := a.decode(w, r, &body); err != nil {
		return err
	}
	if body.Supervisors == nil || len(body.Supervisors) > 20 {
		return badRequest(`Send {"supervisors": [{"member_id": "…"}]} with at most 20 supervisors; [] ends supervision.`)
	}
	links := make([]roles.SupervisorLink, 0, len(body.Supervisors))
	for _, s := range body.Supervisors {
		if s.MemberID == "" || len(s.MemberID) > 100 {
			return badRequest("Each supervisor needs the member_id of a member of this practice.")
		}
		links = append(links, roles.SupervisorLink{SupervisorID: s.MemberID, CosignNotes: s.CosignNotes,
			CosignTreatmentPlans: s.CosignTreatmentPlans})
	}
	m, err := a.member(r, c)
	if err != nil {
		return err
	}
	if err := a.d.Roles.SetSupervisors(r.Context(), c.rolesActor(), m.ID, links, c.rolesMeta()); err != nil {
		return err
	}
	sup, err := a.d.Roles.Supervision(r.Context(), c.practice.ID, m.ID)
	if err != nil {
		return err
	}
	out := struct {
		MemberID    string           `json:"member_id"`
		Supervisors []supervisorLink `json:"supervisors"`
		Supervisees []string         `json:"supervisees"`
	}{MemberID: m.ID, Supervisors: []supervisorLink{}, Supervisees: sup.Supervisees}
	for _, s := range sup.Supervisors {
		out.Supervisors = append(out.Supervisors, supervisorLink{MemberID: s.SupervisorID, CosignNotes: s.CosignNotes,
			CosignTreatmentPlans: s.CosignTreatmentPlans})
	}
	if out.Supervisees == nil {
		out.Supervisees = []string{}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) reactivateMember(w http.ResponseWriter, r *http.Request, c *caller) error {
	m, err := a.d.Accounts.ReactivateMember(r.Context(), c.practice.Slug, c.actor(), r.PathValue("id"), c.meta)
	if err != nil {
		return err // account.ErrNotDeactivated and ErrNoCredential carry their codes
	}
	writeJSON(w, http.StatusOK, memberView(m))
	return nil
}

func (a *API) revokeMemberPasskeys(w http.ResponseWriter, r *http.Request, c *caller) error {
	if a.d.Passkeys == nil {
		return &apiError{http.StatusNotFound, "not_found", "Passkeys are not enabled on this server."}
	}
	n, err := a.d.Passkeys.RevokeMember(r.Context(), c.practice.Slug, r.PathValue("id"), c.actor(), c.meta)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"member_id": r.PathValue("id"), "passkeys_removed": n})
	return nil
}
