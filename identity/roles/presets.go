package roles

import "slices"

// Preset is a ready-made role model reproducing the access model one
// practice-management product documents (the seeds in ../shared/seeds), so a
// practice migrating from it finds its familiar roles.
type Preset struct {
	Key         string `json:"key"`
	Name        string `json:"name"`
	Description string `json:"description"`
	// Roles are the role definitions installed when a practice is created
	// with the preset. Every preset has a role with key "owner".
	Roles []Role `json:"roles"`
	// OwnerRoles are the roles given to the member who creates the practice.
	OwnerRoles []string `json:"owner_roles"`
	// Toggles are the practice-wide switches the product offers.
	Toggles []Toggle `json:"toggles,omitempty"`
	// MemberOptions are the per-member switches the product offers.
	MemberOptions []MemberOption `json:"member_options,omitempty"`
}

// DefaultPreset is the preset a practice created without one gets: Sessions
// Health's model. Its roles combine freely (Practitioner, Supervisor,
// Scheduler, Biller, Forms Administrator, Administrator), it has supervision
// with co-signature requirements, and its invitations choose roles up front —
// the same shape as frontdesk's own invitation flow.
const DefaultPreset = "sessions"

// The app client IDs the presets name in app.<client>.login. Register the
// practice's apps under these IDs, or edit the roles.
const (
	// AppPortal is the practice-management web app of the ABA preset.
	AppPortal = "portal"
	// AppDataCollection is the ABA preset's clinical data-collection app.
	AppDataCollection = "datacollection"
)

// Presets returns every preset, in a stable order. Each call returns fresh
// values the caller may change.
func Presets() []Preset {
	var out []Preset
	for _, b := range presetBuilders() {
		out = append(out, normalized(b.build()))
	}
	return out
}

type presetBuilder struct {
	key   string
	build func() Preset
}

// presetBuilders lists the presets by key, so one can be built alone.
func presetBuilders() []presetBuilder {
	return []presetBuilder{{"therapynotes", therapyNotes}, {"aba", abaPortal}, {"zencare", zencare},
		{"sessions", sessionsHealth}, {"manager-module", managerModule}}
}

// normalized sorts each role's permissions and drops implied ones. A
// definition that fails the check is kept as written;
// TestPresetsAreConsistent reports it.
func normalized(p Preset) Preset {
	for i, r := range p.Roles {
		if c, err := r.Check(); err == nil {
			p.Roles[i] = c
		}
	}
	ownerGivesAll(p.Roles)
	return p
}

// PresetByKey returns the preset with key k.
func PresetByKey(k string) (Preset, bool) {
	for _, b := range presetBuilders() {
		if b.key == k {
			return normalized(b.build()), true
		}
	}
	return Preset{}, false
}

// presetRaw builds the preset with key k without normalizing its roles; the
// effective-permission path needs only its toggles and member options.
func presetRaw(k string) (Preset, bool) {
	for _, b := range presetBuilders() {
		if b.key == k {
			return b.build(), true
		}
	}
	return Preset{}, false
}

// PresetKeys lists the preset keys.
func PresetKeys() []string {
	var out []string
	for _, b := range presetBuilders() {
		out = append(out, b.key)
	}
	return out
}

// Role returns the preset's role with key k.
func (p Preset) Role(k string) (Role, bool) {
	i := slices.IndexFunc(p.Roles, func(r Role) bool { return r.Key == k })
	if i < 0 {
		return Role{}, false
	}
	return p.Roles[i], true
}

// everything is every catalogue permission at its broadest, with app.*.login.
func everything() []string {
	var out []string
	for _, e := range Catalogue() {
		switch {
		case e.Name == AppLogin:
			out = append(out, PermLoginAnyApp)
		case e.Scoped():
			out = append(out, e.Name+":all")
		default:
			out = append(out, e.Name)
		}
	}
	return out
}

// except returns perms without the listed ones (exact strings).
func except(perms []string, drop ...string) []string {
	return slices.DeleteFunc(slices.Clone(perms), func(p string) bool { return slices.Contains(drop, p) })
}

// scoped returns name:scope for every name.
func scoped(scope Scope, names ...string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = n + ":" + string(scope)
	}
	return out
}

func join(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func app(client string) string { return "app." + client + ".login" }

const allApps = PermLoginAnyApp

// clinicalWork is what a clinician does for the clients in scope.
func clinicalWork(sc Scope) []string {
	return scoped(sc, "records.view", "records.edit", "clinical_notes.view", "clinical_notes.create",
		"clinical_notes.edit", "diagnoses.view", "diagnoses.edit", "treatment_plans.view", "treatment_plans.edit")
}

// therapyNotes reproduces seed 000 (TherapyNotes): combinable roles.
func therapyNotes() Preset {
	// "Like all users in the system, Clinicians will be able to see contact
	// information for all clients regardless of whom the client is assigned to."
	everyone := []string{"clients.view:all", "members.view:own", allApps}
	return Preset{
		Key:  "therapynotes",
		Name: "TherapyNotes",
		Description: "Combinable roles: Clinician, Practice Scheduler, Practice Biller, Biller for Assigned Patients Only, " +
			"Practice Administrator, Clinical Administrator, Supervisor. Everyone sees every client's contact details; " +
			"clinical documentation is limited to assigned clients.",
		OwnerRoles: []string{OwnerRole},
		Roles: []Role{
			{Key: OwnerRole, Name: "Account Owner",
				Description: "The account's owner: gives every role, including Account Owner, and holds every permission except " +
					"deleting signed notes, which is the Clinical Administrator's alone. There may be several.",
				Permissions: except(everything(), "clinical_notes.delete_signed:all")},
			{Key: "clinician", Name: "Clinician",
				Description: "Provides services to clients; documents their work with notes, only for clients assigned to them; has their own schedule.",
				Permissions: join(everyone, clinicalWork(ScopeAssigned),
					scoped(ScopeAssigned, "admin_notes.view", "admin_notes.create", "admin_notes.edit"),
					scoped(ScopeOwn, "schedule.view", "schedule.edit"))},
			{Key: "scheduler", Name: "Practice Scheduler",
				Description: "Schedules and cancels appointments on every clinician's schedule; adds, edits and removes clients; " +
					"writes missed appointment, contact and miscellaneous notes, never clinical notes.",
				Permissions: join(everyone, []string{"clients.create", "clients.edit:all", "clients.delete",
					"schedule.view:all", "schedule.edit:all", "admin_notes.view:all", "admin_notes.create:all", "admin_notes.edit:own"})},
			{Key: "biller", Name: "Practice Biller",
				Description: "Full access to billing: claims, payments, billing reports; sees all clients but no clinical notes.",
				Permissions: join(everyone, []string{"billing.view:all", "billing.edit:all", "invoices.view:all", "claims.submit",
					"billing_reports.view", "billing_settings.view", "billing_settings.edit"})},
			{Key: "biller_assigned", Name: "Biller for Assigned Patients Only",
				Description: "For a Clinician: enters and views billing information and payments for their own clients only; " +
					"cannot submit claims or run practice-wide billing reports.",
				Requires:    []string{"clinician"},
				Permissions: join(everyone, []string{"billing.view:assigned", "billing.edit:assigned", "invoices.view:assigned"})},
			{Key: "practice_admin", Name: "Practice Administrator",
				Description: "Creates and edits user accounts, assigns their roles (every role but Account Owner), resets passwords, " +
					"configures global settings. No clinical access of its own.",
				Gives: []string{"clinician", "scheduler", "biller", "biller_assigned", "practice_admin", "clinical_admin", "supervisor"},
				Permissions: join(everyone, []string{"members.view:all", "members.manage", "roles.assign", "passwords.reset",
					"accounts.unlock", "settings.view", "settings.edit"})},
			{Key: "clinical_admin", Name: "Clinical Administrator",
				Description: "Full access to all clients and notes; assigns any client to any clinician; the only role that deletes signed notes. " +
					"Must also be a Clinician.",
				Requires: []string{"clinician"},
				Permissions: join(everyone, clinicalWork(ScopeAll), []string{"clients.assign", "clinical_notes.delete_signed:all",
					"admin_notes.view:all"})},
			{Key: "supervisor", Name: "Supervisor",
				Description: "Accesses, reviews, approves and co-signs the notes of supervised clinicians and interns.",
				Permissions: join(everyone, scoped(ScopeSupervisees, "clinical_notes.view", "clinical_notes.approve", "clinical_notes.cosign"))},
		},
	}
}

// abaPortal reproduces seed 001 (an ABA practice portal): a role ladder with
// hard-coded special permissions.
func abaPortal() Preset {
	portal, collect := app(AppPortal), app(AppDataCollection)
	clinical := []string{"cd", "acd", "l1", "l2", "l2_5", "bt"}
	office := []string{"os", "osa"}
	analyst := func(key, name, desc string) Role {
		return Role{Key: key, Name: name, Description: desc, Exclusive: office,
			Permissions: join([]string{portal, collect, "members.view:own", "clients.view:assigned", "clinical_notes.approve:assigned"},
				clinicalWork(ScopeAssigned), scoped(ScopeOwn, "schedule.view", "schedule.edit"))}
	}
	directorClinical := join([]string{portal, collect, "clients.view:all", "clinical_notes.approve:all", "clients.assign"},
		clinicalWork(ScopeAll), []string{"admin_notes.view:all", "admin_notes.create:all", "admin_notes.edit:all",
			"schedule.view:all", "schedule.edit:all", "members.view:all"})
	// Everything except the data-collection app, the audit trail, user
	// permission settings (roles.assign, roles.define, emergency access) and
	// unlocking; inviting staff and resetting passwords are not excluded.
	officeStaffAdmin := except(everything(), allApps, "audit.view", "roles.assign", "roles.define", "accounts.unlock",
		"elevation.grant")
	return Preset{
		Key:  "aba",
		Name: "ABA practice portal",
		Description: "A role ladder — Clinical Director, Assistant Clinical Director, Level 1, 2 and 2.5 Analysts, Behavior Therapist, " +
			"Office Staff, Office Staff Admin, Main Admin — with hard-coded special permissions. Apps: " + AppPortal +
			" (the portal) and " + AppDataCollection + " (the clinical data-collection app).",
		// The Main Admin cannot use the data-collection app: the practice's
		// creator is Main Admin only, and gives the clinical roles without
		// holding them.
		OwnerRoles: []string{OwnerRole},
		Roles: []Role{
			{Key: OwnerRole, Name: "Main Admin",
				Description: "Full access to every part of the system except the data-collection app; the only role with the audit trail, " +
					"user permission settings and unlocking users.",
				Permissions: join(except(everything(), allApps), []string{portal})},
			{Key: "cd", Name: "Clinical Director (CD)",
				Description: "Sees all clients and all progress notes and reports without an authorization; approves progress notes; " +
					"logs in to the app; usually also has administrative permissions.",
				Exclusive:   office,
				Gives:       []string{"acd", "l1", "l2", "l2_5", "bt"},
				Permissions: join(directorClinical, []string{"members.manage", "clients.create", "clients.edit:all", "settings.view"})},
			{Key: "acd", Name: "Assistant Clinical Director (ACD)",
				Description: "Like the Clinical Director for clinical data (all clients, all notes, approving notes, the app), " +
					"with fewer administrative abilities.",
				Exclusive:   office,
				Permissions: directorClinical},
			analyst("l1", "Level 1 Analyst (L1)", "Senior analyst: approves progress notes, logs in to the app; clients need an authorization."),
			analyst("l2", "Level 2 Analyst (L2)", "New or recently certified analyst, permissions at most those of L1."),
			analyst("l2_5", "Level 2.5 Analyst (L2.5)", "An optional third analyst level for larger organizations."),
			{Key: "bt", Name: "Behavior Therapist (BT)",
				Description: "Front-line staff with very limited access: logs in to the app to collect data for their clients.",
				Exclusive:   office,
				Permissions: []string{portal, collect, "members.view:own", "clients.view:assigned", "clinical_notes.create:assigned",
					"clinical_notes.view:own", "schedule.view:own"}},
			{Key: "os", Name: "Office Staff (OS)",
				Description: "Purely administrative support (case management, scheduling, intake): all clients, staff information and the " +
					"scheduler; cannot use the data-collection app or function as a clinician.",
				Exclusive: append(slices.Clone(clinical), "osa"),
				Permissions: []string{portal, "clients.view:all", "clients.create", "clients.edit:all", "members.view:all",
					"schedule.view:all", "schedule.edit:all", "admin_notes.view:all", "admin_notes.create:all", "admin_notes.edit:own"}},
			{Key: "osa", Name: "Office Staff Admin (OSA)",
				Description: "Every part of the system except the data-collection app, the audit trail, user permissions (security) and locked users.",
				Exclusive:   append(slices.Clone(clinical), "os"),
				Gives:       []string{"cd", "acd", "l1", "l2", "l2_5", "bt", "os"},
				Permissions: join(officeStaffAdmin, []string{portal})},
		},
	}
}

// zencare reproduces seed 002 (Zencare Practice Management): three user types
// and practice-wide toggles.
func zencare() Preset {
	types := []string{OwnerRole, "therapist", "office_admin"}
	others := func(k string) []string { return except(types, k) }
	return Preset{
		Key:  "zencare",
		Name: "Zencare Practice Management",
		Description: "Three user types — Practice Owner, Therapist, Office Admin — and practice-wide settings that narrow what " +
			"therapists and office admins see.",
		OwnerRoles: []string{OwnerRole},
		Roles: []Role{
			{Key: OwnerRole, Name: "Practice Owner",
				Description: "Full access to all client records and to financial and clinical information; the only type that adds and " +
					"edits user access. There can be several.",
				Exclusive: others(OwnerRole), Permissions: everything()},
			{Key: "therapist", Name: "Therapist",
				Description: "Books sessions with clients; sees a client's information and notes when assigned as primary or other " +
					"therapist or supervisor; cannot see the practice's financial information.",
				Exclusive: others("therapist"),
				Permissions: join([]string{allApps, "members.view:own", "clients.view:all", "records.view:all"},
					except(clinicalWork(ScopeAssigned), "records.view:assigned"),
					scoped(ScopeAssigned, "admin_notes.view", "admin_notes.create", "admin_notes.edit", "billing.view", "billing.edit", "invoices.view"),
					scoped(ScopeOwn, "schedule.view", "schedule.edit"))},
			{Key: "office_admin", Name: "Office Admin",
				Description: "Support staff for scheduling, billing and general practice administration; no notes, dashboard or " +
					"financials unless the practice's settings allow them.",
				Exclusive: others("office_admin"),
				Permissions: []string{allApps, "members.view:all", "clients.view:all", "clients.create", "clients.edit:all",
					"schedule.view:all", "schedule.edit:all", "billing.view:all", "billing.edit:all", "invoices.view:all",
					"claims.submit", "forms.send:all"}},
		},
		Toggles: []Toggle{
			{Key: "therapists_own_clients_only", Name: "Therapists only see their own clients",
				Description: "Therapists cannot view any information of clients they are not assigned to (as primary or other therapist, or supervisor).",
				Default:     true, Roles: []string{"therapist"},
				On: Effect{Revoke: []string{"clients.view:all", "records.view:all"}, Grant: []string{"clients.view:assigned", "records.view:assigned"}}},
			{Key: "show_all_therapist_schedules", Name: "Show all therapist schedules",
				Description: "Therapists see the other therapists' schedules (room booking). Apps hide client identities from therapists " +
					"who only see their own clients.",
				Roles: []string{"therapist"}, On: Effect{Grant: []string{"schedule.view:all"}}},
			{Key: "therapists_delete_invoices", Name: "Therapists may delete invoices and receipts",
				Default: true, Roles: []string{"therapist"}, On: Effect{Grant: []string{"invoices.delete:assigned"}}},
			{Key: "therapists_send_forms", Name: "Therapists may send forms to clients",
				Default: true, Roles: []string{"therapist"}, On: Effect{Grant: []string{"forms.send:assigned"}}},
			{Key: "office_admins_notes", Name: "Office administrators can see and edit notes",
				Description: "Off hides all session notes, non-session notes and notes export tools from office admins.",
				Roles:       []string{"office_admin"},
				On: Effect{Grant: []string{"clinical_notes.view:all", "clinical_notes.edit:all", "clinical_notes.export:all",
					"admin_notes.view:all", "admin_notes.create:all", "admin_notes.edit:all"}}},
			{Key: "office_admins_dashboard", Name: "Office administrators can see and access the Dashboard",
				Description: "Only its Data Export area: year-over-year and stats stay with owners.",
				Roles:       []string{"office_admin"}, On: Effect{Grant: []string{"dashboard.view", "data.export"}}},
			{Key: "office_admins_financials", Name: "Office administrators can see the practice's financial information",
				Default: true, Roles: []string{"office_admin"}, On: Effect{Grant: []string{"financials.view", "billing_reports.view"}}},
		},
	}
}

// sessionsHealth reproduces seed 003 (Sessions Health): combinable roles,
// per-practitioner switches and supervision.
func sessionsHealth() Preset {
	practitioner := join([]string{allApps, "members.view:own", "clients.view:assigned", "clients.edit:assigned",
		"records.share:assigned", "forms.send:assigned"},
		clinicalWork(ScopeAssigned), scoped(ScopeOwn, "schedule.view", "schedule.edit"),
		scoped(ScopeAssigned, "billing.view", "billing.edit", "invoices.view"))
	return Preset{
		Key:  "sessions",
		Name: "Sessions Health",
		Description: "Combinable roles — Practitioner, Supervisor, Scheduler, Biller, Forms Administrator, Administrator — " +
			"with per-practitioner switches and supervision with co-signature requirements.",
		OwnerRoles: []string{OwnerRole},
		Roles: []Role{
			{Key: OwnerRole, Name: "Account Owner",
				Description: "The account's owner: every permission; gives every role, including Account Owner. There may be several.",
				Permissions: everything()},
			{Key: "practitioner", Name: "Practitioner",
				Description: "A basic member: views, manages, schedules and bills their own clients, and may let other practitioners " +
					"access the records of clients assigned to them.",
				Permissions: practitioner},
			{Key: "supervisor", Name: "Supervisor",
				Description: "Accesses, reviews and co-signs their supervisees' clients' progress notes and treatment plans.",
				Permissions: join([]string{allApps, "members.view:own"}, scoped(ScopeSupervisees, "records.view", "clinical_notes.view",
					"clinical_notes.approve", "clinical_notes.cosign", "treatment_plans.view", "treatment_plans.cosign"))},
			{Key: "scheduler", Name: "Scheduler",
				Description: "Manages scheduling for all clients and practitioners; no access to notes, diagnoses or treatment plans.",
				Permissions: []string{allApps, "members.view:own", "clients.view:all", "schedule.view:all", "schedule.edit:all"}},
			{Key: "biller", Name: "Biller",
				Description: "Manages bills and billing settings and views diagnoses for all clients; no notes or treatment plans.",
				Permissions: []string{allApps, "members.view:own", "clients.view:all", "diagnoses.view:all", "billing.view:all", "billing.edit:all",
					"invoices.view:all", "claims.submit", "billing_reports.view", "billing_settings.view", "billing_settings.edit"}},
			{Key: "forms_admin", Name: "Forms Administrator",
				Description: "Manages and customizes all forms on the account.",
				Permissions: []string{allApps, "members.view:own", "forms.manage", "forms.send:all"}},
			{Key: "administrator", Name: "Administrator",
				Description: "Everything a basic member can do, plus managing all other members, all billing settings, limited client " +
					"information for every practitioner, all historical invoices; Forms Administrator access by default. Gives every " +
					"role but Account Owner.",
				Gives: []string{"practitioner", "supervisor", "scheduler", "biller", "forms_admin", "administrator"},
				Permissions: join(except(practitioner, "members.view:own", "clients.view:assigned", "records.share:assigned", "invoices.view:assigned", "forms.send:assigned"),
					[]string{"members.view:all", "members.manage", "roles.assign", "passwords.reset", "accounts.unlock",
						"clients.view:all", "records.share:all", "invoices.view:all", "billing_settings.view", "billing_settings.edit",
						"forms.manage", "forms.send:all", "settings.view", "settings.edit"})},
		},
		MemberOptions: []MemberOption{
			{Key: "no_billing", Name: "Billing off for this practitioner",
				Description: "Hides every billing feature for their assigned clients: client billing, billing insights, invoices.",
				Overrides: []Override{{"billing.view:own", false}, {"billing.edit:own", false}, {"invoices.view:own", false},
					{"invoices.delete:own", false}}},
			{Key: "full_clinical_access", Name: "Full clinical access to all clients",
				Description: "Views and manages every client's clinical documentation, not only their assigned clients'.",
				Overrides: func() []Override {
					var out []Override
					for _, p := range append(clinicalWork(ScopeAll), "clients.view:all") {
						out = append(out, Override{p, true})
					}
					return out
				}()},
		},
	}
}

// managerModule reproduces seed 004 (an EHR "Manager Module"): Provider and
// Office Staff user types, four schedule access levels, and per-tab access
// for office staff.
func managerModule() Preset {
	levels := []string{"provider_schedule_own", "provider_edit_own", "provider_view_all", "provider_edit_all", "office_staff"}
	provider := func(key, name, desc string, sched ...string) Role {
		return Role{Key: key, Name: name, Description: desc, Exclusive: except(levels, key),
			Permissions: join([]string{allApps, "members.view:own", "clients.view:assigned"}, clinicalWork(ScopeAssigned), sched)}
	}
	tab := func(key, name string, perms ...string) MemberOption {
		var o []Override
		for _, p := range perms {
			o = append(o, Override{p, true})
		}
		return MemberOption{Key: key, Name: name, Description: "Office Staff tab checkbox.", Overrides: o}
	}
	return Preset{
		Key:  "manager-module",
		Name: "EHR Manager Module",
		Description: "Two user types: Provider/Therapist with one of four schedule access levels, and Office Staff with per-tab " +
			"access (Dashboard and Reports by default; other tabs are member options).",
		OwnerRoles: []string{OwnerRole},
		Roles: []Role{
			{Key: OwnerRole, Name: "Practice Owner",
				Description: "Runs the Manager Module: creates user access and permissions, resets passwords; gives every user type " +
					"and tab.",
				Permissions: everything()},
			provider("provider_schedule_own", "Provider: My Schedule Access Only", "Sees their own schedule only.",
				"schedule.view:own"),
			provider("provider_edit_own", "Provider: My Schedule + Edit Own Schedule", "Sees and schedules their own sessions only.",
				"schedule.view:own", "schedule.edit:own"),
			provider("provider_view_all", "Provider: My Schedule + Edit Own Schedule + View All",
				"Schedules their own sessions and views every other schedule.", "schedule.view:all", "schedule.edit:own"),
			provider("provider_edit_all", "Provider: My Schedule + View/Edit All",
				"Schedules their own sessions and sessions for every other provider.", "schedule.view:all", "schedule.edit:all"),
			{Key: "office_staff", Name: "Office Staff",
				Description: "Dashboard and Reports by default; every other tab is a checkbox (member option). With the Manager Module " +
					"tab, creates user access for providers and office staff.",
				Exclusive:   except(levels, "office_staff"),
				Gives:       levels,
				Permissions: []string{allApps, "members.view:own", "dashboard.view", "reports.view"}},
		},
		MemberOptions: []MemberOption{
			tab("tab_scheduler", "Scheduler tab", "schedule.view:all", "schedule.edit:all"),
			tab("tab_clients", "Clients tab", "clients.view:all", "clients.create", "clients.edit:all"),
			tab("tab_billing", "Billing tab", "billing.view:all", "billing.edit:all", "invoices.view:all", "claims.submit", "billing_reports.view"),
			tab("tab_employees", "Employees tab", "members.view:all"),
			tab("tab_manager", "Manager Module tab", "members.view:all", "members.manage", "roles.assign", "passwords.reset"),
		},
	}
}
