package browser

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/oidc"
	"github.com/frontdeskhq/frontdesk/identity/onboarding"
	"github.com/frontdeskhq/frontdesk/identity/roles"
)

// Issue 18 (points 1, 2, 3, 5 and 10): the console as a practice
// administrator meets it — members list with type-ahead and multi-role
// filter, Supervisee labels and role names, the task-first member page,
// the invitation form with supervision chosen up front, deactivating a
// supervisor with their supervisees handed on, lock → unlock by keyboard
// alone — every page at 1280 and 390 px wide without horizontal scrolling,
// checked with axe-core, and no permission string or role key in sight.

const (
	s18Slug      = "sessions-clinic"
	s18Owner     = "olivia@sessions.example"
	s18OwnerPw   = "plum velvet orbit canyon 42 kettle"
	s18Sup       = "sam@sessions.example"
	s18SupPw     = "amber trellis wander ninety two"
	s18Pat       = "pat@sessions.example"
	s18PatPw     = "copper lantern meadow sixty one"
	s18Sky       = "sky@sessions.example"
	s18Newcomer  = "nia@sessions.example"
	narrowWidth  = 390
	narrowHeight = 844
)

// widths screenshots the current page at a laptop's and a phone's width,
// fails when either scrolls sideways, and runs axe-core at both.
func (b *tab) widths(name string) {
	b.t.Helper()
	for _, w := range []struct {
		width, height int64
		label         string
	}{{1280, 800, "1280"}, {narrowWidth, narrowHeight, "390"}} {
		b.do("set the viewport to "+w.label, chromedp.EmulateViewport(w.width, w.height))
		over := b.waitJS("the page's width", `String(document.documentElement.scrollWidth - window.innerWidth)`)
		if over != "0" && !strings.HasPrefix(over, "-") {
			b.t.Errorf("%s at %s px scrolls sideways by %s px", name, w.label, over)
		}
		b.screenshot(name + "-" + w.label)
		b.strictA11y(name + " at " + w.label + " px")
	}
	b.do("back to a laptop's viewport", chromedp.EmulateViewport(1280, 800))
}

// wordsWhole screenshots the current page at each width (px) and fails when
// it scrolls sideways or a word inside sel is broken across lines, as a
// table squeezed into too little width breaks "Stat|us" and "Temporar|y".
func (b *tab) wordsWhole(name, sel string, widths ...int64) {
	b.t.Helper()
	for _, w := range widths {
		label := strconv.FormatInt(w, 10)
		b.do("set the viewport to "+label, chromedp.EmulateViewport(w, 800))
		over := b.waitJS("the page's width", `String(document.documentElement.scrollWidth - window.innerWidth)`)
		if over != "0" && !strings.HasPrefix(over, "-") {
			b.t.Errorf("%s at %s px scrolls sideways by %s px", name, label, over)
		}
		b.screenshot(name + "-" + label)
		broken := b.waitJS("the words of "+sel+" at "+label, `(function () {
  var out = [];
  // Text for screen readers only (a 1 px box) is not read on the screen.
  var unseen = function (el, root) {
    for (; el && el !== root.parentElement; el = el.parentElement) {
      var r = el.getBoundingClientRect();
      if (r.width <= 1 || r.height <= 1) { return true; }
    }
    return false;
  };
  document.querySelectorAll(`+jsString(sel)+`).forEach(function (root) {
    var walk = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (var n = walk.nextNode(); n; n = walk.nextNode()) {
      if (unseen(n.parentElement, root)) { continue; }
      var re = /\S+/g, m;
      while ((m = re.exec(n.data))) {
        var r = document.createRange();
        r.setStart(n, m.index);
        r.setEnd(n, m.index + m[0].length);
        var lines = Array.prototype.filter.call(r.getClientRects(), function (c) { return c.width > 0; });
        if (lines.length > 1) { out.push(m[0]); }
      }
    }
  });
  return out.length ? out.join(" ") : "none";
})()`)
		if broken != "none" {
			b.t.Errorf("%s at %s px breaks words across lines: %s", name, label, broken)
		}
	}
	b.do("back to a laptop's viewport", chromedp.EmulateViewport(1280, 800))
}

// lineUp fails unless the form controls a and c sit side by side on one line
// with the same top and bottom, not overlapping (a laptop), or one above the
// other with the same left and right edges (a phone), at the current viewport.
func (b *tab) lineUp(what, a, c string) {
	b.t.Helper()
	got := b.waitJS(what, `(function () {
  var a = document.querySelector(`+jsString(a)+`).getBoundingClientRect();
  var c = document.querySelector(`+jsString(c)+`).getBoundingClientRect();
  var near = function (x, y) { return Math.abs(x - y) < 1; };
  if (near(a.top, c.top) && near(a.bottom, c.bottom) && a.right <= c.left) { return "side by side"; }
  if (near(a.left, c.left) && near(a.right, c.right) && a.bottom <= c.top) { return "stacked"; }
  return "off: " + JSON.stringify([a.left, a.top, a.right, a.bottom]) + " " + JSON.stringify([c.left, c.top, c.right, c.bottom]);
})()`)
	if strings.HasPrefix(got, "off") {
		b.t.Errorf("%s do not line up: %s", what, got)
	}
}

// strictA11y fails the test on any axe-core violation.
func (b *tab) strictA11y(page string) {
	b.t.Helper()
	for _, v := range b.axeCheck(page) {
		b.t.Errorf("axe-core on %s: %s (%s): %s\n  %s", page, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n  "))
	}
}

// noJargon fails when the page's visible text shows a permission string, or
// a role or option key of the sessions preset that is not also an English
// word (role cells are checked for names separately).
func (b *tab) noJargon(page string) {
	b.t.Helper()
	text := b.text("main")
	for _, e := range roles.Catalogue() {
		if !strings.Contains(e.Name, "<") && strings.Contains(text, e.Name) {
			b.t.Errorf("%s shows the permission string %s:\n%s", page, e.Name, text)
		}
	}
	for _, key := range []string{"forms_admin", "no_billing", "full_clinical_access"} {
		if strings.Contains(text, key) {
			b.t.Errorf("%s shows the key %q:\n%s", page, key, text)
		}
	}
}

// cell is the text of sel in email's row of the members table, "" when
// empty or missing (rowJS waits for a non-empty answer).
func (b *tab) cell(email, sel string) string {
	b.t.Helper()
	return strings.TrimPrefix(b.waitJS(email+" "+sel, `"|" + `+rowJS(email, sel, "data-none")), "|")
}

// checked is whether the checkbox sel is ticked.
func (b *tab) checked(sel string) bool {
	b.t.Helper()
	return b.waitJS(sel, `document.querySelector(`+jsString(sel)+`).checked ? "yes" : "no"`) == "yes"
}

// rowsText waits until the members table's rows satisfy ok (the type-ahead
// swaps them in after a fetch) and returns their text.
func (b *tab) rowsText(what string, ok string) string {
	b.t.Helper()
	return b.waitJS(what, `(function () {
  var t = document.getElementById("member-rows");
  if (!t) { return ""; }
  var s = t.textContent;
  return (`+ok+`) ? s : "";
})()`)
}

func TestConsoleTasksAtBothWidths(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test; skipped with -short")
	}
	t.Parallel()
	axe := axeSource(t)
	chromiumPath(t)
	dir := artefacts(t)
	fd := startFrontdesk(t, dir, nil)
	fd.createPractice(t, s18Slug, "Sessions Clinic", s18Owner, "Olivia Owner", s18OwnerPw)

	// Staff: a supervisor and a practitioner they supervise (accepted), a
	// scheduler invited but not yet accepted.
	ctx := context.Background()
	accept := func(email, pw string) {
		link := lineWithPrefix(t, fd.mailText(t, email, 1), fd.base+"/p/"+s18Slug+"/invite?token=")
		token := link[strings.Index(link, "token=")+len("token="):]
		if _, err := fd.app.Onboarding.AcceptInvitation(ctx, s18Slug, token, pw, pw, account.Meta{}); err != nil {
			t.Fatal(err)
		}
	}
	invite := func(email, name string, keys ...string) onboarding.Invitation {
		inv, err := fd.app.Onboarding.Invite(ctx, s18Slug, account.Operator(), onboarding.InviteRequest{Email: email, Name: name,
			Roles: keys}, account.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		return inv
	}
	sam := invite(s18Sup, "Sam Supervisor", "practitioner", "supervisor")
	accept(s18Sup, s18SupPw)
	pat := invite(s18Pat, "Pat Practitioner", "practitioner")
	accept(s18Pat, s18PatPw)
	invite(s18Sky, "Sky Scheduler", "scheduler")
	practice, err := fd.app.Accounts.Practice(ctx, s18Slug)
	if err != nil {
		t.Fatal(err)
	}
	owner, err := fd.app.Store.MemberByEmail(ctx, practice.ID, s18Owner)
	if err != nil {
		t.Fatal(err)
	}
	if err := fd.app.Roles.SetSupervisors(ctx, roles.Actor{PracticeID: practice.ID, MemberID: owner.ID}, pat.MemberID,
		[]roles.SupervisorLink{{SupervisorID: sam.MemberID, CosignNotes: true, CosignTreatmentPlans: true}}, roles.Meta{}); err != nil {
		t.Fatal(err)
	}
	// Sam mistypes their password three times: locked.
	for i := range 3 {
		if _, _, err := fd.app.Accounts.Login(ctx, s18Slug, s18Sup, fmt.Sprintf("not my password %d", i), account.Meta{}); err == nil {
			t.Fatal("a wrong password logged in")
		}
	}

	b := newTab(t, dir, axe)
	base := fd.base + "/p/" + s18Slug
	b.visit(base+"/admin", "#password")
	b.typeInto("#email", s18Owner)
	b.typeInto("#password", s18OwnerPw)
	b.click(`main form button[type="submit"]`, "/p/"+s18Slug+"/", "main")

	// Point 2: the members list — role names, the Supervisee label with the
	// supervisor, the Locked badge with Unlock beside it.
	b.visit(base+"/admin/members", "#member-rows")
	b.widths("members")
	// Between a phone and a laptop the table neither squeezes words nor
	// pushes the page sideways; the search box and the Status filter line up.
	b.wordsWhole("members", "main table.list", 640, 680, 720, 1280)
	for _, w := range []int64{1280, 680, narrowWidth} {
		b.do("set the viewport to "+strconv.FormatInt(w, 10), chromedp.EmulateViewport(w, 800))
		b.lineUp("the search box and the Status filter at "+strconv.FormatInt(w, 10)+" px", "#q", "#status")
	}
	b.do("back to a laptop's viewport", chromedp.EmulateViewport(1280, 800))
	b.noJargon("the members list")
	if got := b.waitJS("Pat's roles", rowJS(s18Pat, `td[data-label="Roles"]`, "data-none")); !strings.Contains(got, "Practitioner") ||
		!strings.Contains(got, "Supervisee") || !strings.Contains(got, "supervised by Sam Supervisor") {
		t.Errorf("Pat's roles cell: %q", got)
	}
	if got := b.waitJS("Pat's supervisee label", rowJS(s18Pat, ".tag", "title")); got != "Supervised by Sam Supervisor" {
		t.Errorf("Pat's Supervisee label says %q on hover", got)
	}
	if got := b.waitJS("Sam's status", rowJS(s18Sup, `td[data-label="Status"]`, "data-none")); !strings.Contains(got, "Locked") ||
		!strings.Contains(got, "Unlock") {
		t.Errorf("Sam's status cell: %q", got)
	}
	if got := b.waitJS("Sky's actions", rowJS(s18Sky, `td[data-label="Actions"]`, "data-none")); !strings.Contains(got, "Resend invitation") ||
		!strings.Contains(got, "Revoke") || strings.Contains(got, "Temporary password") {
		t.Errorf("Sky's (invited) actions: %q", got)
	}
	if got := b.cell(s18Owner, `td[data-label="Actions"]`); strings.Contains(got, "Temporary password") {
		t.Errorf("the owner is offered a temporary password for themself: %q", got)
	}

	// Type-ahead: the rows follow the box as one types, no button pressed.
	b.typeInto("#q", "pat")
	b.rowsText("the rows for pat", `s.indexOf("Pat Practitioner") >= 0 && s.indexOf("Sky Scheduler") < 0 && s.indexOf("Olivia") < 0`)
	b.waitJS("the count for pat", `document.getElementById("member-count").textContent === "1 member shown" ? "yes" : ""`)
	if loc := b.waitJS("the address", `location.search`); !strings.Contains(loc, "q=pat") {
		t.Errorf("the address after type-ahead is %q", loc)
	}
	b.screenshot("members-typeahead")
	b.typeInto("#q", "")
	b.do("clear the search", chromedp.Evaluate[chromedp.Void](`(function(){var q=document.getElementById("q");q.value="";q.dispatchEvent(new Event("input"));})()`))
	b.rowsText("every row again", `s.indexOf("Sky Scheduler") >= 0 && s.indexOf("Pat Practitioner") >= 0`)

	// The role filter: "Select all" is ticked; ticking Scheduler unticks it
	// and shows only the scheduler; ticking "Select all" again shows all.
	b.click("details.rolefilter summary", "", "#role-all")
	if !b.checked("#role-all") {
		t.Error(`"Select all" is not ticked on a fresh list`)
	}
	b.click("#role-scheduler", "", "")
	if b.checked("#role-all") {
		t.Error(`ticking a role left "Select all" ticked`)
	}
	b.rowsText("only the scheduler", `s.indexOf("Sky Scheduler") >= 0 && s.indexOf("Pat Practitioner") < 0 && s.indexOf("Olivia") < 0`)
	b.click("#role-practitioner", "", "")
	b.rowsText("schedulers and practitioners", `s.indexOf("Sky Scheduler") >= 0 && s.indexOf("Pat Practitioner") >= 0 && s.indexOf("Olivia") < 0`)
	b.screenshot("members-two-roles")
	b.click("#role-all", "", "")
	if b.checked("#role-scheduler") || b.checked("#role-practitioner") {
		t.Error(`"Select all" left single roles ticked`)
	}
	b.rowsText("everyone", `s.indexOf("Olivia") >= 0 && s.indexOf("Sky Scheduler") >= 0`)

	// Without the script the same form works by submitting it.
	b.visit(base+"/admin/members?q=sky&role=scheduler", "#member-rows")
	if rows := b.text("#member-rows"); !strings.Contains(rows, "Sky Scheduler") || strings.Contains(rows, "Pat") {
		t.Errorf("submitted search: %q", rows)
	}
	if b.checked("#role-all") || !b.checked("#role-scheduler") {
		t.Error("the submitted role filter is not shown ticked")
	}

	// Resend from the list: a new link goes out, and the list says so.
	b.visit(base+"/admin/members", "#member-rows")
	resend := b.waitJS("Sky's Resend", rowJS(s18Sky, `form[action$="/resend"]`, "action"))
	b.click(`form[action="`+resend+`"] button`, "done=resent", ".notice")
	lineWithPrefix(t, fd.mailText(t, s18Sky, 2), fd.base+"/p/"+s18Slug+"/invite?token=")

	// Lock → unlock by keyboard alone: Tab to Sam's Unlock, Enter, Tab to
	// the confirmation's button, Enter.
	b.visit(base+"/admin/members", "#member-rows")
	unlock := b.waitJS("Sam's Unlock", rowJS(s18Sup, `a[href$="/unlock"]`, "href"))
	b.keyboardTo(`a[href="` + unlock + `"]`)
	b.screenshot("unlock-focused")
	b.pressEnter("/unlock")
	b.widths("unlock-confirm")
	b.keyboardTo(`main form button[type="submit"]`)
	b.pressEnter("done=unlocked")
	if got := b.waitJS("Sam's status", rowJS(s18Sup, ".badge", "data-none")); got != "Active" {
		t.Errorf("after unlocking by keyboard Sam is %q", got)
	}
	b.screenshot("unlocked")

	// Point 1: the member page — name, status, roles, actions first; the
	// rest closed until opened; permissions in words, by area.
	b.visit(base+"/admin/members/"+pat.MemberID, "#member-facts")
	b.widths("member-page")
	b.noJargon("Pat's page")
	if got := b.text("#member-roles"); got != "Practitioner" {
		t.Errorf("Pat's roles on their page: %q", got)
	}
	order := b.waitJS("the page's order", `(function () {
  var tasks = document.querySelector("ul.tasks"), first = document.querySelector("details.section");
  if (!tasks || !first) { return "missing"; }
  return (tasks.compareDocumentPosition(first) & Node.DOCUMENT_POSITION_FOLLOWING) ? "tasks first" : "sections first";
})()`)
	if order != "tasks first" {
		t.Errorf("member page: %s", order)
	}
	if open := b.waitJS("open sections", `String(document.querySelectorAll("details.section[open]").length)`); open != "0" {
		t.Errorf("%s sections open on arrival", open)
	}
	for _, id := range []string{"clinical", "supervision", "overrides", "emergency"} {
		b.click("#"+id+" > summary", "", "#"+id+" form")
	}
	b.noJargon("Pat's page with every section open")
	if sups := b.text("#supervision fieldset"); !strings.Contains(sups, "Sam Supervisor") || strings.Contains(sups, "Sky") {
		t.Errorf("supervisor choices: %q", sups)
	}
	if groups := b.waitJS("override areas", `(function () {
  var g = document.querySelectorAll("#add-permission optgroup"), out = [];
  for (var i = 0; i < g.length; i++) { out.push(g[i].label); }
  return out.join(",");
})()`); !strings.Contains(groups, "Clients") || !strings.Contains(groups, "Notes") {
		t.Errorf("override areas: %q", groups)
	}
	b.widths("member-page-open")

	// Point 3: invite with roles and "Supervised by" chosen up front.
	b.visit(base+"/admin/invite", "#email")
	b.widths("invite-form")
	b.noJargon("the invitation form")
	if opts := b.text("#supervisor"); !strings.Contains(opts, "Sam Supervisor") || strings.Contains(opts, "Pat") ||
		strings.Contains(opts, "Sky") {
		t.Errorf("supervisor choices on the invitation: %q", opts)
	}
	b.typeInto("#email", s18Newcomer)
	b.typeInto("#name", "Nia Newcomer")
	b.click("#role-practitioner", "", "")
	b.do("choose Sam", chromedp.SetValue(`#supervisor`, sam.MemberID))
	b.click("#cosign-plans", "", "") // notes only
	b.screenshot("invite-form-filled")
	b.click(`main form button[type="submit"]`, "done=invited", ".notice")
	newcomer, err := fd.app.Store.MemberByEmail(ctx, practice.ID, s18Newcomer)
	if err != nil {
		t.Fatal(err)
	}
	sup, err := fd.app.Roles.Supervision(ctx, practice.ID, newcomer.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(sup.Supervisors) != 1 || sup.Supervisors[0].SupervisorID != sam.MemberID || !sup.Supervisors[0].CosignNotes ||
		sup.Supervisors[0].CosignTreatmentPlans {
		t.Errorf("the invitee's supervision: %+v", sup.Supervisors)
	}
	if got := b.waitJS("Nia's roles", rowJS(s18Newcomer, `td[data-label="Roles"]`, "data-none")); !strings.Contains(got, "supervised by Sam Supervisor") {
		t.Errorf("Nia's row: %q", got)
	}

	// The invitations list: role names, Resend and Revoke on open rows.
	b.visit(base+"/admin/invitations", "table.list")
	b.widths("invitations")
	b.noJargon("the invitations")

	// Point 5 (seed 003): deactivating Sam lists Pat and Nia and hands Pat
	// to Olivia.
	b.visit(base+"/admin/members/"+sam.MemberID, "#member-facts")
	b.click("#deactivate", "/deactivate", "main form button[type=\"submit\"]")
	b.widths("deactivate-supervisor")
	if warn := b.text(".warn"); !strings.Contains(warn, "supervises 2 members") || !strings.Contains(warn, "Pat Practitioner") ||
		!strings.Contains(warn, "Nia Newcomer") {
		t.Errorf("deactivation warning: %q", warn)
	}
	b.do("hand Pat to Olivia", chromedp.SetValue(`#reassign-`+pat.MemberID, owner.ID))
	b.click(`main form button[type="submit"]`, "done=deactivated", ".notice")
	if sup, err := fd.app.Roles.Supervision(ctx, practice.ID, pat.MemberID); err != nil || len(sup.Supervisors) != 1 ||
		sup.Supervisors[0].SupervisorID != owner.ID || !sup.Supervisors[0].CosignNotes {
		t.Errorf("Pat's supervision after the handover: %+v %v", sup.Supervisors, err)
	}
	if sup, err := fd.app.Roles.Supervision(ctx, practice.ID, newcomer.ID); err != nil || len(sup.Supervisors) != 0 {
		t.Errorf("Nia's supervision after Sam left: %+v %v", sup.Supervisors, err)
	}

	// The sign-in page with a single sign-on provider listed (its table ran
	// off a phone's screen).
	b.visit(base+"/admin/sign-in", "#sso-kind")
	b.do("choose Entra", chromedp.SetValue(`#sso-kind`, "entra"))
	b.typeInto("#sso-tenant", "72f988bf-86f1-41af-91ab-2d7cd011db47")
	b.typeInto("#sso-client-id", "frontdesk-sessions-clinic-0123456789")
	b.typeInto("#sso-client-secret", "a client secret for the test only")
	b.typeInto("#sso-domains", "sessions.example, sessions-clinic-long-domain.example")
	b.click(`form[action$="/admin/sign-in/providers"] button[type="submit"]`, "done=added", ".notice")
	b.widths("sign-in-provider")
	b.noJargon("the sign-in settings")

	// An app registered, so the apps table has a row to fit.
	if _, _, err := fd.app.OIDC.RegisterApp(ctx, practice.ID, owner.ID, oidc.AppRequest{Name: "Sessions Notes",
		Confidential: true, RedirectURIs: []string{"https://notes.sessions-clinic.example/oauth/callback/with/a/long/path"},
		GrantTypes: []string{"authorization_code", "refresh_token"}}, account.Meta{}); err != nil {
		t.Fatal(err)
	}

	// Point 10: the other console pages fit both widths too.
	for _, p := range []struct{ path, sel, name string }{
		{"/admin/roles", "h1", "roles"},
		{"/admin/apps", "h1", "apps"},
		{"/admin/audit", "h1", "audit"},
		{"/admin/members/" + sam.MemberID + "/temporary-password", "h1", "temporary-password-deactivated"},
	} {
		b.visit(base+p.path, p.sel)
		b.widths(p.name)
		if p.name == "roles" {
			// Each role starts closed, in words; opened, its permissions are
			// checkboxes by area that fit a phone too.
			b.noJargon("the roles page")
			b.do("open a role other than the owner", chromedp.Click(chromedp.CSS(`details.role:not(#role-owner) > summary`)))
			b.waitJS("the role open", `document.querySelector("details.role:not(#role-owner)").open ? "yes" : ""`)
			b.widths("roles-open")
			// A permission shows the scopes it has: two boxes for the
			// schedule (their own, everyone's), one for adding clients.
			for perm, want := range map[string]string{"schedule.view:": "2", "clients.create": "1", "clinical_notes.cosign:": "2"} {
				if got := b.waitJS("the boxes of "+perm, `String(document.querySelectorAll('details.role[open] input[name="permission"][value^="`+
					perm+`"]').length)`); got != want {
					t.Errorf("the open role shows %s boxes for %s, want %s", got, perm, want)
				}
			}
		}
	}
}
