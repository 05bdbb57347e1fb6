package roles

import "strings"

// This file says permissions in words, for people: the console's pages
// and the refusals and mails that name a permission. The words come from
// the catalogue (perms.go); nothing else spells them.

// ScopeWords says whom the permission name covers at scope sc, as the end
// of a phrase ("everyone in the practice"). Own is said as what is one's
// own for that permission (their own schedule, their own profile, notes
// they wrote), and co-signing for supervisees as their supervisees' alone
// (nobody co-signs their own). name may be empty for the general words.
func ScopeWords(name string, sc Scope) string {
	if sc == ScopeSupervisees && strings.HasSuffix(name, ".cosign") {
		return "their supervisees'"
	}
	switch sc {
	case ScopeOwn:
		resource, _, _ := strings.Cut(name, ".")
		switch resource {
		case "schedule":
			return "their own schedule"
		case "members":
			return "their own profile"
		case "clinical_notes", "admin_notes":
			return "notes they wrote"
		}
		return "their own only"
	case ScopeAssigned:
		return "clients assigned to them"
	case ScopeSupervisees:
		return "theirs and their supervisees'"
	case ScopeAll:
		return "everyone in the practice"
	}
	return string(sc)
}

// Describe says what the permission string perm allows: the catalogue's
// description and, for a scoped permission, whom it covers in brackets
// ("Delete clinical notes that are already signed (everyone in the
// practice)"); app log-in as "Log in to every app" or "Log in to the app
// <client ID>". It reports false for a string that is malformed or that the
// catalogue does not know.
func Describe(perm string) (string, bool) {
	p, err := Parse(perm)
	if err != nil {
		return "", false
	}
	if strings.HasPrefix(p.Resource, "app.") && p.Action == "login" {
		if client := strings.TrimPrefix(p.Resource, "app."); client != "*" {
			return "Log in to the app " + client, true
		}
		return "Log in to every app", true
	}
	name := p.Key()
	for _, e := range Catalogue() {
		if e.Name != name {
			continue
		}
		d := strings.TrimSuffix(e.Description, ".")
		if p.Scope != "" {
			d += " (" + ScopeWords(name, p.Scope) + ")"
		}
		return d, true
	}
	return "", false
}

// PermissionWords names a permission in a sentence: Describe's words in
// quotation marks, for example “Delete clinical notes that are already
// signed (everyone in the practice)”. A string the catalogue does not know
// comes back quoted as it is.
func PermissionWords(perm string) string {
	if d, ok := Describe(perm); ok {
		return "“" + d + "”"
	}
	return "“" + perm + "”"
}
