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

// AppLogin is the catalogue name of the per-app log-in right; <client> is an
// OpenID client ID, or * for every app.
const AppLogin = "app.<client>.login"

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
	case e.Scoped() && p.Scope == "":
		return ErrBadPermission.Withf("%q needs a scope: add %s", s, scopeChoices(e.Scopes))
	case !e.Scoped() && p.Scope != "":
		return ErrBadPermission.Withf("%q takes no scope: write %q", s, name)
	}
	return nil
}

// ValidateNew is [Validate] for a permission a request grants: in a role,
// as a member's granting override, or as emergency access. A scoped permission must
// also carry one of the scopes the catalogue gives it: clinical_notes.cosign
// is limited to :supervisees or :all, and clinical_notes.cosign:own, which
// parses, would grant nothing any app asks for. Permissions already stored
// are re-checked with Validate only, so a role saved before this check
// keeps what it holds and can still be edited; so is a denial, where the
// narrowest scope is the way to deny every scope (billing.view:own).
func ValidateNew(s string) error {
	if err := Validate(s); err != nil {
		return err
	}
	p, _ := Parse(s)
	if p.Scope == "" {
		return nil
	}
	i := slices.IndexFunc(Catalogue(), func(e CatalogueEntry) bool { return e.Name == p.Key() })
	if i >= 0 && !slices.Contains(Catalogue()[i].Scopes, p.Scope) {
		e := Catalogue()[i]
		return ErrBadPermission.Sayf("%q: %s is limited to %s; write one of those", s, e.Name, scopeChoices(e.Scopes))
	}
	return nil
}

// scopeChoices lists scopes as a choice: ":own or :all", ":assigned,
// :supervisees or :all".
func scopeChoices(scopes []Scope) string {
	var b strings.Builder
	for i, sc := range scopes {
		switch {
		case i == 0:
		case i == len(scopes)-1:
			b.WriteString(" or ")
		default:
			b.WriteString(", ")
		}
		b.WriteString(":" + string(sc))
	}
	return b.String()
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
