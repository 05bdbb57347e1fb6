package roles

// Every permission is defined in this file. The permissions frontdesk's own
// code checks are the constants below, each spelled once; every other
// package (account, adminapi, httpserver, passkeys, sso) names them as
// roles.PermX. TestPermConstantsAreInTheCatalogue holds each to the
// catalogue, and TestNoPermissionLiteralsOutsideRoles keeps the spellings
// from spreading again. The catalogue (Catalogue, after them) lists every
// permission with its scopes, group and description; permissions the
// practice apps check (clients.view, clinical_notes.edit, …) are only there:
// frontdesk itself never checks them.
const (
	// PermViewMembers lets a member see every member's staff information:
	// the member list, anyone's profile and overrides.
	PermViewMembers = "members.view:all"
	// PermViewOwnProfile lets a member see their own staff profile.
	PermViewOwnProfile = "members.view:own"
	// PermManageMembers lets a member invite members and manage invitations,
	// edit profiles, deactivate and reactivate members, revoke another
	// member's passkeys and decide SSO join requests.
	PermManageMembers = "members.manage"
	// PermLoginAnyApp lets a member log in to every app of the practice
	// (AppLogin with the client *); AppLoginPermission names one app's.
	PermLoginAnyApp = "app.*.login"
	// PermAssign lets a member change members' roles, overrides, options and
	// supervisors (only with permissions the actor holds).
	PermAssign = "roles.assign"
	// PermDefine lets a member edit the practice's role definitions and
	// practice-wide toggles.
	PermDefine = "roles.define"
	// PermResetPasswords lets a member issue other members temporary
	// passwords.
	PermResetPasswords = "passwords.reset"
	// PermUnlock lets a member unlock accounts locked after failed password
	// attempts; its holders are told when an account locks.
	PermUnlock = "accounts.unlock"
	// PermAudit lets a member read and export the audit trail; its holders
	// are told of emergency elevations.
	PermAudit = "audit.view"
	// PermGrantElevation lets a member grant and end time-boxed emergency
	// (break-glass) access.
	PermGrantElevation = "elevation.grant"
	// PermViewSettings lets a member read the practice's settings: the login
	// policy, the SSO providers and the registered apps.
	PermViewSettings = "settings.view"
	// PermEditSettings lets a member change the practice's settings: the
	// login policy, the SSO providers and the registered apps.
	PermEditSettings = "settings.edit"
	// PermCosignNotesForSupervisees lets a supervisor co-sign the clinical
	// notes of the members they supervise; a supervision link that co-signs
	// notes needs it.
	PermCosignNotesForSupervisees = "clinical_notes.cosign:supervisees"
	// PermCosignPlansForSupervisees lets a supervisor co-sign the treatment
	// plans of the members they supervise; a supervision link that co-signs
	// plans needs it.
	PermCosignPlansForSupervisees = "treatment_plans.cosign:supervisees"
)

// AppLoginPermission is the permission to log in to the app registered as
// OpenID client clientID (AppLogin).
func AppLoginPermission(clientID string) string { return "app." + clientID + ".login" }

// CatalogueEntry documents one permission of the catalogue.
type CatalogueEntry struct {
	// Name is resource.action; app.<client>.login stands for one entry per
	// registered OpenID client.
	Name string
	// Scopes are the scopes the permission has, narrowest first: whose
	// things it can be limited to. None for a permission without a scope.
	// A scoped permission must be written with a scope; the roles editor
	// offers these (any scope parses, so a role saved with another keeps
	// it, shown beside these).
	Scopes []Scope
	// Group is the heading under which docs/roles.md lists it.
	Group string
	// Description says what it allows, in plain words (a clinic office
	// manager's, the seeds' where they have them); it is the label of the
	// roles editor.
	Description string
}

// Scoped reports whether the permission carries a scope.
func (e CatalogueEntry) Scoped() bool { return len(e.Scopes) > 0 }

// Catalogue returns the permission catalogue, grouped and in a stable order.
// It is the single source of docs/roles.md and of the roles editor.
//
// A permission has the scopes that name a distinct set of things for it:
// own (the member's own: their schedule, notes they wrote, their profile),
// assigned (clients assigned to them), supervisees (theirs and their
// supervisees' clients) and all. Schedules and staff profiles are one's own
// or everyone's; client information is assigned clients' or everyone's, and
// clinical reading reaches supervisees' clients too; co-signing is for
// supervisees (or everyone).
func Catalogue() []CatalogueEntry {
	var (
		none        []Scope
		ownAll      = []Scope{ScopeOwn, ScopeAll}
		assignedAll = []Scope{ScopeAssigned, ScopeAll}
		// clinical reading: assigned clients, supervisees' clients, or all
		reading = []Scope{ScopeAssigned, ScopeSupervisees, ScopeAll}
		// notes one wrote, assigned clients' notes, or all
		authored  = []Scope{ScopeOwn, ScopeAssigned, ScopeAll}
		cosigning = []Scope{ScopeSupervisees, ScopeAll}
	)
	return []CatalogueEntry{
		{"clients.view", reading, "Clients", "See clients' contact details (name, phone, email, address), not their clinical records."},
		{"clients.create", none, "Clients", "Add new clients."},
		{"clients.edit", assignedAll, "Clients", "Change clients' contact and demographic details."},
		{"clients.delete", none, "Clients", "Remove clients."},
		{"clients.assign", none, "Clients", "Assign any client to any clinician, which gives that clinician the client's record and notes."},
		{"records.view", reading, "Clients", "Open clients' records: documents, history and everything beyond contact details."},
		{"records.edit", assignedAll, "Clients", "Change clients' records."},
		{"records.share", assignedAll, "Clients", "Let other practitioners into a client's record, and take that access away again."},

		{"clinical_notes.view", []Scope{ScopeOwn, ScopeAssigned, ScopeSupervisees, ScopeAll}, "Notes", "Read clinical notes: progress and session notes."},
		{"clinical_notes.create", assignedAll, "Notes", "Write clinical notes."},
		{"clinical_notes.edit", authored, "Notes", "Change clinical notes that are not signed yet."},
		{"clinical_notes.approve", reading, "Notes", "Review and approve progress notes."},
		{"clinical_notes.cosign", cosigning, "Notes", "Co-sign clinical notes that need a supervisor's signature."},
		{"clinical_notes.delete_signed", assignedAll, "Notes", "Delete clinical notes that are already signed."},
		{"clinical_notes.export", assignedAll, "Notes", "Export clinical notes, for example to send them to a lawyer."},
		{"admin_notes.view", authored, "Notes", "Read administrative notes: missed appointment, contact and miscellaneous notes."},
		{"admin_notes.create", assignedAll, "Notes", "Write administrative notes."},
		{"admin_notes.edit", authored, "Notes", "Change administrative notes."},
		{"diagnoses.view", reading, "Notes", "See clients' diagnoses."},
		{"diagnoses.edit", assignedAll, "Notes", "Record and change clients' diagnoses."},
		{"treatment_plans.view", reading, "Notes", "Read treatment plans."},
		{"treatment_plans.edit", assignedAll, "Notes", "Write and change treatment plans."},
		{"treatment_plans.cosign", cosigning, "Notes", "Co-sign treatment plans that need a supervisor's signature."},

		{"schedule.view", ownAll, "Scheduling", "See appointment schedules."},
		{"schedule.edit", ownAll, "Scheduling", "Book and cancel appointments."},

		{"billing.view", assignedAll, "Billing", "See clients' billing information and payments."},
		{"billing.edit", assignedAll, "Billing", "Enter clients' billing information and payments, and create and manage invoices."},
		{"invoices.view", assignedAll, "Billing", "See invoices and receipts, including past ones."},
		{"invoices.delete", assignedAll, "Billing", "Delete invoices and receipts."},
		{"claims.submit", none, "Billing", "Create, send and track insurance claims."},
		{"billing_reports.view", none, "Billing", "Run billing reports for the whole practice."},
		{"billing_settings.view", none, "Billing", "See the practice's billing settings."},
		{"billing_settings.edit", none, "Billing", "Change the practice's billing settings."},
		{"financials.view", none, "Billing", "See the practice's financial information (revenue and projected revenue)."},

		{"dashboard.view", none, "Practice", "Open the dashboard (its data export area)."},
		{"reports.view", none, "Practice", "Run the practice's reports, except billing reports."},
		{"insights.view", none, "Practice", "See the practice's statistics and year-over-year comparisons."},
		{"data.export", none, "Practice", "Export the practice's data."},
		{"forms.manage", none, "Practice", "Manage and customize all of the practice's forms."},
		{"forms.send", assignedAll, "Practice", "Send intake and consent forms to clients."},
		{"settings.view", none, "Practice", "See the practice's settings."},
		{"settings.edit", none, "Practice", "Change the practice's settings, such as sign-in rules, sign-in providers and apps (not roles or practice toggles)."},

		{"members.view", ownAll, "Administration", "See staff profiles."},
		{"members.manage", none, "Administration", "Invite staff, change their profiles, and remove or restore their access."},
		{"roles.assign", none, "Administration", "Change staff members' roles, exceptions and supervisors, giving only what they are allowed to give."},
		{"roles.define", none, "Administration", "Change what each role allows, create roles, and turn the practice toggles on or off."},
		{"passwords.reset", none, "Administration", "Reset other staff members' passwords by giving them a temporary password."},
		{"accounts.unlock", none, "Administration", "Unlock staff who were locked out after too many wrong passwords."},
		{"audit.view", none, "Administration", "Read and export the audit trail: who did what, and when."},
		{"elevation.grant", none, "Administration", "Give someone emergency access for a limited time, with a reason, and end it early."},

		{AppLogin, none, "Apps", "Log in to one of the practice's apps, named by its client ID <client>; app.*.login allows every app."},
	}
}
