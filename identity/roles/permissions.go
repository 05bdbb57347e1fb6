package roles

import (
	"errors"
	"slices"
	"strings"

	"github.com/frontdeskhq/frontdesk/identity/enforce"
	"github.com/frontdeskhq/frontdesk/identity/problem"
)

// Scope narrows a permission to some of the things it names. Scopes are
// ordered: own < assigned < supervisees < all, and a broader scope implies
// every narrower one.
type Scope string

// The scopes, narrowest first.
const (
	// ScopeOwn: the member's own things (their own schedule, the clients for
	// whom they are the primary practitioner, their own profile).
	ScopeOwn Scope = "own"
	// ScopeAssigned: things assigned to the member (clients they are assigned
	// to as primary or other practitioner, or were granted access to).
	ScopeAssigned Scope = "assigned"
	// ScopeSupervisees: the member's assigned things plus those of the members
	// they supervise.
	ScopeSupervisees Scope = "supervisees"
	// ScopeAll: everything in the practice.
	ScopeAll Scope = "all"
)

// Scopes lists the scopes, narrowest first.
func Scopes() []Scope { return []Scope{ScopeOwn, ScopeAssigned, ScopeSupervisees, ScopeAll} }

// Permission is a parsed permission string resource.action[:scope]. The
// resource may itself contain dots (app.ehr is the resource of
// app.ehr.login); the action is the last dot-separated word.
type Permission struct {
	Resource string
	Action   string
	Scope    Scope // "" when the permission has no scope
}

// String formats p as resource.action[:scope].
func (p Permission) String() string {
	s := p.Resource + "." + p.Action
	if p.Scope != "" {
		s += ":" + string(p.Scope)
	}
	return s
}

// Key is resource.action without the scope.
func (p Permission) Key() string { return p.Resource + "." + p.Action }

// ErrBadPermission reports a permission string that is malformed or not in
// the catalogue.
var ErrBadPermission = problem.New(problem.Invalid, "invalid_request", "roles: not a permission in the catalogue", "not a permission in the catalogue")

// Parse splits a permission string. It checks the syntax only: lower-case
// words of a-z, 0-9 and '_' ('-' also in an app's client ID) separated by
// dots, at least resource.action, and an optional known scope. Use Validate
// to check it against the catalogue.
//
// The grammar is identity/enforce's (enforce.ParsePermission), the one the
// practice apps use; Parse only wraps its error in ErrBadPermission.
func Parse(s string) (Permission, error) {
	p, err := enforce.ParsePermission(s)
	if pe, ok := errors.AsType[*enforce.PermissionError](err); ok {
		return Permission{}, ErrBadPermission.Withf("%s", pe.Reason)
	} else if err != nil {
		return Permission{}, ErrBadPermission.Withf("%w", err)
	}
	return Permission{Resource: p.Resource, Action: p.Action, Scope: Scope(p.Scope)}, nil
}

// Implies reports whether holding the permission held satisfies a check for
// wanted: same resource and action, and held's scope at least as broad as
// wanted's. A permission without a scope is unrestricted and counts as :all.
// A held app.*.login implies app.X.login for every app X. Malformed strings
// imply nothing and are implied by nothing.
//
// It is enforce.Implies: the practice apps and frontdesk share the one
// definition of implication.
func Implies(held, wanted string) bool { return enforce.Implies(held, wanted) }

// implies is Implies for parsed permissions.
func (p Permission) implies(w Permission) bool { return p.enforce().Implies(w.enforce()) }

func (p Permission) enforce() enforce.Permission {
	return enforce.Permission{Resource: p.Resource, Action: p.Action, Scope: string(p.Scope)}
}

// Allows reports whether any of the held permissions implies wanted. It is
// enforce.Allows.
func Allows(held []string, wanted string) bool { return enforce.Allows(held, wanted) }

// CatalogueEntry documents one permission of the catalogue.
type CatalogueEntry struct {
	// Name is resource.action; app.<client>.login stands for one entry per
	// registered OpenID client.
	Name string
	// Scoped permissions must carry a scope; unscoped ones must not.
	Scoped bool
	// Group is the heading under which docs/roles.md lists it.
	Group string
	// Description says what it allows, in the seeds' words where possible.
	Description string
}

// AppLogin is the catalogue name of the per-app log-in right; <client> is an
// OpenID client ID, or * for every app.
const AppLogin = "app.<client>.login"

// Catalogue returns the permission catalogue, grouped and in a stable order.
// It is the single source of docs/roles.md.
func Catalogue() []CatalogueEntry {
	return []CatalogueEntry{
		{"clients.view", true, "Clients", "See client contact details (name, phone, email, address) — not their clinical record."},
		{"clients.create", false, "Clients", "Add clients."},
		{"clients.edit", true, "Clients", "Edit client contact and demographic details."},
		{"clients.delete", false, "Clients", "Remove clients."},
		{"clients.assign", false, "Clients", "Assign any client to any clinician, which gives that clinician the client's record and notes."},
		{"records.view", true, "Clients", "Open a client's record: documents, history, everything beyond contact details."},
		{"records.edit", true, "Clients", "Change a client's record."},
		{"records.share", true, "Clients", "Grant (and revoke) other practitioners access to a client's record."},

		{"clinical_notes.view", true, "Notes", "Read clinical (progress, session) notes."},
		{"clinical_notes.create", true, "Notes", "Write clinical notes."},
		{"clinical_notes.edit", true, "Notes", "Edit unsigned clinical notes."},
		{"clinical_notes.approve", true, "Notes", "Review and approve progress notes."},
		{"clinical_notes.cosign", true, "Notes", "Co-sign notes that need a supervisor's signature."},
		{"clinical_notes.delete_signed", true, "Notes", "Delete a signed note."},
		{"clinical_notes.export", true, "Notes", "Export notes (for example to supply them to lawyers)."},
		{"admin_notes.view", true, "Notes", "Read administrative notes: missed appointment, contact and miscellaneous notes."},
		{"admin_notes.create", true, "Notes", "Write administrative notes."},
		{"admin_notes.edit", true, "Notes", "Edit administrative notes."},
		{"diagnoses.view", true, "Notes", "See diagnoses."},
		{"diagnoses.edit", true, "Notes", "Record and change diagnoses."},
		{"treatment_plans.view", true, "Notes", "Read treatment plans."},
		{"treatment_plans.edit", true, "Notes", "Write and change treatment plans."},
		{"treatment_plans.cosign", true, "Notes", "Co-sign treatment plans that need a supervisor's signature."},

		{"schedule.view", true, "Scheduling", "See schedules: own = my schedule only, all = every practitioner's."},
		{"schedule.edit", true, "Scheduling", "Schedule and cancel appointments: own = my own sessions, all = for every practitioner."},

		{"billing.view", true, "Billing", "See client billing information and payments."},
		{"billing.edit", true, "Billing", "Enter client billing information and payments; create and manage invoices."},
		{"invoices.view", true, "Billing", "See invoices and receipts, including historical ones."},
		{"invoices.delete", true, "Billing", "Delete invoices and receipts."},
		{"claims.submit", false, "Billing", "Generate, submit and track insurance claims."},
		{"billing_reports.view", false, "Billing", "Run practice-wide billing reports."},
		{"billing_settings.view", false, "Billing", "See the practice's billing settings."},
		{"billing_settings.edit", false, "Billing", "Change the practice's billing settings."},
		{"financials.view", false, "Billing", "See the practice's financial information (revenue, projections)."},

		{"dashboard.view", false, "Practice", "Reach the dashboard (its data export area)."},
		{"reports.view", false, "Practice", "Run practice reports other than billing reports."},
		{"insights.view", false, "Practice", "Reach practice statistics and year-over-year insights."},
		{"data.export", false, "Practice", "Export practice data."},
		{"forms.manage", false, "Practice", "Manage and customise every form of the practice."},
		{"forms.send", true, "Practice", "Send intake and consent forms to clients."},
		{"settings.view", false, "Practice", "See practice settings."},
		{"settings.edit", false, "Practice", "Change practice settings (global settings, toggles other than roles)."},

		{"members.view", true, "Administration", "See staff members: own = my profile, all = every member's staff information."},
		{"members.manage", false, "Administration", "Invite, edit and remove members (user access)."},
		{"roles.assign", false, "Administration", "Change members' roles, overrides and supervisors (only with permissions the actor holds)."},
		{"roles.define", false, "Administration", "Edit the practice's role definitions and practice-wide toggles."},
		{"passwords.reset", false, "Administration", "Reset other members' passwords and issue temporary passwords."},
		{"accounts.unlock", false, "Administration", "Unlock accounts locked after failed password attempts."},
		{"audit.view", false, "Administration", "Read the audit trail."},
		{"elevation.grant", false, "Administration", "Grant time-boxed emergency (break-glass) access, with a reason."},

		{AppLogin, false, "Apps", "Log in to the app registered as OpenID client <client>; app.*.login allows every app."},
	}
}

// Validate checks that s is a permission of the catalogue with a scope exactly
// when the catalogue says it is scoped. The error says what to write instead.
func Validate(s string) error {
	p, err := Parse(s)
	if err != nil {
		return err
	}
	name := p.Key()
	if strings.HasPrefix(p.Resource, "app.") && p.Action == "login" && strings.Count(p.Resource, ".") == 1 {
		name = AppLogin
	}
	i := slices.IndexFunc(Catalogue(), func(e CatalogueEntry) bool { return e.Name == name })
	if i < 0 {
		return ErrBadPermission.Withf("%q; see docs/roles.md for the list", s)
	}
	switch e := Catalogue()[i]; {
	case e.Scoped && p.Scope == "":
		return ErrBadPermission.Withf("%q needs a scope: add :own, :assigned, :supervisees or :all", s)
	case !e.Scoped && p.Scope != "":
		return ErrBadPermission.Withf("%q takes no scope: write %q", s, name)
	}
	return nil
}

// Normalize validates every permission, then returns them sorted without
// duplicates and without entries implied by another entry of the list.
func Normalize(perms []string) ([]string, error) {
	for _, p := range perms {
		if err := Validate(p); err != nil {
			return nil, err
		}
	}
	return reduce(perms), nil
}

// reduce sorts, deduplicates and drops permissions implied by a broader one
// in the same list.
func reduce(perms []string) []string {
	parsed := make([]Permission, len(perms))
	valid := make([]bool, len(perms))
	for i, p := range perms {
		parsed[i], valid[i] = parseOK(p)
	}
	out := make([]string, 0, len(perms))
	for i, p := range perms {
		implied := false
		for j, q := range perms {
			if i != j && q != p && valid[i] && valid[j] && parsed[j].implies(parsed[i]) {
				implied = true
				break
			}
		}
		if !implied {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func parseOK(s string) (Permission, bool) {
	p, err := Parse(s)
	return p, err == nil
}
