package account

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/store"
)

// How mails and pages name people and times (issue 18, point 9): a person
// by name and role, a time in the practice's time zone.

// FormatTimeIn formats t for people in the practice's time zone:
// "Sun 6 Dec 2026, 09:17 CST".
func FormatTimeIn(t time.Time, p store.Practice) string {
	return t.In(Location(p)).Format("Mon 2 Jan 2006, 15:04 MST")
}

// MemberName is what people call the member: the display name, the legal
// name, or the email address.
func MemberName(m store.Member) string {
	switch {
	case m.DisplayName != "":
		return m.DisplayName
	case m.LegalName != "":
		return m.LegalName
	}
	return m.Email
}

// GivenName is the name a mail greets the member by: the display or legal
// name, "" when the practice has none (the mail then says "Hello,").
func GivenName(m store.Member) string {
	if m.DisplayName != "" {
		return m.DisplayName
	}
	return m.LegalName
}

// PersonLabel names a member with their roles, "Dana Reyes (Practice
// Administrator)", for mails that say who acted. It is "" for the operator,
// for a member that is gone, and when memberID is "".
func (s *Service) PersonLabel(ctx context.Context, st *store.Store, p store.Practice, memberID string) string {
	if memberID == "" || memberID == OperatorActorID {
		return ""
	}
	m, err := st.MemberByID(ctx, p.ID, memberID)
	if err != nil {
		return ""
	}
	names := s.RoleNames(ctx, p, m.Roles)
	if len(names) == 0 {
		return MemberName(m)
	}
	return MemberName(m) + " (" + strings.Join(names, ", ") + ")"
}

// RoleNames are the names of the practice's roles keys, in the model's
// order; a key the model does not define is left out.
func (s *Service) RoleNames(ctx context.Context, p store.Practice, keys []string) []string {
	if s.d.Roles == nil || len(keys) == 0 {
		return nil
	}
	model, err := s.d.Roles.Model(ctx, p.ID)
	if err != nil {
		return nil
	}
	var out []string
	for _, r := range model.Roles {
		if slices.Contains(keys, r.Key) {
			out = append(out, r.Name)
		}
	}
	return out
}

// ConsoleURL is an absolute URL of the practice's console page path
// ("members/ID/unlock").
func (s *Service) ConsoleURL(p store.Practice, path string) string {
	return s.set.PublicURL + "/p/" + p.Slug + "/admin/" + path
}
