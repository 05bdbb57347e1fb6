package httpserver

import (
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// The console speaks to a practice's administrator: role names instead of
// role keys, permissions by what they allow, grouped by area, instead of
// permission strings.

// consoleScriptCSP is the page CSP of console pages that load
// /static/console.js (type-ahead search, "Select all"): the default policy
// plus same-origin script and fetch; still no inline script.
const consoleScriptCSP = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// roleNames maps a practice's role keys to their names.
type roleNames map[string]string

func namesOf(model roles.Model) roleNames {
	n := make(roleNames, len(model.Roles))
	for _, r := range model.Roles {
		n[r.Key] = r.Name
	}
	return n
}

// of lists the names of keys in order; a key the practice no longer defines
// is shown as "former role" rather than as a key.
func (n roleNames) of(keys []string) []string {
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		if name, ok := n[k]; ok && name != "" {
			out = append(out, name)
		} else {
			out = append(out, "a former role")
		}
	}
	return out
}

// consolePermissionGroup is one area of the catalogue (Clients, Notes, …)
// with its permissions in words.
type consolePermissionGroup struct {
	Area        string
	Permissions []consolePermission
}

// permissionWords describes a permission string in words (roles.Describe);
// a string the catalogue does not know is "another kind of access".
func permissionWords(perm string) string {
	if d, ok := roles.Describe(perm); ok {
		return d
	}
	return "Another kind of access"
}

// groupPermissions sorts permission strings into the catalogue's areas, in
// the catalogue's order, each described in words (the string itself stays
// the form value); strings the catalogue does not know go under "Other".
func groupPermissions(perms []string) []consolePermissionGroup {
	area := map[string]string{}
	var order []string
	for _, e := range roles.Catalogue() {
		if _, ok := area[e.Name]; !ok {
			area[e.Name] = e.Group
		}
		if !slices.Contains(order, e.Group) {
			order = append(order, e.Group)
		}
	}
	byArea := map[string][]consolePermission{}
	for _, p := range perms {
		name, _, _ := strings.Cut(p, ":")
		a, ok := area[name]
		if !ok {
			a = "Other"
		}
		byArea[a] = append(byArea[a], consolePermission{Name: p, Description: permissionWords(p)})
	}
	var out []consolePermissionGroup
	for _, a := range append(order, "Other") {
		if ps := byArea[a]; len(ps) > 0 {
			out = append(out, consolePermissionGroup{Area: a, Permissions: ps})
			delete(byArea, a)
		}
	}
	return out
}

// onboardsByTemporaryPassword reports whether the practice gives new members
// a temporary password instead of an invitation link (seed 004, the practice
// setting account.Service.OnboardsByTemporaryPassword), so the console offers
// "Temporary password" on invited rows; false when it cannot be read.
func (s *Server) onboardsByTemporaryPassword(r *http.Request, p store.Practice) bool {
	on, err := s.d.Accounts.OnboardsByTemporaryPassword(r.Context(), p.Slug)
	if err != nil {
		s.log(r).WarnContext(r.Context(), "console: onboarding setting", "err", err)
		return false
	}
	return on
}

// grantable lists the role keys the signed-in member may give
// (account.Service.GrantableRoles); nil when none or on error, so forms offer
// nothing rather than everything.
func (s *Server) grantable(r *http.Request, pr account.Principal) map[string]bool {
	keys, err := s.d.Accounts.GrantableRoles(r.Context(), pr.Practice, account.Actor{MemberID: pr.Member.ID})
	if err != nil {
		s.log(r).WarnContext(r.Context(), "console: grantable roles", "err", err)
		return nil
	}
	out := make(map[string]bool, len(keys))
	for _, k := range keys {
		out[k] = true
	}
	return out
}

// supervisorChoice is a member who may be chosen as a supervisor, with the
// co-signatures they may be asked to give.
type supervisorChoice struct {
	ID, Name     string
	Notes, Plans bool // may co-sign progress notes, treatment plans
}

// supervisorChoices lists the practice's active and locked members (but
// except) who can supervise (roles.CanSupervise of their effective
// permissions), at most maxSupervisorChoices considered.
func (s *Server) supervisorChoices(r *http.Request, practiceID, except string) ([]supervisorChoice, error) {
	members, _, err := s.d.AdminStore.ListMembers(r.Context(), store.MemberFilter{PracticeID: practiceID, Limit: maxSupervisorChoices})
	if err != nil {
		return nil, err
	}
	var out []supervisorChoice
	for _, c := range members {
		if c.ID == except || (c.Status != store.StatusActive && c.Status != store.StatusLocked) {
			continue
		}
		eff, err := s.d.AdminRoles.EffectiveMember(r.Context(), c)
		if err != nil {
			return nil, err
		}
		if !roles.CanSupervise(eff.Permissions) {
			continue
		}
		notes, plans := roles.CanCosign(eff.Permissions)
		out = append(out, supervisorChoice{ID: c.ID, Name: viewMember(c).Name, Notes: notes, Plans: plans})
	}
	return out, nil
}

// permissionToken finds what may be a permission string in a sentence.
var permissionToken = regexp.MustCompile(`[a-z_*]+(?:\.[a-z_*]+)+(?::[a-z]+)?`)

// plainWords replaces every permission string in a service's explanation
// with what it allows, in quotes ("schedule.edit:all" becomes “Schedule and
// cancel appointments (everyone in the practice)”); other text, email
// addresses included, is left alone.
func plainWords(s string) string {
	known := map[string]bool{}
	for _, e := range roles.Catalogue() {
		known[e.Name] = true
	}
	return permissionToken.ReplaceAllStringFunc(s, func(tok string) string {
		name, _, _ := strings.Cut(tok, ":")
		if known[name] || strings.HasPrefix(name, "app.") && strings.HasSuffix(name, ".login") {
			return "“" + permissionWords(tok) + "”"
		}
		return tok
	})
}

// rolesRefusal says why a change of roles was refused, in words.
func rolesRefusal(err error) string {
	if w := wordedRefusal(err); w != "" {
		return "Nothing was changed. " + plainWords(w)
	}
	if errors.Is(err, roles.ErrForbidden) {
		return "Nothing was changed: you can only give or take away roles whose access you hold yourself. " +
			"Ask the account owner to make this change."
	}
	return plainWords(refusal("Nothing was changed", err))
}

// inputSentence says what to fix about a refused form field, as a sentence
// for an administrator (never the field's internal name alone).
func inputSentence(invalid *account.InvalidInputError) string {
	reason := strings.TrimSpace(strings.ReplaceAll(invalid.Reason, " (frontdesk admin unlock)", ""))
	switch invalid.Field {
	case "email":
		switch reason {
		case "is required":
			return "Enter their email address."
		case "is not a valid email address":
			return "Enter the whole email address, like name@example.com."
		}
		return "This email address " + reason + "."
	case "role":
		if reason == "give at least one role" {
			return "Choose at least one role."
		}
		return plainWords(upperFirst(reason)) + "."
	case "name":
		return "Check the name: " + reason + "."
	}
	return "Check the " + strings.ReplaceAll(invalid.Field, "_", " ") + ": " + plainWords(reason) + "."
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}
