package browser

import (
	"context"
	"strings"
	"testing"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/onboarding"
)

const (
	slug           = "sunrise"
	ownerEmail     = "olive@sunrise.example"
	ownerPassword  = "plum velvet orbit canyon 42 kettle"
	clinicianEmail = "carl@sunrise.example"
	clinicianPw    = "amber trellis wander ninety two"
	schedulerEmail = "sam@sunrise.example"
)

// rowJS is a JavaScript expression: the attribute attr of the first element
// matching sel in the members table row of email ("" when none).
func rowJS(email, sel, attr string) string {
	return `(function () {
  var rows = document.querySelectorAll("table.list tbody tr");
  for (var i = 0; i < rows.length; i++) {
    if (rows[i].textContent.indexOf(` + jsString(email) + `) >= 0) {
      var el = rows[i].querySelector(` + jsString(sel) + `);
      return el ? (el.getAttribute(` + jsString(attr) + `) || el.textContent.trim()) : "";
    }
  }
  return "";
})()`
}

// The owner runs the practice from the console, in a real browser: logs in,
// invites a scheduler, unlocks a clinician locked out by three wrong
// passwords, emails them a temporary password and reads the audit trail —
// every page checked with axe-core and kept as a screenshot (issue 8, point 5).
func TestConsoleOwnerJourney(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test; skipped with -short")
	}
	t.Parallel() // each test has its own frontdesk and browser
	axe := axeSource(t)
	chromiumPath(t)
	dir := artefacts(t)
	fd := startFrontdesk(t, dir, nil)
	fd.createPractice(t, slug, "Sunrise Therapy", ownerEmail, "Olive Owner", ownerPassword)

	// A clinician who works here (invited and accepted outside the browser).
	ctx := context.Background()
	if _, err := fd.app.Onboarding.Invite(ctx, slug, account.Operator(), onboarding.InviteRequest{Email: clinicianEmail,
		Name: "Carl Clinician", Roles: []string{"practitioner"}}, account.Meta{}); err != nil {
		t.Fatal(err)
	}
	link := lineWithPrefix(t, fd.mailText(t, clinicianEmail, 1), fd.base+"/p/"+slug+"/invite?token=")
	token := link[strings.Index(link, "token=")+len("token="):]
	if _, err := fd.app.Onboarding.AcceptInvitation(ctx, slug, token, clinicianPw, clinicianPw, account.Meta{}); err != nil {
		t.Fatal(err)
	}

	b := newTab(t, dir, axe)
	login := fd.base + "/p/" + slug + "/login"

	// The clinician mistypes their password three times: the account locks.
	b.visit(login, "#password")
	b.pageDone("login")
	for i := range 3 {
		b.typeInto("#email", clinicianEmail)
		b.typeInto("#password", "not my password "+string(rune('a'+i)))
		b.click(`main form button[type="submit"]`, "/p/"+slug+"/login", ".error")
	}
	b.pageDone("clinician-locked-out")

	// The owner opens the console and is asked to log in first; the login
	// returns to the console.
	b.visit(fd.base+"/p/"+slug+"/admin", "#password")
	b.typeInto("#email", ownerEmail)
	b.typeInto("#password", ownerPassword)
	b.click(`main form button[type="submit"]`, "/p/"+slug+"/admin/members", "table.list")
	b.pageDone("members")
	if got := b.waitJS("the clinician's status", rowJS(clinicianEmail, ".badge", "class")); !strings.Contains(got, "locked") {
		t.Fatalf("the clinician's badge is %q, want locked", got)
	}

	// Invite a scheduler: type the address, tick the role, send.
	b.click(`a[href$="/admin/invite"]`, "/admin/invite", "#email")
	b.pageDone("invite-form")
	b.typeInto("#email", schedulerEmail)
	b.typeInto("#name", "Sam Scheduler")
	b.click("#role-scheduler", "", "")
	if checked := b.waitJS("the scheduler checkbox", `document.getElementById("role-scheduler").checked ? "yes" : ""`); checked != "yes" {
		t.Fatal("the scheduler role is not ticked")
	}
	b.screenshot("invite-form-filled")
	b.click(`main form button[type="submit"]`, "done=invited", ".notice")
	b.pageDone("invited")
	if got := b.waitJS("the scheduler's status", rowJS(schedulerEmail, ".badge", "class")); !strings.Contains(got, "invited") {
		t.Errorf("the scheduler's badge is %q, want invited", got)
	}
	if roles := b.waitJS("the scheduler's roles", rowJS(schedulerEmail, "td:nth-child(3)", "data-none")); roles != "Scheduler" {
		t.Errorf("the scheduler's roles are %q", roles)
	}
	lineWithPrefix(t, fd.mailText(t, schedulerEmail, 1), fd.base+"/p/"+slug+"/invite?token=")

	// Unlock the clinician, through the confirmation page, with the keyboard
	// only.
	unlock := b.waitJS("the unlock link", rowJS(clinicianEmail, `a[href$="/unlock"]`, "href"))
	b.keyboardTo(`a[href="` + unlock + `"]`)
	b.screenshot("unlock-link-focused")
	b.pressEnter("/unlock")
	b.pageDone("unlock-confirm")
	b.keyboardTo(`main form button[type="submit"]`)
	b.pressEnter("done=unlocked")
	b.pageDone("unlocked")
	if got := b.waitJS("the clinician's status", rowJS(clinicianEmail, ".badge", "class")); !strings.Contains(got, "active") {
		t.Errorf("after unlocking, the clinician's badge is %q, want active", got)
	}

	// Email the clinician a temporary password, through the confirmation page.
	temp := b.waitJS("the temporary-password link", rowJS(clinicianEmail, `a[href$="/temporary-password"]`, "href"))
	b.click(`a[href="`+temp+`"]`, "/temporary-password", `main form button[type="submit"]`)
	b.pageDone("temporary-password-confirm")
	b.click(`main form button[type="submit"]`, "done=temporary", ".notice")
	b.pageDone("temporary-password-sent")
	var tempMail string
	for n := 2; ; n++ {
		if tempMail = fd.mailText(t, clinicianEmail, n); strings.Contains(tempMail, "Temporary password: ") {
			break
		}
	}
	tempPw := strings.TrimPrefix(lineWithPrefix(t, tempMail, "Temporary password: "), "Temporary password: ")
	if tempPw == "" || strings.Contains(b.text("main"), tempPw) {
		t.Fatal("the temporary password is empty or was shown to the owner")
	}

	// The clinician's member page (roles, supervision, options, overrides,
	// emergency access), the invitations, apps and sign-in settings pages pass the same
	// accessibility check.
	member := b.waitJS("the clinician's page link", rowJS(clinicianEmail, "td:first-child a", "href"))
	b.click(`a[href="`+member+`"]`, "/admin/members/", "h1")
	b.pageDone("member-page")
	b.click(`nav a[href$="/admin/invitations"]`, "/admin/invitations", "h1")
	b.pageDone("invitations")
	b.click(`nav a[href$="/admin/apps"]`, "/admin/apps", "h1")
	b.pageDone("apps")
	b.click(`nav a[href$="/admin/sign-in"]`, "/admin/sign-in", "#sso-client-secret")
	b.pageDone("sign-in")

	// Read the audit trail: each of these steps is there.
	b.click(`nav a[href$="/admin/audit"]`, "/admin/audit", "table.list")
	b.pageDone("audit-trail")
	trail := b.text("table.list tbody")
	for _, action := range []string{"member.lock", "member.invite", "member.unlock", "password.temporary", "login"} {
		if !strings.Contains(trail, action) {
			t.Errorf("the audit trail does not show %s:\n%s", action, trail)
		}
	}
	b.typeInto("#action", "member.")
	b.click(`main form.filters button[type="submit"]`, "action=member.", "table.list")
	b.pageDone("audit-trail-filtered")
	if filtered := b.text("table.list tbody"); strings.Contains(filtered, "password.temporary") ||
		!strings.Contains(filtered, "member.unlock") {
		t.Errorf("the filtered audit trail:\n%s", filtered)
	}

	// The role editor is part of the console too.
	b.click(`nav a[href$="/admin/roles"]`, "/admin/roles", "h1")
	b.pageDone("roles")

	// The owner logs out; the clinician, unlocked, logs in with the emailed
	// temporary password and must choose their own before anything else.
	b.click(`nav a[href="/p/`+slug+`/"]`, "/p/"+slug+"/", "#member-email")
	b.click(`form[action$="/logout"] button`, "/p/"+slug+"/login", "#password")
	b.typeInto("#email", clinicianEmail)
	b.typeInto("#password", tempPw)
	b.click(`main form button[type="submit"]`, "/p/"+slug+"/", "#new_password")
	b.pageDone("clinician-choose-password")
	const chosen = "saffron ladder meadow forty one"
	b.typeInto("#new_password", chosen)
	b.typeInto("#confirm_password", chosen)
	// A passkey is offered next; "Not now" goes on to the account page.
	b.click(`main form[action$="/new-password"] button[type="submit"]`, "/p/"+slug+"/add-passkey", "#passkey-skip")
	b.pageDone("clinician-passkey-offer")
	b.click(`#passkey-skip`, "/p/"+slug+"/", "#member-email")
	b.pageDone("clinician-signed-in")
	if got := b.text("#member-email"); got != clinicianEmail {
		t.Errorf("signed in as %q, want the clinician", got)
	}
}
