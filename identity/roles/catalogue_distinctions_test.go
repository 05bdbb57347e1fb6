package roles

import (
	"slices"
	"testing"
)

// TestCatalogueNamesEveryDistinctionTheSeedsMake checks, item by item, that
// the permission catalogue names everything the domain seeds distinguish
// (clinical vs administrative notes, own vs all schedules, billing scopes,
// unlocking, emergency access, … as issue 4 point 1 lists them), with
// exactly the scopes own, assigned, supervisees and all.
func TestCatalogueNamesEveryDistinctionTheSeedsMake(t *testing.T) {
	tests := []struct {
		item  string
		perms []string // each must validate exactly as written
	}{
		{"client contact details vs client records", []string{"clients.view:all", "records.view:assigned"}},
		{"clinical notes vs administrative notes (missed appointment, contact, miscellaneous)",
			[]string{"clinical_notes.create:assigned", "admin_notes.create:all"}},
		{"note approval and co-signing", []string{"clinical_notes.approve:supervisees", "clinical_notes.cosign:supervisees"}},
		{"deleting signed notes", []string{"clinical_notes.delete_signed:all"}},
		{"assigning clients to clinicians", []string{"clients.assign"}},
		{"granting other practitioners access to a client", []string{"records.share:assigned"}},
		{"diagnoses and treatment plans", []string{"diagnoses.edit:assigned", "treatment_plans.edit:assigned", "treatment_plans.cosign:supervisees"}},
		{"schedules: own / all, view / edit (seed 004's four levels)",
			[]string{"schedule.view:own", "schedule.edit:own", "schedule.view:all", "schedule.edit:all"}},
		{"billing: assigned / all", []string{"billing.view:assigned", "billing.edit:all"}},
		{"claims submission", []string{"claims.submit"}},
		{"billing reports and settings", []string{"billing_reports.view", "billing_settings.view", "billing_settings.edit"}},
		{"practice financials", []string{"financials.view"}},
		{"invoices deletion", []string{"invoices.delete:assigned"}},
		{"dashboard and data export", []string{"dashboard.view", "data.export"}},
		{"forms management and sending", []string{"forms.manage", "forms.send:assigned"}},
		{"member management", []string{"members.manage", "members.view:all"}},
		{"role assignment", []string{"roles.assign", "roles.define"}},
		{"password reset", []string{"passwords.reset"}},
		{"unlocking accounts", []string{"accounts.unlock"}},
		{"audit trail", []string{"audit.view"}},
		{"practice settings", []string{"settings.edit"}},
		{"log-in rights per app (app.<client>.login)", []string{"app.ehr.login", "app.datacollection.login", "app.*.login"}},
		{"emergency access (point 8)", []string{"elevation.grant"}},
	}
	for _, tt := range tests {
		for _, p := range tt.perms {
			if err := Validate(p); err != nil {
				t.Errorf("%s: %v", tt.item, err)
			}
		}
	}
	// Scopes: own, assigned, supervisees, all — and nothing else.
	var got []string
	for _, s := range Scopes() {
		got = append(got, string(s))
	}
	if want := []string{"own", "assigned", "supervisees", "all"}; !slices.Equal(got, want) {
		t.Errorf("scopes = %v, want %v", got, want)
	}
	if err := Validate("clients.view:team"); err == nil {
		t.Error("an unknown scope validates")
	}
}
