package httpserver

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// The roles page shows each role as a closed section whose permissions are
// checkboxes grouped by area and described in words (issue #18); the form
// posts one "permission" value per ticked box.

// maxRolePermissions bounds the "permission" values one role form may send;
// the catalogue with all its scopes and a practice's apps stays well below it.
const maxRolePermissions = 500

// consoleRoleView is one role of the roles page.
type consoleRoleView struct {
	Key, Name, Description string
	// Owner: the owner role, which gives every role.
	Owner bool
	// Gives names the roles this role's holders may give.
	Gives []string
	// Held is how many permissions the role holds.
	Held int
	// Areas are the checkboxes of the edit form; Summary the role's
	// permissions in words for readers who may not edit.
	Areas   []consoleRoleArea
	Summary []consolePermissionGroup
	// Open: the section starts open (the form was refused).
	Open bool
}

// consoleRoleArea is one area of the catalogue (Clients, Notes, …) as
// checkboxes.
type consoleRoleArea struct {
	Area  string
	Items []consoleRoleItem
}

// consoleRoleItem is one permission of the catalogue: a single checkbox, or
// for a scoped one a checkbox per scope it has.
type consoleRoleItem struct {
	Words   string // what it allows
	Raw     string // the catalogue name, shown small for those who want it
	Scoped  bool
	Choices []consolePermChoice
}

// consolePermChoice is one checkbox: Value is the permission string posted.
type consolePermChoice struct {
	ID, Value, Label string
	Checked          bool
}

// roleChoices lays out the permissions a role form offers, in the
// catalogue's areas and order: every catalogue permission with the scopes it
// has (one box for a permission without scopes), logging in to every app and to each of the practice's apps, and
// anything else held (so saving never drops what the form did not show).
// Boxes for held are ticked; prefix makes the element IDs unique per form.
func roleChoices(prefix string, held []string, apps []store.App) []consoleRoleArea {
	var areas []consoleRoleArea
	offered := map[string]bool{}
	n := 0
	choice := func(value, label string) consolePermChoice {
		n++
		offered[value] = true
		return consolePermChoice{ID: prefix + "-" + strconv.Itoa(n), Value: value, Label: label, Checked: slices.Contains(held, value)}
	}
	add := func(area string, it consoleRoleItem) {
		if len(areas) == 0 || areas[len(areas)-1].Area != area {
			areas = append(areas, consoleRoleArea{Area: area})
		}
		areas[len(areas)-1].Items = append(areas[len(areas)-1].Items, it)
	}
	appItem := func(value, words string) consoleRoleItem {
		return consoleRoleItem{Words: words, Raw: value, Choices: []consolePermChoice{choice(value, words)}}
	}
	for _, e := range roles.Catalogue() {
		words := strings.TrimSuffix(e.Description, ".")
		switch {
		case e.Name == roles.AppLogin:
			add(e.Group, appItem(roles.PermLoginAnyApp, "Log in to every app of the practice"))
			for _, a := range apps {
				add(e.Group, appItem(roles.AppLoginPermission(a.ClientID), "Log in to the app "+a.Name))
			}
			for _, p := range held {
				if !offered[p] && strings.HasPrefix(p, "app.") {
					add(e.Group, appItem(p, permissionWords(p)))
				}
			}
		case e.Scoped():
			// The scopes the permission has; another one the role already
			// holds (saved before the catalogue listed them) stays shown,
			// in its place, so it can be seen and unticked.
			it := consoleRoleItem{Words: words, Raw: e.Name, Scoped: true}
			for _, sc := range roles.Scopes() {
				if v := e.Name + ":" + string(sc); slices.Contains(e.Scopes, sc) || slices.Contains(held, v) {
					it.Choices = append(it.Choices, choice(v, roles.ScopeWords(e.Name, sc)))
				}
			}
			add(e.Group, it)
		default:
			add(e.Group, consoleRoleItem{Words: words, Raw: e.Name, Choices: []consolePermChoice{choice(e.Name, words)}})
		}
	}
	for _, p := range held {
		if !offered[p] {
			add("Other", consoleRoleItem{Words: permissionWords(p), Raw: p, Choices: []consolePermChoice{choice(p, permissionWords(p))}})
		}
	}
	return areas
}

// formPermissions reads a role form's ticked permissions: the repeated
// "permission" values, blanks ignored. It refuses, with a sentence that
// begins with lead, more than maxRolePermissions values or a value that is
// not a permission of the catalogue (the role service checks again).
func formPermissions(form url.Values, lead string) ([]string, string) {
	vals := form["permission"]
	if len(vals) > maxRolePermissions {
		return nil, lead + ": the form sent more permissions than there are. Reload the page and tick the permissions again."
	}
	var out []string
	for _, v := range vals {
		if v = strings.TrimSpace(v); v == "" {
			continue
		}
		if len(v) > 200 || roles.Validate(v) != nil {
			return nil, lead + ": one of the ticked permissions is not one frontdesk knows. Reload the page and tick the permissions again."
		}
		out = append(out, v)
	}
	return out, ""
}

// roleRefusal words a refused role form. A permission the role service
// refused got past formPermissions, so it parses: a scope the catalogue
// does not give it, from a stale or hand-made form. It is not quoted back.
func roleRefusal(lead string, err error) string {
	if errors.Is(err, roles.ErrBadPermission) {
		return lead + ": one of the ticked permissions has a scope frontdesk does not offer for it. Reload the page and tick the permissions again."
	}
	return refusal(lead, err)
}

// roleApps lists the practice's apps for the "log in to" boxes; none when
// OpenID Connect is off or they cannot be read (the page still works, and
// held app permissions are shown anyway).
func (s *Server) roleApps(r *http.Request, pr account.Principal) []store.App {
	if s.d.OIDC == nil {
		return nil
	}
	apps, err := s.d.OIDC.Apps(r.Context(), pr.Practice.ID)
	if err != nil {
		s.log(r).WarnContext(r.Context(), "console: apps for the roles page", "err", err)
		return nil
	}
	if len(apps) > 100 {
		apps = apps[:100]
	}
	return apps
}

// roleViews builds the roles page's sections; edited, when not nil, is the
// refused form's role, shown open with its ticks kept.
func roleViews(m roles.Model, apps []store.App, edited *roles.Role) []consoleRoleView {
	names := namesOf(m)
	out := make([]consoleRoleView, 0, len(m.Roles))
	for _, role := range m.Roles {
		v := consoleRoleView{Key: role.Key, Name: role.Name, Description: role.Description, Owner: role.Key == roles.OwnerRole,
			Held: len(role.Permissions), Summary: groupPermissions(role.Permissions)}
		if !v.Owner {
			v.Gives = names.of(role.Gives)
		}
		perms := role.Permissions
		if edited != nil && edited.Key == role.Key {
			perms, v.Open = edited.Permissions, true
		}
		v.Areas = roleChoices("p-"+role.Key, perms, apps)
		out = append(out, v)
	}
	return out
}
