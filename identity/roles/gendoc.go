package roles

import (
	"bytes"
	"fmt"
	"slices"
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
	w("A scoped permission must be written with a scope; the catalogue lists the scopes each one has (the ones that ")
	w("name different things for it: a schedule is one's own or everyone's, a client is assigned or not), and the ")
	w("console's roles editor offers those. What is granted anew — a role's permissions, a member's granting ")
	w("override, emergency access — must carry one of those scopes (`schedule.view:assigned` is refused: ")
	w("\"schedule.view is limited to :own or :all\"); a role or override saved before that check keeps what it ")
	w("holds and can still be edited, and a denial may name any scope (denying the narrowest, `billing.view:own`, ")
	w("denies them all).\n\n")

	w("## Catalogue\n")
	group := ""
	for _, e := range Catalogue() {
		if e.Group != group {
			group = e.Group
			w("\n### %s\n\n| permission | scopes | allows |\n| --- | --- | --- |\n", group)
		}
		scopes := "—"
		if e.Scoped() {
			var list []string
			for _, sc := range e.Scopes {
				list = append(list, "`"+string(sc)+"`")
			}
			scopes = strings.Join(list, ", ")
		}
		w("| `%s` | %s | %s |\n", e.Name, scopes, e.Description)
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
	w("- **Who staffs whom.** Every role lists the roles its holders may give (`gives`); giving means any path that ends ")
	w("with someone holding a role or permission. One function decides (`roles.Service.MayGive`, `GivableRoles`; ")
	w("`account.Service.MayGrantRoles` and `GrantableRoles` call it). The giver does not need to hold what they give: a ")
	w("Practice Administrator staffs Clinicians without clinical access of their own. A refusal names the role in words ")
	w("(\"You can't give the Practice Biller role; ask the practice owner.\"), never a permission string.\n")
	w("- The invariants, checked whenever role definitions are stored (`CheckSet`) and again at every gift:\n")
	w("  1. **Owner roles are given only by owners.** The `%s` role gives every role of the practice, itself ", OwnerRole)
	w("included; no other role gives it. The operator CLI (audited, actor `operator`) may give every role.\n")
	w("  2. **No ladder.** Nobody gives a role whose holders could give a role the giver cannot: if role A gives B, ")
	w("A gives everything B gives.\n")
	w("  3. **Permissions travel only inside roles one may give.** An override, a member option, emergency access, a ")
	w("toggle or a role definition gives a permission only when some role the giver may give already includes it. ")
	w("Changing a role (its permissions or what it gives) needs roles.define and that the changer may give the role and ")
	w("every role it will give.\n")
	w("  4. **Only those who staff a member change them.** Changing a member's roles (adding or taking away), overrides, ")
	w("member options, supervisors, emergency access, reactivating, deactivating them or revoking their passkeys needs ")
	w("that the actor may give every role the member holds: an administrator cannot strip, narrow, demote or remove an owner ")
	w("(deactivation and passkey revocation ask identity/account's MayStaff).\n")
	w("- The paths, each wired through the model: inviting and re-sending an invitation, re-inviting an address with a ")
	w("pending invitation (which also answers 409 first), assigning and unassigning roles, a single sign-on provider's ")
	w("join role (whoever sets it) and approving a join request (whoever approves, at approval), overrides and member ")
	w("options, supervision, emergency access, reactivation, toggles and role definitions — in the admin API, the ")
	w("console and the CLI. Each also needs its own permission (`%s` to invite and decide joins, `%s` for ", PermManageMembers, PermAssign)
	w("roles, overrides and supervision, `%s` for definitions and toggles, `%s` for emergency access, ", PermDefine, PermGrantElevation)
	w("`%s` for SSO providers). A test lists every admin API and console route and fails on one that gives ", PermEditSettings)
	w("access without the model.\n")
	w("- Forms and the API offer only what the person may give (`GET …/roles` lists the keys the caller may give in `givable`).\n")
	w("- Practices created before delegation (migration 00016) got their preset's `gives` at the first start after it; ")
	w("nobody's roles, overrides or permissions changed, and one audit event per practice (`%s`) lists, for ", ActionDelegationMigrated)
	w("each role, what its holders could give before and may give now, and each role whose permissions differ from the ")
	w("current preset (for example an Account Owner who still deletes signed notes, kept until an owner edits the role).\n")
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
		w("Who staffs whom (a role not listed gives nothing):\n\n| role | gives |\n| --- | --- |\n")
		for _, r := range p.Roles {
			if len(r.Gives) > 0 {
				var names []string
				for _, g := range p.Roles {
					if slices.Contains(r.Gives, g.Key) {
						names = append(names, g.Name)
					}
				}
				w("| %s | %s |\n", r.Name, strings.Join(names, ", "))
			}
		}
		for _, d := range delegationDecisions(p.Key) {
			w("\n- %s", d)
		}
		w("\n\n| role | name | constraints | permissions |\n| --- | --- | --- | --- |\n")
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

// delegationDecisions are what each preset's seed says about who staffs whom,
// and the decisions taken where it is silent.
func delegationDecisions(preset string) []string {
	switch preset {
	case "therapynotes":
		return []string{
			"Seed 000: \"Only Practice Administrators may change a user's roles\"; the Practice Administrator creates users and " +
				"assigns their roles with no clinical access of its own, so it gives every role but Account Owner.",
			"Seed 000: Clinical Administrators \"are the only users able to delete a signed note\": the Account Owner no longer " +
				"holds `clinical_notes.delete_signed:all` (it still gives the Clinical Administrator role).",
			"Decision: a Practice Administrator may give another Practice Administrator and may give a role to themselves " +
				"(the seed lets them change their own roles).",
		}
	case "aba":
		return []string{
			"Seed 001: Main Admin has everything except the data-collection app and is the only role with user permission " +
				"settings (`roles.assign`, `roles.define`), the audit trail and unlocking. The practice's creator gets Main Admin " +
				"only, so they cannot log in to the data-collection app; Main Admin still gives every clinical role.",
			"Seed 001: Office Staff Admin has everything except the data-collection app, the audit trail, user permissions and " +
				"locked users: it invites staff and resets passwords. Decision: it gives every staff role (CD, ACD, analysts, BT, " +
				"Office Staff) but not Office Staff Admin or Main Admin, which are user-permission decisions; without " +
				"`roles.assign` it chooses roles when inviting and does not change an existing member's roles.",
			"Decision: the Clinical Director, who \"usually has administrative permissions\" (`members.manage`), invites the " +
				"clinical ladder below it (ACD, analysts, BT); it does not make another Clinical Director.",
		}
	case "zencare":
		return []string{"Seed 002: the Practice Owner is \"the only type that adds and edits user access\": only owners give roles."}
	case "sessions":
		return []string{
			"Seed 003: administrators \"manage all other members\" and add supervisors: the Administrator gives every role " +
				"but Account Owner, including Administrator.",
			"Decision: the member option \"Full clinical access to all clients\" grants clinical permissions no role an " +
				"Administrator gives includes, so only an Account Owner turns it on; \"Billing off\" only takes away and any " +
				"Administrator may turn it on.",
		}
	case "manager-module":
		return []string{
			"Seed 004: user access is created in the Manager Module. Office Staff gives the provider types and Office Staff, " +
				"which takes effect only with the Manager Module tab (member option `tab_manager`: `members.manage`, " +
				"`roles.assign`, `passwords.reset`).",
			"Decision: no role but the Practice Owner includes the Manager Module tab's permissions, so only a Practice Owner " +
				"gives the tab: Office Staff with the tab cannot hand it on (no ladder).",
		}
	}
	return nil
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
