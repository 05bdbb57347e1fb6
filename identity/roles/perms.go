package roles

// The permissions frontdesk's own code checks, each spelled once, here. Every
// other package (account, adminapi, httpserver, passkeys, sso) names them as
// roles.PermX; TestPermConstantsAreInTheCatalogue holds each to the
// catalogue, and TestNoPermissionLiteralsOutsideRoles keeps the spellings
// from spreading again. Permissions the practice apps check (clients.view,
// clinical_notes.edit, …) are only in the Catalogue: frontdesk itself never
// checks them.
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
