package roles

import (
	"bytes"
	"fmt"
	"strings"
	"time"
)

//go:generate go run ./cmd/gendoc -o ../../docs/roles.md

// Doc renders docs/roles.md — the permission catalogue, the rules of the
// role model and every preset — from the code, so the document cannot drift.
// TestDocIsCurrent fails when the committed file differs; `go generate
// ./identity/roles` rewrites it.
func Doc() []byte {
	var b bytes.Buffer
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	w("# Roles and permissions\n\n")
	w("<!-- Generated from identity/roles by `go generate ./identity/roles`; do not edit. -->\n\n")
	w("A practice's members hold **roles**; roles grant **permissions**; practice-wide **toggles** and ")
	w("per-member **overrides** adjust them; an emergency **elevation** adds to them for a few hours. ")
	w("Tokens carry the role keys (`roles`) and the effective permissions (`permissions`). ")
	w("Each practice starts from a **preset** that reproduces the access model of the product it is ")
	w("moving from (`frontdesk practice presets`, `GET /api/v1/practices/{practice}/presets`, `frontdesk practice create --preset KEY`); ")
	w("without `--preset` a practice gets `%s`.\n\n", DefaultPreset)

	w("## Permission strings\n\n")
	w("A permission is `resource.action` with an optional scope: `resource.action:scope`. Scopes, narrowest first:\n\n")
	w("| scope | covers |\n| --- | --- |\n")
	for _, sc := range []struct {
		s    Scope
		what string
	}{
		{ScopeOwn, "the member's own things: their own schedule, notes they wrote, their own profile"},
		{ScopeAssigned, "things assigned to them: clients they are assigned to (primary, other practitioner, granted access)"},
		{ScopeSupervisees, "their assigned things and those of the members they supervise"},
		{ScopeAll, "everything in the practice"},
	} {
		w("| `%s` | %s |\n", sc.s, sc.what)
	}
	w("\nA broader scope implies every narrower one (`clients.view:all` satisfies a check for ")
	w("`clients.view:assigned`). A permission without a scope is unrestricted. `app.*.login` implies ")
	w("`app.X.login` for every app. The one definition, in Go, is `identity/enforce` (`ParsePermission`, `Implies`): ")
	w("frontdesk's `identity/roles` uses it and so do the apps, which never parse the strings themselves. ")
	w("Scoped permissions in the catalogue must be written with a scope.\n\n")

	w("## Catalogue\n")
	group := ""
	for _, e := range Catalogue() {
		if e.Group != group {
			group = e.Group
			w("\n### %s\n\n| permission | scoped | allows |\n| --- | --- | --- |\n", group)
		}
		scoped := "no"
		if e.Scoped {
			scoped = "yes"
		}
		w("| `%s` | %s | %s |\n", e.Name, scoped, e.Description)
	}
	w("\nThe presets name two apps: `%s` (the practice-management portal) and `%s` (a clinical ", AppPortal, AppDataCollection)
	w("data-collection app), used by the `aba` preset; the others grant `app.*.login`. A client in ")
	w("`clients` with `require_permission: app.<id>.login` admits only members holding it.\n\n")

	w("## Effective permissions\n\n")
	w("Computed when a token is issued, so every change reaches new tokens at once:\n\n")
	w("1. each role the member holds contributes its permissions, changed by every toggle that is on and names that role ")
	w("(a toggle narrowing Therapists does not narrow the same person's Owner role);\n")
	w("2. the union over the member's roles;\n")
	w("3. the member's overrides: a grant adds a permission; a denial removes it and every broader scope of it ")
	w("(deny `billing.view:own` to remove billing entirely);\n")
	w("4. active emergency elevations add their permissions until they expire.\n\n")
	w("Lists are sorted; a permission implied by another in the list is dropped.\n\n")

	w("## Rules frontdesk enforces on itself\n\n")
	w("- Changing a member's roles, overrides or supervisors needs `%s`; role definitions and toggles need `%s`; ", PermAssign, PermDefine)
	w("emergency elevation needs `%s`.\n", PermGrantElevation)
	w("- Nobody grants a permission they do not hold: every permission a change gives anyone must be implied by ")
	w("the actor's own permissions (elevations do not count). Some seed products are looser: TherapyNotes' Practice ")
	w("Administrator, the ABA portal's Main Admin (who lacks the data-collection app), Sessions Health's Administrator and ")
	w("a Manager Module user assign roles whose permissions they do not hold. frontdesk keeps the strict rule; in those ")
	w("practices an owner (the preset's owner roles hold every permission the preset uses) assigns such roles.\n")
	w("- The same rule holds on every other path that ends with someone holding a role or permission: inviting and ")
	w("resending an invitation (the invitation's roles), reactivating a member (everything they held), a single sign-on ")
	w("provider's join role (whoever sets it must be allowed to give it) and approving a join request (the approver, at ")
	w("approval, whoever set the provider up). Accepting an invitation gives exactly its roles; no join is approved ")
	w("automatically.\n")
	w("- Roles meet their constraints: `requires` (a Clinical Administrator must also be a Clinician) and `exclusive`.\n")
	w("- A practice always keeps a member (not deactivated) who holds both `%s` and `%s`; the change that would ", PermManageMembers, PermAssign)
	w("remove the last one is refused. There may be several owners.\n")
	w("- Every change is an audit event (`role.assign`, `role.override`, `role.supervisors`, `role.toggle`, `role.define`, ")
	w("`role.delete`, `elevation.grant`, `elevation.end`) with `before` and `after`; a refused change is audited as a failure.\n")
	w("- Every preset has a role with key `%s`, its top administrator; the practice's creator gets the preset's owner roles.\n\n", OwnerRole)

	w("## Supervision and emergency access\n\n")
	w("A member may have any number of supervisors, each with co-signature requirements for notes and/or treatment plans. ")
	w("A supervisor must hold a `:supervisees` permission (the matching `cosign` permission when co-signature is required). ")
	w("A supervisor's tokens carry those permissions with the `:supervisees` scope. With the `practitioner` scope, ID tokens ")
	w("and userinfo list a member's supervisors (`supervisors`), the supervisors who must co-sign their notes (`cosign_notes`) ")
	w("and treatment plans (`cosign_treatment_plans`), and for a supervisor whom they supervise (`supervisees`).\n\n")
	w("Emergency (break-glass) access grants listed permissions to a member for a limited time (default %s, at most %s) ", fmtDuration(DefaultElevation), fmtDuration(MaxElevation))
	w("with a mandatory reason. It never grants Administration permissions. It is audited, and emails the members who hold `%s` (queued in the mail outbox in the transaction that grants it), ", PermAudit)
	w("and ends on its own. Tokens issued while it runs carry the elevated permissions in `permissions` and the claim ")
	w("`elevated_until` (seconds since the epoch); their access tokens expire no later than the elevation, and tokens issued ")
	w("after it no longer carry it.\n\n")

	w("## Presets\n")
	for _, p := range Presets() {
		def := ""
		if p.Key == DefaultPreset {
			def = " (default)"
		}
		w("\n### `%s` — %s%s\n\n%s\n\nThe practice's creator gets: %s.\n\n", p.Key, p.Name, def, p.Description, codeList(p.OwnerRoles))
		w("| role | name | constraints | permissions |\n| --- | --- | --- | --- |\n")
		for _, r := range p.Roles {
			var cons []string
			if len(r.Requires) > 0 {
				cons = append(cons, "requires "+codeList(r.Requires))
			}
			if len(r.Exclusive) > 0 {
				cons = append(cons, "not with "+codeList(r.Exclusive))
			}
			w("| `%s` | %s — %s | %s | %s |\n", r.Key, r.Name, r.Description, strings.Join(cons, "; "), codeList(r.Permissions))
		}
		if len(p.Toggles) > 0 {
			w("\nPractice toggles:\n\n| toggle | default | roles | when on |\n| --- | --- | --- | --- |\n")
			for _, t := range p.Toggles {
				on := "off"
				if t.Default {
					on = "on"
				}
				var eff []string
				if len(t.On.Revoke) > 0 {
					eff = append(eff, "removes "+codeList(t.On.Revoke))
				}
				if len(t.On.Grant) > 0 {
					eff = append(eff, "adds "+codeList(t.On.Grant))
				}
				desc := t.Name
				if t.Description != "" {
					desc += ". " + t.Description
				}
				w("| `%s` — %s | %s | %s | %s |\n", t.Key, desc, on, codeList(t.Roles), strings.Join(eff, "; "))
			}
		}
		if len(p.MemberOptions) > 0 {
			w("\nMember options (per-member overrides):\n\n| option | overrides |\n| --- | --- |\n")
			for _, o := range p.MemberOptions {
				var ov []string
				for _, x := range o.Overrides {
					sign := "deny "
					if x.Grant {
						sign = "grant "
					}
					ov = append(ov, sign+"`"+x.Permission+"`")
				}
				w("| `%s` — %s | %s |\n", o.Key, o.Name, strings.Join(ov, ", "))
			}
		}
	}
	return b.Bytes()
}

func codeList(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return "`" + strings.Join(v, "`, `") + "`"
}

func fmtDuration(d time.Duration) string {
	return fmt.Sprintf("%g hours", d.Hours())
}
