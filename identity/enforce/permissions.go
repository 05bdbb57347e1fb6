package enforce

import (
	"fmt"
	"strings"
)

// This file is the one permission grammar: frontdesk's own identity/roles
// parses and compares permissions with ParsePermission and Implies, so the
// server and the apps cannot disagree about what a permission means.

// scopeRank orders scopes; no scope is unrestricted and ranks as all; 0 is
// not a scope.
func scopeRank(s string, present bool) int {
	if !present {
		return 4
	}
	switch s {
	case "own":
		return 1
	case "assigned":
		return 2
	case "supervisees":
		return 3
	case "all":
		return 4
	}
	return 0
}

// Permission is a parsed permission string resource.action[:scope]. The
// resource may itself contain dots (app.ehr is the resource of
// app.ehr.login); the action is the last dot-separated word.
type Permission struct {
	Resource string
	Action   string
	// Scope is own, assigned, supervisees or all, or "" when the permission
	// has no scope (unrestricted, which counts as all).
	Scope string
}

// PermissionError is the error ParsePermission returns for a string that is
// not a permission.
type PermissionError struct {
	// Reason says what is wrong with the string (which it quotes, cut to 40
	// bytes when too long) and, where it can, what to write instead.
	Reason string
}

// Error returns the reason, prefixed with the package name.
func (e *PermissionError) Error() string { return "enforce: malformed permission: " + e.Reason }

// failure says why parse refused a string, without allocating: kind is one
// of the fail constants and word the offending word for failWord.
type failure struct {
	kind int
	word string
}

const (
	failNone = iota
	failLong
	failScope
	failForm
	failWord
)

// parse is ParsePermission without building an error, for the hot path of
// Implies and Allows.
func parse(s string) (Permission, failure) {
	if len(s) > 200 {
		return Permission{}, failure{kind: failLong}
	}
	body, scope, hasScope := strings.Cut(s, ":")
	if scopeRank(scope, hasScope) == 0 {
		return Permission{}, failure{kind: failScope}
	}
	i := strings.LastIndexByte(body, '.')
	if i <= 0 || i == len(body)-1 {
		return Permission{}, failure{kind: failForm}
	}
	words := strings.Split(body, ".")
	for n, w := range words {
		if w == "*" && n == 1 && len(words) == 3 && words[0] == "app" {
			continue // app.*.login: every app
		}
		if w == "" {
			return Permission{}, failure{kind: failWord, word: w}
		}
		for _, r := range w {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
				return Permission{}, failure{kind: failWord, word: w}
			}
		}
	}
	return Permission{Resource: body[:i], Action: body[i+1:], Scope: scope}, failure{}
}

// ParsePermission splits a permission string. It checks the syntax only:
// at most 200 bytes of lower-case words of a-z, 0-9, '_' and '-' separated
// by dots, at least resource.action (app.*.login is the one word '*'
// allowed), and an optional scope :own, :assigned, :supervisees or :all.
// Whether the permission exists is frontdesk's business (its catalogue,
// docs/roles.md). The error is a *PermissionError.
func ParsePermission(s string) (Permission, error) {
	p, f := parse(s)
	var reason string
	switch f.kind {
	case failNone:
		return p, nil
	case failLong:
		reason = fmt.Sprintf("%.40q… is too long", s)
	case failScope:
		reason = fmt.Sprintf("%q has an unknown scope; use one of own, assigned, supervisees, all", s)
	case failForm:
		reason = fmt.Sprintf("%q is not of the form resource.action[:scope]", s)
	default:
		reason = fmt.Sprintf("%q: %q is not a word of a-z, 0-9, '_' and '-'", s, f.word)
	}
	return Permission{}, &PermissionError{Reason: reason}
}

// Implies reports whether holding p satisfies a check for wanted: same
// resource and action, and p's scope at least as broad as wanted's (all >
// supervisees > assigned > own; no scope counts as all). A held
// app.*.login implies app.X.login for every app X. Both should come from
// ParsePermission; a scope that is not one of the four implies nothing and
// is implied by nothing.
func (p Permission) Implies(wanted Permission) bool {
	if p.Action != wanted.Action {
		return false
	}
	if p.Resource != wanted.Resource {
		hApp, hok := strings.CutPrefix(p.Resource, "app.")
		_, wok := strings.CutPrefix(wanted.Resource, "app.")
		if !hok || !wok || hApp != "*" {
			return false
		}
	}
	h, w := scopeRank(p.Scope, p.Scope != ""), scopeRank(wanted.Scope, wanted.Scope != "")
	return h != 0 && w != 0 && h >= w
}

// Implies reports whether holding the permission held satisfies a check for
// wanted (see Permission.Implies). Malformed strings imply nothing and are
// implied by nothing. This is the one definition of implication: frontdesk
// itself (identity/roles) uses it too.
func Implies(held, wanted string) bool {
	h, f := parse(held)
	if f.kind != failNone {
		return false
	}
	w, f := parse(wanted)
	if f.kind != failNone {
		return false
	}
	return h.Implies(w)
}

// Allows reports whether any held permission implies wanted.
func Allows(held []string, wanted string) bool {
	w, f := parse(wanted)
	if f.kind != failNone {
		return false
	}
	for _, p := range held {
		if h, f := parse(p); f.kind == failNone && h.Implies(w) {
			return true
		}
	}
	return false
}
