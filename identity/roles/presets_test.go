package roles

import (
	"errors"
	"slices"
	"testing"
	"time"
)

// presetCase is one statement about one role (or set of roles) of a preset.
type presetCase struct {
	held    []string        // role keys the member holds
	toggles map[string]bool // practice toggles (missing: the toggle's default)
	options []string        // member options applied as overrides
	perm    string
	allowed bool
}

func runPreset(t *testing.T, key string, cases []presetCase) {
	t.Helper()
	p, ok := PresetByKey(key)
	if !ok {
		t.Fatalf("no preset %q", key)
	}
	for _, c := range cases {
		var overrides []Override
		for _, o := range c.options {
			i := slices.IndexFunc(p.MemberOptions, func(m MemberOption) bool { return m.Key == o })
			if i < 0 {
				t.Fatalf("%s: no member option %q", key, o)
			}
			overrides = append(overrides, p.MemberOptions[i].Overrides...)
		}
		for _, r := range c.held {
			if _, ok := p.Role(r); !ok {
				t.Fatalf("%s: no role %q", key, r)
			}
		}
		eff := Compute(Input{Defs: p.Roles, Held: c.held, Toggles: p.Toggles, ToggleOn: c.toggles, Overrides: overrides})
		if got := Allows(eff.Permissions, c.perm); got != c.allowed {
			t.Errorf("%s: roles %v toggles %v options %v: %s allowed = %v, want %v (effective %v)",
				key, c.held, c.toggles, c.options, c.perm, got, c.allowed, eff.Permissions)
		}
	}
}

func roles(k ...string) []string { return k }

// TestPresetsAreConsistent checks what every preset must satisfy: valid role
// definitions with an "owner" role and a delegation that meets the
// invariants, owner roles that may be held together and give every role, and
// every permission an option or toggle grants included in some role (or the
// owner's), so that someone may give it.
func TestPresetsAreConsistent(t *testing.T) {
	keys := map[string]bool{}
	for _, p := range Presets() {
		if keys[p.Key] || p.Key == "" || p.Name == "" || p.Description == "" {
			t.Errorf("preset %q: duplicate key or missing name/description", p.Key)
		}
		keys[p.Key] = true
		defs, err := CheckSet(p.Roles)
		if err != nil {
			t.Errorf("preset %s: %v", p.Key, err)
			continue
		}
		if !slices.Contains(p.OwnerRoles, OwnerRole) {
			t.Errorf("preset %s: owner roles %v lack %q", p.Key, p.OwnerRoles, OwnerRole)
		}
		if err := CheckHeld(defs, p.OwnerRoles); err != nil {
			t.Errorf("preset %s: owner roles: %v", p.Key, err)
		}
		owner := Compute(Input{Defs: defs, Held: p.OwnerRoles, Toggles: p.Toggles}).Permissions
		var grantable []string
		for _, r := range defs {
			grantable = append(grantable, r.Permissions...)
		}
		for _, tg := range p.Toggles {
			grantable = append(grantable, tg.On.Grant...)
			for _, r := range tg.Roles {
				if _, ok := p.Role(r); !ok {
					t.Errorf("preset %s: toggle %s names unknown role %s", p.Key, tg.Key, r)
				}
			}
			for _, perm := range append(slices.Clone(tg.On.Grant), tg.On.Revoke...) {
				if err := Validate(perm); err != nil {
					t.Errorf("preset %s: toggle %s: %v", p.Key, tg.Key, err)
				}
			}
		}
		for _, o := range p.MemberOptions {
			for _, ov := range o.Overrides {
				if err := Validate(ov.Permission); err != nil {
					t.Errorf("preset %s: option %s: %v", p.Key, o.Key, err)
				}
				if ov.Grant {
					grantable = append(grantable, ov.Permission)
				}
			}
		}
		// The owner roles need not hold what they give: they give every
		// role, and some role includes each permission an option grants.
		var every []string
		for _, r := range p.Roles {
			every = append(every, Compute(Input{Defs: p.Roles, Held: []string{r.Key}, Toggles: p.Toggles}).Permissions...)
		}
		for _, perm := range grantable {
			if !Allows(every, perm) && !Allows(owner, perm) {
				t.Errorf("preset %s: no role includes %s, so nobody may give it", p.Key, perm)
			}
		}
		if g := givable(p.Roles, p.OwnerRoles); len(g) != len(p.Roles) {
			t.Errorf("preset %s: owner roles %v give %v, want every role", p.Key, p.OwnerRoles, g)
		}
	}
	if _, ok := PresetByKey(DefaultPreset); !ok {
		t.Errorf("default preset %q does not exist", DefaultPreset)
	}
}

// TestPresetTherapyNotes encodes seed 000 (TherapyNotes, "User Accounts and Roles").
func TestPresetTherapyNotes(t *testing.T) {
	runPreset(t, "therapynotes", []presetCase{
		// "Clinicians can only access documentation for clients to whom they are assigned."
		{held: roles("clinician"), perm: "clinical_notes.create:assigned", allowed: true},
		{held: roles("clinician"), perm: "clinical_notes.view:assigned", allowed: true},
		{held: roles("clinician"), perm: "clinical_notes.view:all", allowed: false},
		// "Like all users in the system, Clinicians will be able to see contact information for all clients regardless of whom the client is assigned to."
		{held: roles("clinician"), perm: "clients.view:all", allowed: true},
		{held: roles("scheduler"), perm: "clients.view:all", allowed: true},
		{held: roles("practice_admin"), perm: "clients.view:all", allowed: true},
		// "clinicians might not need access to the practice's financial information."
		{held: roles("clinician"), perm: "billing.view:assigned", allowed: false},
		{held: roles("clinician"), perm: "billing_reports.view", allowed: false},

		// "A Practice Scheduler has access to all Clinicians' schedules and may schedule and cancel appointments."
		{held: roles("scheduler"), perm: "schedule.edit:all", allowed: true},
		// "They have access to add, edit, and remove clients."
		{held: roles("scheduler"), perm: "clients.create", allowed: true},
		{held: roles("scheduler"), perm: "clients.edit:all", allowed: true},
		{held: roles("scheduler"), perm: "clients.delete", allowed: true},
		// "A Practice Scheduler can create Missed Appointment Notes, Contact Notes, and Miscellaneous Notes, but they may not create clinical notes."
		{held: roles("scheduler"), perm: "admin_notes.create:all", allowed: true},
		{held: roles("scheduler"), perm: "clinical_notes.create:own", allowed: false},
		{held: roles("scheduler"), perm: "clinical_notes.view:own", allowed: false},

		// "A Practice Biller has full access to billing in TherapyNotes. Practice Billers are able to generate and track claims, enter payments, and run billing reports."
		{held: roles("biller"), perm: "billing.edit:all", allowed: true},
		{held: roles("biller"), perm: "claims.submit", allowed: true},
		{held: roles("biller"), perm: "billing_reports.view", allowed: true},
		// "They have access to all clients in the TherapyNotes account, although they are not able to see clinical notes."
		{held: roles("biller"), perm: "clients.view:all", allowed: true},
		{held: roles("biller"), perm: "clinical_notes.view:own", allowed: false},
		// "Billers do not have their own calendar or appointments (unless they also have the role of Clinician)."
		{held: roles("biller"), perm: "schedule.view:own", allowed: false},
		{held: roles("biller", "clinician"), perm: "schedule.view:own", allowed: true},

		// "A Clinician who also has this role has the ability to enter and view client billing information and payments for their clients only."
		{held: roles("clinician", "biller_assigned"), perm: "billing.edit:assigned", allowed: true},
		{held: roles("clinician", "biller_assigned"), perm: "billing.view:all", allowed: false},
		// "They are not able to submit claims to insurance or access practice-wide billing reports."
		{held: roles("clinician", "biller_assigned"), perm: "claims.submit", allowed: false},
		{held: roles("clinician", "biller_assigned"), perm: "billing_reports.view", allowed: false},

		// "A Practice Administrator has the ability to create and edit user accounts, assign their roles, and reset passwords for other users."
		{held: roles("practice_admin"), perm: "members.manage", allowed: true},
		{held: roles("practice_admin"), perm: "roles.assign", allowed: true},
		{held: roles("practice_admin"), perm: "passwords.reset", allowed: true},
		// "The Practice Administrator may also configure many of the global settings for TherapyNotes."
		{held: roles("practice_admin"), perm: "settings.edit", allowed: true},
		// "administrative staff might not need access to clinical information"
		{held: roles("practice_admin"), perm: "clinical_notes.view:own", allowed: false},
		// "Note: Only Practice Administrators may change a user's roles."
		{held: roles("clinician", "clinical_admin", "supervisor", "scheduler", "biller"), perm: "roles.assign", allowed: false},

		// "A Clinical Administrator has full access to all clients and client notes, whether or not they are assigned to that client."
		{held: roles("clinician", "clinical_admin"), perm: "clinical_notes.view:all", allowed: true},
		{held: roles("clinician", "clinical_admin"), perm: "records.view:all", allowed: true},
		// "Clinical Administrators also have the ability to assign any client to any Clinician"
		{held: roles("clinician", "clinical_admin"), perm: "clients.assign", allowed: true},
		{held: roles("clinician"), perm: "clients.assign", allowed: false},
		// "Clinical Administrators are the only users able to delete a signed note."
		{held: roles("clinician", "clinical_admin"), perm: "clinical_notes.delete_signed:all", allowed: true},
		{held: roles("clinician", "scheduler", "biller", "biller_assigned", "practice_admin", "supervisor"),
			perm: "clinical_notes.delete_signed:own", allowed: false},

		// "A Supervisor may access, review, approve, and co-sign notes of supervised Clinicians and Interns."
		{held: roles("supervisor"), perm: "clinical_notes.cosign:supervisees", allowed: true},
		{held: roles("supervisor"), perm: "clinical_notes.approve:supervisees", allowed: true},
		{held: roles("supervisor"), perm: "clinical_notes.view:supervisees", allowed: true},
		{held: roles("supervisor"), perm: "clinical_notes.view:all", allowed: false},
	})
	p, _ := PresetByKey("therapynotes")
	// "Note: Clinical Administrators must also have the role of Clinician"
	if err := CheckHeld(p.Roles, roles("clinical_admin")); !errors.Is(err, ErrConstraint) {
		t.Errorf("Clinical Administrator without Clinician: %v, want ErrConstraint", err)
	}
	if err := CheckHeld(p.Roles, roles("clinical_admin", "clinician")); err != nil {
		t.Errorf("Clinical Administrator with Clinician: %v", err)
	}
	// "A Clinician who also has this role" (Biller For Assigned Patients Only)
	if err := CheckHeld(p.Roles, roles("biller_assigned")); !errors.Is(err, ErrConstraint) {
		t.Errorf("Biller for assigned patients without Clinician: %v, want ErrConstraint", err)
	}
	// "Roles limit access ... based on the job functions of the user": roles combine.
	if err := CheckHeld(p.Roles, roles("clinician", "scheduler", "biller", "practice_admin", "supervisor")); err != nil {
		t.Errorf("combined roles: %v", err)
	}
}

// TestPresetABA encodes seed 001 (an ABA practice portal's roles and special permissions).
func TestPresetABA(t *testing.T) {
	const collect, portal = "app.datacollection.login", "app.portal.login"
	clinical := roles("cd", "acd", "l1", "l2", "l2_5", "bt")
	runPreset(t, "aba", []presetCase{
		// Clinical Director: "Can see all clients without an authorization"
		{held: roles("cd"), perm: "clients.view:all", allowed: true},
		// "Can see all progress notes and reports for clients without an authorization"
		{held: roles("cd"), perm: "clinical_notes.view:all", allowed: true},
		// "Ability to approve progress notes"
		{held: roles("cd"), perm: "clinical_notes.approve:all", allowed: true},
		// "Ability to login to the app"
		{held: roles("cd"), perm: collect, allowed: true},
		// "Clinical Directors usually have both administrative permissions and full access to all clients."
		{held: roles("cd"), perm: "members.manage", allowed: true},
		// ACD: "Can see all clients without an authorization" / "Can see all progress notes and reports ..."
		{held: roles("acd"), perm: "clients.view:all", allowed: true},
		{held: roles("acd"), perm: "clinical_notes.view:all", allowed: true},
		{held: roles("acd"), perm: "clinical_notes.approve:all", allowed: true},
		{held: roles("acd"), perm: collect, allowed: true},
		// "some administrative duties and clinical duties but should not have full access to all parts of the system. Use the Assistant Clinical Director account."
		{held: roles("acd"), perm: "members.manage", allowed: false},

		// Level 1 / 2 / 2.5: "Ability to approve progress notes" / "Ability to login to the app"
		{held: roles("l1"), perm: "clinical_notes.approve:assigned", allowed: true},
		{held: roles("l2"), perm: "clinical_notes.approve:assigned", allowed: true},
		{held: roles("l2_5"), perm: "clinical_notes.approve:assigned", allowed: true},
		{held: roles("l1"), perm: collect, allowed: true},
		{held: roles("l2"), perm: collect, allowed: true},
		{held: roles("l2_5"), perm: collect, allowed: true},
		// Only CD and ACD "Can see all clients without an authorization".
		{held: roles("l1"), perm: "clients.view:all", allowed: false},
		{held: roles("l2"), perm: "clinical_notes.view:all", allowed: false},

		// BT: "-Ability to login to the app" / "Front-line staff with very limited access to the system."
		{held: roles("bt"), perm: collect, allowed: true},
		{held: roles("bt"), perm: "clinical_notes.approve:own", allowed: false},
		{held: roles("bt"), perm: "clients.view:all", allowed: false},

		// Office Staff: "-Access to all clients"
		{held: roles("os"), perm: "clients.view:all", allowed: true},
		// "Office staff provide purely administrative support and cannot access the clinical app to collect data."
		{held: roles("os"), perm: collect, allowed: false},
		{held: roles("os"), perm: portal, allowed: true},
		// "They can access any parts of the system they are given access to but cannot function as a clinician."
		{held: roles("os"), perm: "clinical_notes.create:own", allowed: false},
		// "access to all staff info, client info, and/or the scheduler ... Use an Office Staff account."
		{held: roles("os"), perm: "members.view:all", allowed: true},
		{held: roles("os"), perm: "schedule.edit:all", allowed: true},

		// OSA: "-Access to all clients"
		{held: roles("osa"), perm: "clients.view:all", allowed: true},
		// "Office Staff Admin generally have access to every part of the system with the only exceptions being the data collection app, Audit-trail, User permissions (security), and locked users."
		{held: roles("osa"), perm: "billing.edit:all", allowed: true},
		{held: roles("osa"), perm: "settings.edit", allowed: true},
		{held: roles("osa"), perm: collect, allowed: false},
		{held: roles("osa"), perm: "audit.view", allowed: false},
		{held: roles("osa"), perm: "roles.assign", allowed: false},
		{held: roles("osa"), perm: "accounts.unlock", allowed: false},

		// Main Admin: "-Access to every part of the system except the data collection app"
		{held: roles("owner"), perm: "billing.edit:all", allowed: true},
		{held: roles("owner"), perm: "clinical_notes.view:all", allowed: true},
		{held: roles("owner"), perm: collect, allowed: false},
		{held: roles("owner"), perm: portal, allowed: true},
		// "-Access to Audit Trail"
		{held: roles("owner"), perm: "audit.view", allowed: true},
		// "-Access to User Permission settings"
		{held: roles("owner"), perm: "roles.assign", allowed: true},
		{held: roles("owner"), perm: "roles.define", allowed: true},
		// "-Ability to Unlock users (those that failed 3 password attempts)"
		{held: roles("owner"), perm: "accounts.unlock", allowed: true},
	})
	// Only the Main Admin reads the audit trail, edits user permissions and unlocks users.
	for _, r := range append(clinical, "os", "osa") {
		runPreset(t, "aba", []presetCase{
			{held: roles(r), perm: "audit.view", allowed: false},
			{held: roles(r), perm: "accounts.unlock", allowed: false},
			{held: roles(r), perm: "roles.assign", allowed: false},
		})
	}
	p, _ := PresetByKey("aba")
	// "cannot function as a clinician": office staff roles exclude clinical roles.
	for _, r := range clinical {
		if err := CheckHeld(p.Roles, roles("os", r)); !errors.Is(err, ErrConstraint) {
			t.Errorf("os with %s: %v, want ErrConstraint", r, err)
		}
	}
}

// TestPresetZencare encodes seed 002 (Zencare Practice Management).
func TestPresetZencare(t *testing.T) {
	runPreset(t, "zencare", []presetCase{
		// "The Practice Owner is someone who need full access to all client records as well as financial/clinical information."
		{held: roles("owner"), perm: "clinical_notes.view:all", allowed: true},
		{held: roles("owner"), perm: "financials.view", allowed: true},
		// "Only the Practice Owner can add and edit User Access."
		{held: roles("owner"), perm: "members.manage", allowed: true},
		{held: roles("therapist"), perm: "members.manage", allowed: false},
		{held: roles("office_admin"), perm: "members.manage", allowed: false},
		// "The Year-over-Year and Stats areas are only accessible to owners."
		{held: roles("owner"), perm: "insights.view", allowed: true},
		{held: roles("office_admin"), toggles: map[string]bool{"office_admins_dashboard": true}, perm: "insights.view", allowed: false},

		// "Therapist users also cannot see the entire practice's financial information."
		{held: roles("therapist"), perm: "financials.view", allowed: false},
		// "Therapists can see all of a client's information and notes if they are assigned as the Primary Therapist, Other Therapist, or a Supervisor"
		{held: roles("therapist"), perm: "clinical_notes.view:assigned", allowed: true},
		{held: roles("therapist"), perm: "records.view:assigned", allowed: true},
		// "Therapists only see their own clients" — "If you select “Yes,” a therapist will be unable to view any client information for any clients they are not assigned to"
		{held: roles("therapist"), toggles: map[string]bool{"therapists_own_clients_only": true}, perm: "clients.view:all", allowed: false},
		{held: roles("therapist"), toggles: map[string]bool{"therapists_own_clients_only": true}, perm: "clients.view:assigned", allowed: true},
		{held: roles("therapist"), toggles: map[string]bool{"therapists_own_clients_only": false}, perm: "clients.view:all", allowed: true},
		// "You decide if you want to lock therapists to only view their own clients." The toggle narrows therapists only, not the owner.
		{held: roles("owner"), toggles: map[string]bool{"therapists_own_clients_only": true}, perm: "clients.view:all", allowed: true},
		// "Show all therapist schedules — This setting allows therapists to share their schedules."
		{held: roles("therapist"), toggles: map[string]bool{"show_all_therapist_schedules": true}, perm: "schedule.view:all", allowed: true},
		{held: roles("therapist"), toggles: map[string]bool{"show_all_therapist_schedules": false}, perm: "schedule.view:all", allowed: false},
		// "Therapist may delete invoices and receipts — If therapists are to manage any aspect of client billing we recommend leaving this setting as “yes.”"
		{held: roles("therapist"), perm: "invoices.delete:assigned", allowed: true},
		{held: roles("therapist"), toggles: map[string]bool{"therapists_delete_invoices": false}, perm: "invoices.delete:assigned", allowed: false},
		// "Therapist may send forms to clients"
		{held: roles("therapist"), toggles: map[string]bool{"therapists_send_forms": true}, perm: "forms.send:assigned", allowed: true},
		{held: roles("therapist"), toggles: map[string]bool{"therapists_send_forms": false}, perm: "forms.send:assigned", allowed: false},

		// "Set up admins to help with scheduling, billing, and general practice administration."
		{held: roles("office_admin"), perm: "schedule.edit:all", allowed: true},
		{held: roles("office_admin"), perm: "billing.edit:all", allowed: true},
		// "Office Administrators can see and edit notes" / "If you would prefer to hide notes from admins this setting hides all session notes, non-session notes, and notes export tools."
		{held: roles("office_admin"), toggles: map[string]bool{"office_admins_notes": true}, perm: "clinical_notes.edit:all", allowed: true},
		{held: roles("office_admin"), toggles: map[string]bool{"office_admins_notes": true}, perm: "admin_notes.create:all", allowed: true},
		{held: roles("office_admin"), toggles: map[string]bool{"office_admins_notes": false}, perm: "clinical_notes.view:own", allowed: false},
		{held: roles("office_admin"), toggles: map[string]bool{"office_admins_notes": false}, perm: "admin_notes.view:own", allowed: false},
		{held: roles("office_admin"), toggles: map[string]bool{"office_admins_notes": false}, perm: "clinical_notes.export:own", allowed: false},
		// "Office Administrators can see and access the Dashboard" / "If yes, admin users will only be able to access the Data Export area in the Dashboard."
		{held: roles("office_admin"), toggles: map[string]bool{"office_admins_dashboard": true}, perm: "dashboard.view", allowed: true},
		{held: roles("office_admin"), toggles: map[string]bool{"office_admins_dashboard": true}, perm: "data.export", allowed: true},
		{held: roles("office_admin"), toggles: map[string]bool{"office_admins_dashboard": false}, perm: "dashboard.view", allowed: false},
		// "You decide if you want to lock office admins from seeing any client notes, or from seeing the practice's financial information."
		{held: roles("office_admin"), toggles: map[string]bool{"office_admins_financials": false}, perm: "financials.view", allowed: false},
		{held: roles("office_admin"), toggles: map[string]bool{"office_admins_financials": true}, perm: "financials.view", allowed: true},
	})
	p, _ := PresetByKey("zencare")
	// "Select Owner from the Type dropdown": one user type per person.
	if err := CheckHeld(p.Roles, roles("therapist", "office_admin")); !errors.Is(err, ErrConstraint) {
		t.Errorf("two user types: %v, want ErrConstraint", err)
	}
	// "There can be multiple Practice Owners." — nothing limits how many members hold owner; see the service tests.
}

// TestPresetSessions encodes seed 003 (Sessions Health, "Managing Users and Roles").
func TestPresetSessions(t *testing.T) {
	runPreset(t, "sessions", []presetCase{
		// "Basic members are able to view, manage, schedule, and bill their clients."
		{held: roles("practitioner"), perm: "clinical_notes.edit:assigned", allowed: true},
		{held: roles("practitioner"), perm: "schedule.edit:own", allowed: true},
		{held: roles("practitioner"), perm: "billing.edit:assigned", allowed: true},
		// "By default, only the assigned practitioner and administrators can access a client's record."
		{held: roles("practitioner"), perm: "records.view:assigned", allowed: true},
		{held: roles("practitioner"), perm: "records.view:all", allowed: false},
		// "the assigned practitioner can manage access for only the clients they're assigned to."
		{held: roles("practitioner"), perm: "records.share:assigned", allowed: true},
		{held: roles("practitioner"), perm: "records.share:all", allowed: false},
		// "An administrator can manage access for all clients"
		{held: roles("administrator"), perm: "records.share:all", allowed: true},
		// "To disable a practitioner's billing functions ... toggle off the "View/Manage clients' billing information, documents, and insights" setting."
		{held: roles("practitioner"), options: roles("no_billing"), perm: "billing.view:own", allowed: false},
		{held: roles("practitioner"), options: roles("no_billing"), perm: "invoices.view:own", allowed: false},
		{held: roles("practitioner"), options: roles("no_billing"), perm: "clinical_notes.view:assigned", allowed: true},
		// "By enabling the “Grant full clinical access to all clients within the account” feature, the practitioner gains permission to view and manage all clients' clinical documentation"
		{held: roles("practitioner"), options: roles("full_clinical_access"), perm: "clinical_notes.edit:all", allowed: true},
		// "When this permission is turned off, the practitioner will only have access to clients for whom they are the assigned practitioner."
		{held: roles("practitioner"), perm: "clinical_notes.view:all", allowed: false},

		// "this person can manage scheduling for ALL clients and practitioners."
		{held: roles("scheduler"), perm: "schedule.edit:all", allowed: true},
		// "Unless the Practitioner role is explicitly granted in addition, this role does not allow access to client notes, diagnoses, or treatment plans."
		{held: roles("scheduler"), perm: "clinical_notes.view:own", allowed: false},
		{held: roles("scheduler"), perm: "diagnoses.view:own", allowed: false},
		{held: roles("scheduler"), perm: "treatment_plans.view:own", allowed: false},
		{held: roles("scheduler", "practitioner"), perm: "clinical_notes.view:assigned", allowed: true},

		// "this person can manage bills, billing settings, and view diagnoses for ALL clients."
		{held: roles("biller"), perm: "billing.edit:all", allowed: true},
		{held: roles("biller"), perm: "billing_settings.edit", allowed: true},
		{held: roles("biller"), perm: "diagnoses.view:all", allowed: true},
		// "they will not be able to view client clinical details such as notes or treatment plans."
		{held: roles("biller"), perm: "clinical_notes.view:own", allowed: false},
		{held: roles("biller"), perm: "treatment_plans.view:own", allowed: false},

		// "this member will be able to manage and customize all forms on the account."
		{held: roles("forms_admin"), perm: "forms.manage", allowed: true},
		{held: roles("practitioner"), perm: "forms.manage", allowed: false},

		// "Administrators ... can additionally manage all other members of the organization"
		{held: roles("administrator"), perm: "members.manage", allowed: true},
		{held: roles("practitioner"), perm: "members.manage", allowed: false},
		// "view and set all organization billing settings"
		{held: roles("administrator"), perm: "billing_settings.edit", allowed: true},
		// "view limited client information for every practitioner within the account"
		{held: roles("administrator"), perm: "clients.view:all", allowed: true},
		{held: roles("administrator"), perm: "clinical_notes.view:all", allowed: false},
		// "and view all historical invoices for the organization."
		{held: roles("administrator"), perm: "invoices.view:all", allowed: true},
		// "By default, account administrators are automatically assigned the Forms Administrator access."
		{held: roles("administrator"), perm: "forms.manage", allowed: true},
		// "Administrators can do everything a Basic Member can do"
		{held: roles("administrator"), perm: "clinical_notes.create:assigned", allowed: true},

		// "This role allows supervisors to access, review, and co-sign their supervisees' clients' progress notes and treatment plans."
		{held: roles("supervisor"), perm: "clinical_notes.cosign:supervisees", allowed: true},
		{held: roles("supervisor"), perm: "treatment_plans.cosign:supervisees", allowed: true},
		{held: roles("supervisor"), perm: "clinical_notes.view:supervisees", allowed: true},
		{held: roles("supervisor"), perm: "clinical_notes.view:all", allowed: false},
		{held: roles("practitioner"), perm: "clinical_notes.cosign:supervisees", allowed: false},
	})
}

// TestPresetManagerModule encodes seed 004 (an EHR "Manager Module").
func TestPresetManagerModule(t *testing.T) {
	runPreset(t, "manager-module", []presetCase{
		// "A. My Schedule Access Only"
		{held: roles("provider_schedule_own"), perm: "schedule.view:own", allowed: true},
		{held: roles("provider_schedule_own"), perm: "schedule.edit:own", allowed: false},
		{held: roles("provider_schedule_own"), perm: "schedule.view:all", allowed: false},
		// "B. My Schedule + Edit Own Schedule- ... add billable/non billable links to only schedule their own sessions"
		{held: roles("provider_edit_own"), perm: "schedule.edit:own", allowed: true},
		{held: roles("provider_edit_own"), perm: "schedule.view:all", allowed: false},
		// "C. My Schedule + Edit Own Schedule + View all- ... to only schedule their own sessions + be able to view all other schedules"
		{held: roles("provider_view_all"), perm: "schedule.view:all", allowed: true},
		{held: roles("provider_view_all"), perm: "schedule.edit:own", allowed: true},
		{held: roles("provider_view_all"), perm: "schedule.edit:all", allowed: false},
		// "D. My Schedule + View/Edit all- ... be able to schedule sessions for all other providers under the Scheduler tab."
		{held: roles("provider_edit_all"), perm: "schedule.edit:all", allowed: true},
		// "by default, the Office Staff user type will have access to the Dashboard and Reports section"
		{held: roles("office_staff"), perm: "dashboard.view", allowed: true},
		{held: roles("office_staff"), perm: "reports.view", allowed: true},
		{held: roles("office_staff"), perm: "schedule.view:all", allowed: false},
		// "Select the checkboxes based on which tabs you want your Office Staff user to have access to."
		{held: roles("office_staff"), options: roles("tab_scheduler"), perm: "schedule.edit:all", allowed: true},
		{held: roles("office_staff"), options: roles("tab_billing"), perm: "claims.submit", allowed: true},
		{held: roles("office_staff"), options: roles("tab_billing"), perm: "schedule.edit:all", allowed: false},
		// "Create user permissions, edit user permissions and reset passwords for existing users within this section."
		{held: roles("owner"), perm: "roles.assign", allowed: true},
		{held: roles("owner"), perm: "passwords.reset", allowed: true},
		{held: roles("office_staff"), options: roles("tab_manager"), perm: "passwords.reset", allowed: true},
		{held: roles("provider_edit_all"), perm: "passwords.reset", allowed: false},
	})
	p, _ := PresetByKey("manager-module")
	// "Select User Type at the bottom of the screen (Provider/Therapist or Office Staff)." — one type, one level.
	for _, pair := range [][]string{{"provider_edit_own", "office_staff"}, {"provider_schedule_own", "provider_edit_all"}} {
		if err := CheckHeld(p.Roles, pair); !errors.Is(err, ErrConstraint) {
			t.Errorf("%v: %v, want ErrConstraint", pair, err)
		}
	}
}

func TestComputeOrder(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	defs := []Role{
		{Key: "a", Name: "A", Permissions: []string{"billing.view:all", "clients.view:all"}},
		{Key: "b", Name: "B", Permissions: []string{"clients.view:assigned", "schedule.view:own"}},
	}
	toggles := []Toggle{{Key: "narrow", Roles: []string{"a"}, On: Effect{Revoke: []string{"clients.view:all"}, Grant: []string{"clients.view:own"}}}}
	cases := []struct {
		name string
		in   Input
		want []string
		elev bool
	}{
		{"union", Input{Defs: defs, Held: roles("a", "b")},
			[]string{"billing.view:all", "clients.view:all", "schedule.view:own"}, false},
		{"unknown role contributes nothing", Input{Defs: defs, Held: roles("zzz")}, []string{}, false},
		{"toggle narrows only the role it names", Input{Defs: defs, Held: roles("a", "b"), Toggles: toggles, ToggleOn: map[string]bool{"narrow": true}},
			[]string{"billing.view:all", "clients.view:assigned", "schedule.view:own"}, false},
		{"deny removes every broader scope", Input{Defs: defs, Held: roles("a"), Overrides: []Override{{"billing.view:assigned", false}}},
			[]string{"clients.view:all"}, false},
		{"deny beats the role, grant adds", Input{Defs: defs, Held: roles("b"), Overrides: []Override{{"clients.view:own", false}, {"audit.view", true}}},
			[]string{"audit.view", "schedule.view:own"}, false},
		{"active elevation adds", Input{Defs: defs, Held: roles("b"), Now: now, Elevations: []Elevation{
			{Permissions: []string{"clinical_notes.view:all"}, CreatedAt: now.Add(-time.Hour), ExpiresAt: now.Add(time.Hour)}}},
			[]string{"clients.view:assigned", "clinical_notes.view:all", "schedule.view:own"}, true},
		{"expired or ended elevation does not", Input{Defs: defs, Held: roles("b"), Now: now, Elevations: []Elevation{
			{Permissions: []string{"clinical_notes.view:all"}, CreatedAt: now.Add(-2 * time.Hour), ExpiresAt: now},
			{Permissions: []string{"audit.view"}, CreatedAt: now.Add(-time.Hour), ExpiresAt: now.Add(time.Hour), EndedAt: now.Add(-time.Minute)}}},
			[]string{"clients.view:assigned", "schedule.view:own"}, false},
	}
	for _, c := range cases {
		got := Compute(c.in)
		if !slices.Equal(got.Permissions, c.want) || got.Elevated != c.elev {
			t.Errorf("%s: got %v elevated=%v, want %v elevated=%v", c.name, got.Permissions, got.Elevated, c.want, c.elev)
		}
	}
}

func BenchmarkCompute(b *testing.B) {
	p, _ := PresetByKey("zencare")
	in := Input{Defs: p.Roles, Held: []string{"therapist", "office_admin"}, Toggles: p.Toggles,
		Overrides: []Override{{"billing.view:own", false}, {"audit.view", true}}}
	for b.Loop() {
		Compute(in)
	}
}
