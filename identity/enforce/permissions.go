package enforce

import "strings"

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

type permission struct {
	resource, action string
	rank             int
}

func parse(s string) (permission, bool) {
	if len(s) > 200 {
		return permission{}, false
	}
	body, scope, hasScope := strings.Cut(s, ":")
	rank := scopeRank(scope, hasScope)
	if rank == 0 {
		return permission{}, false
	}
	i := strings.LastIndexByte(body, '.')
	if i <= 0 || i == len(body)-1 {
		return permission{}, false
	}
	words := strings.Split(body, ".")
	for n, w := range words {
		if w == "*" && n == 1 && len(words) == 3 && words[0] == "app" {
			continue
		}
		if w == "" {
			return permission{}, false
		}
		for _, r := range w {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
				return permission{}, false
			}
		}
	}
	return permission{resource: body[:i], action: body[i+1:], rank: rank}, true
}

// Implies reports whether holding held satisfies a check for wanted. It
// mirrors identity/roles.Implies: same resource and action, held's scope at
// least as broad (all > supervisees > assigned > own; none = all), and
// app.*.login implying every app.<client>.login. Malformed strings imply
// nothing.
func Implies(held, wanted string) bool {
	h, ok := parse(held)
	if !ok {
		return false
	}
	w, ok := parse(wanted)
	if !ok {
		return false
	}
	return h.implies(w)
}

func (h permission) implies(w permission) bool {
	if h.action != w.action {
		return false
	}
	if h.resource != w.resource {
		hApp, hok := strings.CutPrefix(h.resource, "app.")
		_, wok := strings.CutPrefix(w.resource, "app.")
		if !hok || !wok || hApp != "*" {
			return false
		}
	}
	return h.rank >= w.rank
}

// Allows reports whether any held permission implies wanted.
func Allows(held []string, wanted string) bool {
	w, ok := parse(wanted)
	if !ok {
		return false
	}
	for _, p := range held {
		if h, ok := parse(p); ok && h.implies(w) {
			return true
		}
	}
	return false
}
