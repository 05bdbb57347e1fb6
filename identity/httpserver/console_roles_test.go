package httpserver_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/frontdeskhq/frontdesk/identity/app/apptest"
	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

var (
	checkboxID  = regexp.MustCompile(`<input type="checkbox" id="([^"]+)" name="permission"`)
	alertText   = regexp.MustCompile(`(?s)<p class="error" role="alert" id="form-error">(.*?)</p>`)
	detailsOpen = regexp.MustCompile(`<details class="section[^"]*" id="([^"]+)" open>`)
	// permissionValue is one box of a role form and the permission it posts.
	permissionValue = regexp.MustCompile(`name="permission" value="([^"]+)"`)
)

// TestConsoleRolesEditor: the roles page shows each role closed, its
// permissions as labelled checkboxes grouped by area with what its holders
// may give; a role saved or created through the form holds exactly the
// ticked permissions; a value that is not a permission, or too many, is
// refused in words and changes nothing.
func TestConsoleRolesEditor(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			h := newConsoleSite(t, engine)
			owner := h.Browser()
			if st := owner.Login("sunrise", "owner@sunrise.example", apptest.Password); st != http.StatusSeeOther {
				t.Fatalf("owner login: %d", st)
			}
			model, err := h.App.Roles.Model(h.Ctx, h.sunrise.ID)
			if err != nil {
				t.Fatal(err)
			}
			st, _, page := owner.Do("GET", "/p/sunrise/admin/roles", nil, false)
			if st != 200 {
				t.Fatalf("roles page: %d", st)
			}
			t.Run("page", func(t *testing.T) {
				if strings.Contains(page, "<textarea") || strings.Contains(page, "docs/roles.md") {
					t.Errorf("the page still asks for permission strings:\n%s", page)
				}
				if m := detailsOpen.FindAllStringSubmatch(page, -1); len(m) > 0 {
					t.Errorf("sections open at first sight: %v", m)
				}
				if !strings.Contains(page, `<details class="section" id="new-role">`) {
					t.Errorf("no closed create-a-role section")
				}
				ids := checkboxID.FindAllStringSubmatch(page, -1)
				if len(ids) == 0 {
					t.Fatal("no permission checkboxes")
				}
				seen := map[string]bool{}
				for _, m := range ids {
					if seen[m[1]] {
						t.Errorf("checkbox id %s twice", m[1])
					}
					seen[m[1]] = true
					if !strings.Contains(page, `<label for="`+m[1]+`">`) {
						t.Errorf("checkbox %s has no label", m[1])
					}
				}
				if f, l := strings.Count(page, "<fieldset"), strings.Count(page, "<legend>"); f != l {
					t.Errorf("%d fieldsets, %d legends", f, l)
				}
				for _, role := range model.Roles {
					if !strings.Contains(page, `<details class="section role" id="role-`+role.Key+`">`) {
						t.Errorf("role %s has no closed section", role.Key)
					}
					for _, p := range role.Permissions {
						if !strings.Contains(page, `name="permission" value="`+p+`" checked>`) {
							t.Errorf("role %s: %s is not ticked", role.Key, p)
						}
					}
					if role.Key != roles.OwnerRole {
						for _, g := range role.Gives {
							if name := roleName(model.Roles, g); !strings.Contains(html.UnescapeString(page), name) {
								t.Errorf("role %s gives %s, not shown", role.Key, name)
							}
						}
					}
				}
				if !strings.Contains(page, "Who holders of this role may give:") || !strings.Contains(page, "every role of the practice") {
					t.Errorf("the delegation model is not shown")
				}
				for _, e := range roles.Catalogue() {
					if !strings.Contains(e.Name, "<") && !strings.Contains(html.UnescapeString(page), strings.TrimSuffix(e.Description, ".")) {
						t.Errorf("%s is not offered in words", e.Name)
					}
				}
			})

			t.Run("scopes", func(t *testing.T) {
				// Each form shows a permission with the scopes it has: one
				// box for one without scopes (adding clients), two for the
				// schedule (their own, everyone's), never the four scopes
				// for all.
				forms := strings.Split(page, `<form method="post" action="/p/sunrise/admin/roles`)[1:]
				if len(forms) != len(model.Roles)+1 {
					t.Fatalf("%d role forms, want %d", len(forms), len(model.Roles)+1)
				}
				for i, f := range forms {
					f = f[:strings.Index(f, "</form>")]
					for _, tt := range []struct {
						prefix string
						want   []string
					}{
						{`value="clients.create`, []string{"clients.create"}},
						{`value="schedule.view`, []string{"schedule.view:own", "schedule.view:all"}},
						{`value="clinical_notes.cosign`, []string{"clinical_notes.cosign:supervisees", "clinical_notes.cosign:all"}},
						{`value="clients.view`, []string{"clients.view:assigned", "clients.view:supervisees", "clients.view:all"}},
					} {
						var got []string
						for _, m := range permissionValue.FindAllStringSubmatch(f, -1) {
							if strings.HasPrefix(`value="`+m[1], tt.prefix) {
								got = append(got, m[1])
							}
						}
						if !slices.Equal(got, tt.want) {
							t.Errorf("form %d: boxes %v, want %v", i, got, tt.want)
						}
					}
				}
				if html := html.UnescapeString(page); !strings.Contains(html, `<label for="p-scheduler-`) ||
					!regexp.MustCompile(`value="schedule.view:own"[^>]*>\s*<label for="[^"]+">their own schedule</label>`).MatchString(html) ||
					!regexp.MustCompile(`value="clinical_notes.view:own"[^>]*>\s*<label for="[^"]+">notes they wrote</label>`).MatchString(html) {
					t.Errorf("the boxes of own schedules and notes do not say whose")
				}
			})

			many := make([]string, 501)
			for i := range many {
				many[i] = "audit.view"
			}
			for _, tc := range []struct {
				name   string
				values []string
				status int
				want   []string // the role afterwards; nil: unchanged
				words  string   // in the refusal
			}{
				{"ticked boxes", []string{"clients.view:assigned", "schedule.edit:own", "accounts.unlock"}, http.StatusSeeOther,
					[]string{"accounts.unlock", "clients.view:assigned", "schedule.edit:own"}, ""},
				{"blanks ignored", []string{"", "schedule.view:all", "  ", "members.view:own"}, http.StatusSeeOther,
					[]string{"members.view:own", "schedule.view:all"}, ""},
				{"a scope the permission does not list, new", []string{"schedule.view:supervisees"}, http.StatusBadRequest, nil,
					"has a scope frontdesk does not offer for it"},
				{"a scope the permission does not list, held before", []string{"schedule.view:supervisees"}, http.StatusSeeOther,
					[]string{"schedule.view:supervisees"}, ""},
				{"unknown permission", []string{"schedule.view:all", "no.such.thing"}, http.StatusBadRequest, nil,
					"one of the ticked permissions is not one frontdesk knows"},
				{"scope missing", []string{"clients.view"}, http.StatusBadRequest, nil,
					"one of the ticked permissions is not one frontdesk knows"},
				{"too many", many, http.StatusBadRequest, nil, "more permissions than there are"},
			} {
				t.Run("save "+tc.name, func(t *testing.T) {
					if strings.HasSuffix(tc.name, "held before") {
						// Saved before new grants had to carry one of the
						// catalogue's scopes: kept when the form sends it back.
						holdBefore(t, h, "scheduler", tc.values...)
					}
					before, _ := h.App.Roles.Model(h.Ctx, h.sunrise.ID)
					st, loc, page := owner.Do("POST", "/p/sunrise/admin/roles/scheduler", url.Values{"permission": tc.values}, true)
					if st != tc.status {
						t.Fatalf("status %d %s, want %d\n%.2000s", st, loc, tc.status, page)
					}
					after, _ := h.App.Roles.Model(h.Ctx, h.sunrise.ID)
					got := roleByKey(after.Roles, "scheduler")
					if tc.want == nil {
						if !slices.Equal(got, roleByKey(before.Roles, "scheduler")) {
							t.Errorf("a refused form changed the role: %v", got)
						}
						m := alertText.FindStringSubmatch(page)
						if m == nil || !strings.Contains(html.UnescapeString(m[1]), tc.words) {
							t.Fatalf("refusal not in words:\n%.3000s", page)
						}
						for _, v := range tc.values {
							if v != "" && strings.Contains(m[1], v) {
								t.Errorf("the refusal shows the value %q: %s", v, m[1])
							}
						}
						if !strings.Contains(page, `id="role-scheduler" open>`) {
							t.Errorf("the refused role is not shown open")
						}
						return
					}
					if !slices.Equal(got, tc.want) {
						t.Errorf("scheduler holds %v, want exactly %v", got, tc.want)
					}
					// What the role holds is shown ticked, even a scope the
					// catalogue does not list for it, so saving keeps it.
					_, _, page = owner.Do("GET", "/p/sunrise/admin/roles", nil, false)
					form := page[strings.Index(page, `action="/p/sunrise/admin/roles/scheduler"`):]
					form = form[:strings.Index(form, "</form>")]
					for _, p := range tc.want {
						if !strings.Contains(form, `name="permission" value="`+p+`" checked>`) {
							t.Errorf("%s is not shown ticked", p)
						}
					}
				})
			}

			t.Run("read only", func(t *testing.T) {
				// A member who reads the roles (members.manage) but may not
				// define them sees each role's permissions in words only.
				nobody := h.IDs["nobody@sunrise.example"]
				if err := h.App.Roles.SetMemberOverrides(h.Ctx, roles.Actor{PracticeID: h.sunrise.ID}, nobody,
					[]roles.Override{{Permission: roles.PermManageMembers, Grant: true}}, roles.Meta{}); err != nil {
					t.Fatal(err)
				}
				reader := h.Browser()
				if st := reader.Login("sunrise", "nobody@sunrise.example", apptest.Password); st != http.StatusSeeOther {
					t.Fatalf("login: %d", st)
				}
				st, _, page := reader.Do("GET", "/p/sunrise/admin/roles", nil, false)
				if st != 200 || strings.Contains(page, `name="permission"`) || strings.Contains(page, "<form") && strings.Contains(page, "/admin/roles/") ||
					!strings.Contains(html.UnescapeString(page), "Read clinical notes: progress and session notes (everyone in the practice)") {
					t.Fatalf("read-only roles page: %d\n%.3000s", st, page)
				}
				for _, e := range roles.Catalogue() {
					if !strings.Contains(e.Name, "<") && strings.Contains(page, e.Name) {
						t.Errorf("the read-only page shows the permission string %s", e.Name)
					}
				}
				if st, _, _ := reader.Do("POST", "/p/sunrise/admin/roles/scheduler", url.Values{"permission": {"schedule.view:all"}}, true); st != http.StatusForbidden {
					t.Errorf("a reader saved a role: %d", st)
				}
			})

			t.Run("create", func(t *testing.T) {
				form := url.Values{"key": {"front_desk"}, "name": {"Front desk"},
					"permission": {"members.view:all", "accounts.unlock", "schedule.edit:all", ""}}
				if st, loc, page := owner.Do("POST", "/p/sunrise/admin/roles", form, true); st != http.StatusSeeOther {
					t.Fatalf("create: %d %s\n%.2000s", st, loc, page)
				}
				m, _ := h.App.Roles.Model(h.Ctx, h.sunrise.ID)
				if got, want := roleByKey(m.Roles, "front_desk"), []string{"accounts.unlock", "members.view:all", "schedule.edit:all"}; !slices.Equal(got, want) {
					t.Errorf("front desk holds %v, want exactly %v", got, want)
				}
				form.Set("key", "front_desk_2")
				form["permission"] = []string{"members.view:all", "members.everything"}
				st, _, page := owner.Do("POST", "/p/sunrise/admin/roles", form, true)
				if st != http.StatusBadRequest || !strings.Contains(page, `<details class="section" id="new-role" open>`) ||
					!strings.Contains(page, `value="front_desk_2"`) {
					t.Fatalf("create with an unknown permission: %d\n%.3000s", st, page)
				}
				if a := alertText.FindStringSubmatch(page); a == nil || !strings.Contains(a[1], "Nothing was created") || strings.Contains(a[1], "members.everything") {
					t.Errorf("refusal: %v", a)
				}
				if m, _ := h.App.Roles.Model(h.Ctx, h.sunrise.ID); roleByKey(m.Roles, "front_desk_2") != nil {
					t.Errorf("a refused role was created")
				}
			})
		})
	}
}

func roleName(rs []roles.Role, key string) string {
	for _, r := range rs {
		if r.Key == key {
			return r.Name
		}
	}
	return key
}

// holdBefore stores perms into the practice's role key directly, as a role
// saved before the role service held new grants to the catalogue's scopes.
func holdBefore(t *testing.T, h *consoleSite, key string, perms ...string) {
	t.Helper()
	defs, err := h.App.Store.RoleDefinitions(h.Ctx, h.sunrise.ID)
	if err != nil {
		t.Fatal(err)
	}
	for i := range defs {
		if defs[i].Key == key {
			defs[i].Permissions = append(defs[i].Permissions, perms...)
		}
	}
	if err := h.App.Store.ReplaceRoleDefinitions(h.Ctx, h.sunrise.ID, defs); err != nil {
		t.Fatal(err)
	}
}
