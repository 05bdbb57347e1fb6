package roles

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/frontdeskhq/frontdesk/identity/problem"
)

// OwnerRole is the role key every preset gives its top administrator. It
// equals account.OwnerRole.
const OwnerRole = "owner"

// Role is one role of a practice: a key (what tokens carry), a name and a
// description for people, the permissions it grants, and its constraints.
type Role struct {
	Key         string   `json:"key"`
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Permissions []string `json:"permissions"`
	// Requires lists roles a member must also hold to hold this one (a
	// Clinical Administrator must also be a Clinician).
	Requires []string `json:"requires,omitempty"`
	// Exclusive lists roles a member holding this one must not also hold
	// (one user type per member, for example).
	Exclusive []string `json:"exclusive,omitempty"`
	// Gives lists the roles this role's holders may give ("staffs whom"):
	// invite with, assign, approve a join request into. The owner role gives
	// every role of the practice; no other role gives the owner role, nor a
	// role whose holders may give a role it does not (delegation.go).
	Gives []string `json:"gives"`
}

// ErrInvalidRole reports a role definition that cannot be used; the message
// says what to fix.
var ErrInvalidRole = problem.New(problem.Invalid, "invalid_request", "roles: invalid role", "invalid role")

// ValidKey reports whether k is a usable role key: 1 to 40 characters of
// a-z, 0-9, '_' and '-', starting with a letter.
func ValidKey(k string) bool {
	if k == "" || len(k) > 40 || k[0] < 'a' || k[0] > 'z' {
		return false
	}
	return validWord(k)
}

// validWord reports whether w is a non-empty word of a-z, 0-9, '_' and '-'.
func validWord(w string) bool {
	if w == "" {
		return false
	}
	for _, r := range w {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// Check validates one role on its own (constraints pointing at other roles are
// checked by CheckSet) and returns it with normalized permissions.
func (r Role) Check() (Role, error) {
	if !ValidKey(r.Key) {
		return Role{}, ErrInvalidRole.Withf("key %q must be 1 to 40 characters of a-z, 0-9, '_' and '-', starting with a letter", r.Key)
	}
	if err := checkText(r.Name, 100, true); err != nil {
		return Role{}, ErrInvalidRole.Withf("%s: name %v", r.Key, err)
	}
	if err := checkText(r.Description, 1000, false); err != nil {
		return Role{}, ErrInvalidRole.Withf("%s: description %v", r.Key, err)
	}
	perms, err := Normalize(r.Permissions)
	if err != nil {
		return Role{}, ErrInvalidRole.Withf("%s: %w", r.Key, err)
	}
	r.Permissions = perms
	r.Requires, r.Exclusive, r.Gives = sortedSet(r.Requires), sortedSet(r.Exclusive), sortedSet(r.Gives)
	for _, k := range r.Gives {
		if !ValidKey(k) {
			return Role{}, ErrInvalidRole.Withf("%s: gives %q, which is not a role key", r.Key, k)
		}
	}
	for _, k := range append(slices.Clone(r.Requires), r.Exclusive...) {
		if k == r.Key {
			return Role{}, ErrInvalidRole.Withf("%s cannot require or exclude itself", r.Key)
		}
	}
	for _, k := range r.Requires {
		if slices.Contains(r.Exclusive, k) {
			return Role{}, ErrInvalidRole.Withf("%s both requires and excludes %s", r.Key, k)
		}
	}
	return r, nil
}

func checkText(v string, max int, required bool) error {
	switch {
	case strings.TrimSpace(v) == "" && required:
		return errors.New("is required")
	case !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return unicode.IsControl(r) && r != '\n' }):
		return errors.New("must not contain control characters")
	case utf8.RuneCountInString(v) > max:
		return fmt.Errorf("must be at most %d characters", max)
	}
	return nil
}

// CheckSet validates a practice's whole set of role definitions: each role,
// unique keys, constraints naming roles of the set, and an owner role that
// exists.
func CheckSet(defs []Role) ([]Role, error) {
	out := make([]Role, 0, len(defs))
	keys := map[string]bool{}
	for _, r := range defs {
		c, err := r.Check()
		if err != nil {
			return nil, err
		}
		if keys[c.Key] {
			return nil, ErrInvalidRole.Withf("key %q is used twice", c.Key)
		}
		keys[c.Key] = true
		out = append(out, c)
	}
	for _, r := range out {
		for _, k := range append(slices.Clone(r.Requires), r.Exclusive...) {
			if !keys[k] {
				return nil, ErrInvalidRole.Withf("%s names role %q, which the practice does not define", r.Key, k)
			}
		}
	}
	if !keys[OwnerRole] {
		return nil, ErrInvalidRole.Withf("the practice must keep a role with key %q", OwnerRole)
	}
	if err := checkDelegation(out); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b Role) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// ErrConstraint reports a set of held roles that breaks a role's constraint.
var ErrConstraint = problem.New(problem.Invalid, "invalid_request", "roles: role constraint not met", "role constraint not met")

// CheckHeld checks that the held role keys exist in defs and satisfy every
// requires and exclusive constraint, in both directions.
func CheckHeld(defs []Role, held []string) error {
	byKey := index(defs)
	held = sortedSet(held)
	for _, k := range held {
		r, ok := byKey[k]
		if !ok {
			return ErrConstraint.Withf("the practice has no role %q", k)
		}
		for _, req := range r.Requires {
			if !slices.Contains(held, req) {
				return ErrConstraint.Withf("%s requires %s; assign %s too", r.Name, nameOf(byKey, req), nameOf(byKey, req))
			}
		}
		for _, ex := range r.Exclusive {
			if slices.Contains(held, ex) {
				return ErrConstraint.Withf("%s and %s cannot be held together; choose one", r.Name, nameOf(byKey, ex))
			}
		}
	}
	return nil
}

func nameOf(byKey map[string]Role, k string) string {
	if r, ok := byKey[k]; ok {
		return r.Name
	}
	return k
}

func index(defs []Role) map[string]Role {
	m := make(map[string]Role, len(defs))
	for _, r := range defs {
		m[r.Key] = r
	}
	return m
}

// Effect is a change to a set of permissions: Revoke removes, Grant adds.
type Effect struct {
	Grant  []string `json:"grant,omitempty"`
	Revoke []string `json:"revoke,omitempty"`
}

// Toggle is a practice-wide switch from a seed ("therapists see only their
// own clients"). While it is on, its Effect changes the permissions of every
// role listed in Roles, for everyone holding those roles.
type Toggle struct {
	Key         string   `json:"key"`
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Default     bool     `json:"default"`
	Roles       []string `json:"roles"`
	On          Effect   `json:"on"`
}

// Override is one per-member exception: Grant true adds the permission, Grant
// false denies it (and every broader scope of it).
type Override struct {
	Permission string `json:"permission"`
	Grant      bool   `json:"grant"`
}

// MemberOption is a named bundle of overrides a preset offers for one member
// at a time ("turn off billing for this practitioner").
type MemberOption struct {
	Key         string     `json:"key"`
	Name        string     `json:"name"`
	Description string     `json:"description,omitempty"`
	Overrides   []Override `json:"overrides"`
}

// Elevation is an emergency (break-glass) grant: extra permissions for one
// member until ExpiresAt, with a mandatory reason.
type Elevation struct {
	ID          string
	PracticeID  string
	MemberID    string
	GrantedBy   string
	Permissions []string
	Reason      string
	CreatedAt   time.Time
	ExpiresAt   time.Time
	EndedAt     time.Time // zero while not ended early
}

// Active reports whether the elevation is in force at now.
func (e Elevation) Active(now time.Time) bool {
	return e.EndedAt.IsZero() && now.Before(e.ExpiresAt) && !now.Before(e.CreatedAt)
}

// Input is everything Compute needs about one member.
type Input struct {
	Defs        []Role          // the practice's role definitions
	Held        []string        // role keys the member holds
	Toggles     []Toggle        // the practice's toggle definitions
	ToggleOn    map[string]bool // toggle values; a missing key means its Default
	Overrides   []Override
	Elevations  []Elevation
	Supervisors []string
	Now         time.Time
}

// Compute is the effective-permission computation, pure and deterministic:
//
//  1. each held role contributes its permissions, changed by every toggle
//     that is on and names that role (so a toggle narrowing Therapists does
//     not narrow the same person's Owner role);
//  2. the union over held roles;
//  3. member overrides: grants add, denials remove the denied permission and
//     every broader scope of it;
//  4. active elevations add their permissions (a denial does not block an
//     emergency elevation: it is audited and time-boxed instead).
//
// Unknown role keys contribute nothing. The result is sorted, deduplicated
// and reduced (a permission implied by another in the list is dropped).
func Compute(in Input) Effective {
	byKey := index(in.Defs)
	var union []string
	for _, k := range sortedSet(in.Held) {
		r, ok := byKey[k]
		if !ok {
			continue
		}
		perms := slices.Clone(r.Permissions)
		for _, t := range in.Toggles {
			on, set := in.ToggleOn[t.Key]
			if !set {
				on = t.Default
			}
			if on && slices.Contains(t.Roles, k) {
				perms = apply(perms, t.On)
			}
		}
		union = append(union, perms...)
	}
	var eff Effect
	for _, o := range in.Overrides {
		if o.Grant {
			eff.Grant = append(eff.Grant, o.Permission)
		} else {
			eff.Revoke = append(eff.Revoke, o.Permission)
		}
	}
	union = apply(union, eff)
	out := Effective{Roles: sortedSet(in.Held), Supervisors: sortedSet(in.Supervisors)}
	for _, e := range in.Elevations {
		if e.Active(in.Now) {
			union = append(union, e.Permissions...)
			out.Elevated = true
			if e.ExpiresAt.After(out.ElevationExpires) {
				out.ElevationExpires = e.ExpiresAt
			}
		}
	}
	out.Permissions = reduce(union)
	return out
}

// apply removes every permission that implies a revoked one (so denying
// billing.view:assigned also removes billing.view:all), then adds the grants.
// Revoking narrows: a held broader scope that is revoked is not replaced by a
// narrower one unless the Effect grants it.
func apply(perms []string, e Effect) []string {
	out := slices.DeleteFunc(slices.Clone(perms), func(p string) bool {
		for _, r := range e.Revoke {
			if Implies(p, r) {
				return true
			}
		}
		return false
	})
	return append(out, e.Grant...)
}

func sortedSet(in []string) []string {
	out := slices.Clone(in)
	slices.Sort(out)
	out = slices.Compact(out)
	if out == nil {
		return []string{}
	}
	return out
}
