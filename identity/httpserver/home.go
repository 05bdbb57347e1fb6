package httpserver

import (
	"net/http"
	"strings"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/roles"
)

// The staff home (/p/{practice}/), where a member lands after logging in or
// accepting an invitation without an app to return to: a welcome with the
// practice's name, the apps this member may open, their roles by name,
// links to their passkeys and password, and for administrators the
// practice's login address to share with staff.

// homeView is the staff home's own part of pageData.
type homeView struct {
	// Welcome is true on the first visit after accepting an invitation.
	Welcome bool
	// Apps are the practice's registered apps with a launch URL whose
	// required permission the member holds.
	Apps []homeApp
	// RoleNames are the member's roles by their names.
	RoleNames []string
	// LoginURL is the practice's login address, shown to administrators.
	LoginURL string
	// SignedIn is when this session began, in the practice's time zone.
	SignedIn string
	// Name greets the member: their display or legal name, "" when the
	// practice has none for them (the greeting then names the practice
	// only).
	Name string
}

// homeApp is an app on the staff home.
type homeApp struct {
	Name, URL, Host string
}

// maxHomeApps bounds the apps listed on the home page.
const maxHomeApps = 50

// homeData fills the staff home for pr.
func (s *Server) homeData(r *http.Request, pr account.Principal) *homeView {
	ctx := r.Context()
	h := &homeView{Welcome: r.URL.Query().Get("welcome") == "1",
		SignedIn: pr.Session.AuthTime.In(account.Location(pr.Practice)).Format("Mon 2 Jan 2006, 15:04 MST"),
		Name:     pr.Member.DisplayName}
	if h.Name == "" {
		h.Name = pr.Member.LegalName
	}
	names := map[string]string{}
	if s.d.AdminRoles != nil {
		if m, err := s.d.AdminRoles.Model(ctx, pr.Practice.ID); err == nil {
			for _, role := range m.Roles {
				names[role.Key] = role.Name
			}
		}
	}
	for _, k := range pr.Member.Roles {
		if n := names[k]; n != "" {
			h.RoleNames = append(h.RoleNames, n)
		} else {
			h.RoleNames = append(h.RoleNames, k)
		}
	}
	if s.d.AdminStore == nil || s.d.AdminRoles == nil {
		return h
	}
	eff, err := s.d.AdminRoles.Effective(ctx, pr.Practice.ID, pr.Member.ID)
	if err != nil {
		s.log(r).WarnContext(ctx, "staff home: effective permissions", "err", err)
		return h
	}
	if roles.Allows(eff.Permissions, roles.PermManageMembers) || roles.Allows(eff.Permissions, roles.PermEditSettings) {
		h.LoginURL = s.d.Accounts.LoginURL(pr.Practice)
	}
	apps, err := s.d.AdminStore.ListApps(ctx, pr.Practice.ID)
	if err != nil {
		s.log(r).WarnContext(ctx, "staff home: apps", "err", err)
		return h
	}
	for _, a := range apps {
		if a.LaunchURL == "" || (a.RequirePermission != "" && !roles.Allows(eff.Permissions, a.RequirePermission)) {
			continue
		}
		host := a.LaunchURL
		if i := strings.Index(host, "://"); i >= 0 {
			host = host[i+3:]
		}
		if i := strings.IndexAny(host, "/?"); i >= 0 {
			host = host[:i]
		}
		h.Apps = append(h.Apps, homeApp{Name: a.Title(), URL: a.LaunchURL, Host: host})
		if len(h.Apps) == maxHomeApps {
			break
		}
	}
	return h
}
