package httpserver

import (
	"encoding/json"
	"strings"

	"github.com/frontdeskhq/frontdesk/identity/roles"
)

// auditPhrase is an audit action in words: past is what the actor did
// ("unlocked the account of"), try the same after "tried to" for a refused
// attempt ("unlock the account of"); subject says whether the subject's name
// follows. self is used when the actor acted on themselves ("changed their
// password").
type auditPhrase struct {
	past, try string
	subject   bool
	self      string
}

// auditPhrases are the actions frontdesk records, in words a compliance
// reviewer reads. An action missing here is shown by its code, so a new
// action is never hidden; TestAuditActionsHaveWords lists the ones in code.
func auditPhrases() map[string]auditPhrase {
	return map[string]auditPhrase{
		"login":                  {past: "logged in", try: "log in"},
		"logout":                 {past: "logged out", try: "log out"},
		"login.throttle":         {past: "was slowed down after many failed logins", try: "log in"},
		"reauthenticate":         {past: "confirmed their password", try: "confirm their password"},
		"session.create":         {past: "started a session", try: "start a session"},
		"member.invite":          {past: "invited", try: "invite", subject: true},
		"member.create":          {past: "created access for", try: "create access for", subject: true},
		"member.lock":            {past: "locked the account of", try: "lock the account of", subject: true},
		"member.unlock":          {past: "unlocked the account of", try: "unlock the account of", subject: true},
		"member.deactivate":      {past: "deactivated", try: "deactivate", subject: true},
		"member.reactivate":      {past: "reactivated", try: "reactivate", subject: true},
		"member.profile":         {past: "changed the profile of", try: "change the profile of", subject: true, self: "changed their profile"},
		"invitation.accept":      {past: "accepted the invitation of", try: "accept the invitation of", subject: true, self: "accepted their invitation"},
		"invitation.resend":      {past: "resent the invitation of", try: "resend the invitation of", subject: true},
		"invitation.revoke":      {past: "revoked the invitation of", try: "revoke the invitation of", subject: true},
		"password.change":        {past: "changed the password of", try: "change the password of", subject: true, self: "changed their password"},
		"password.set":           {past: "set the password of", try: "set the password of", subject: true, self: "set their password"},
		"password.temporary":     {past: "emailed a temporary password to", try: "email a temporary password to", subject: true},
		"password.reset_request": {past: "asked for a password reset for", try: "ask for a password reset for", subject: true, self: "asked for a password reset"},
		"passkey.register":       {past: "added a passkey for", try: "add a passkey for", subject: true, self: "added a passkey"},
		"passkey.rename":         {past: "renamed a passkey of", try: "rename a passkey of", subject: true, self: "renamed a passkey"},
		"passkey.remove":         {past: "removed a passkey of", try: "remove a passkey of", subject: true, self: "removed a passkey"},
		"passkey.revoke_all":     {past: "removed every passkey of", try: "remove every passkey of", subject: true, self: "removed every passkey of their own"},
		"passkey.offer_declined": {past: "declined to add a passkey", try: "decline a passkey"},
		"role.assign":            {past: "changed the roles of", try: "change the roles of", subject: true},
		"role.override":          {past: "changed the permission overrides of", try: "change the permission overrides of", subject: true},
		"role.supervisors":       {past: "changed the supervisors of", try: "change the supervisors of", subject: true},
		"role.toggle":            {past: "changed a practice toggle", try: "change a practice toggle"},
		"role.define":            {past: "changed a role", try: "change a role"},
		"role.delete":            {past: "deleted a role", try: "delete a role"},
		// The action code of a grant is spelled like the permission it needs.
		roles.PermGrantElevation: {past: "granted emergency access to", try: "grant emergency access to", subject: true},
		"elevation.end":          {past: "ended the emergency access of", try: "end the emergency access of", subject: true},
		"practice.create":        {past: "created the practice", try: "create the practice"},
		"practice.login_policy":  {past: "changed the sign-in policy", try: "change the sign-in policy"},
		"practice.settings":      {past: "changed the practice settings", try: "change the practice settings"},
		"app.register":           {past: "registered an app", try: "register an app"},
		"app.update":             {past: "changed an app", try: "change an app"},
		"app.remove":             {past: "removed an app", try: "remove an app"},
		"app.rotate_secret":      {past: "issued a new secret for an app", try: "issue a new app secret"},
		"sso.signin":             {past: "signed in with single sign-on", try: "sign in with single sign-on"},
		"sso.link":               {past: "linked a single sign-on account", try: "link a single sign-on account"},
		"sso.unlink":             {past: "unlinked a single sign-on account of", try: "unlink a single sign-on account of", subject: true, self: "unlinked a single sign-on account"},
		"sso.join.request":       {past: "asked to join through single sign-on", try: "ask to join through single sign-on"},
		"sso.join.approved":      {past: "approved the single sign-on join request of", try: "approve the join request of", subject: true},
		"sso.join.rejected":      {past: "rejected the single sign-on join request of", try: "reject the join request of", subject: true},
		"sso.provider.add":       {past: "added a single sign-on provider", try: "add a single sign-on provider"},
		"sso.provider.remove":    {past: "removed a single sign-on provider", try: "remove a single sign-on provider"},
	}
}

// auditPerson is how a person appears in the audit trail.
type auditPerson struct {
	ID    string
	Name  string // display name, legal name or email; "" when unknown
	Email string
	Roles string // role names, ", "-joined
}

// Label is "Dana Reyes (Practice Administrator)", or the name alone.
func (p auditPerson) Label() string {
	if p.Roles == "" {
		return p.Name
	}
	return p.Name + " (" + p.Roles + ")"
}

// describeAudit puts an event in words: "Dana Reyes (Practice
// Administrator) unlocked the account of Sam Lee". Unknown actions keep
// their code; a refused attempt reads "… tried to … (refused)".
func describeAudit(action, outcome string, actor, subject *auditPerson, details string) string {
	ph, known := auditPhrases()[action]
	if !known {
		if strings.HasPrefix(action, "sso.join.") {
			ph, known = auditPhrases()["sso.join.rejected"], true
		}
	}
	failed := outcome == "failure"
	if !known {
		w := "Action " + action
		if actor != nil {
			w = actor.Label() + ": " + action
		}
		if subject != nil {
			w += " — " + subject.Name
		}
		if failed {
			w += " (refused)"
		}
		return w
	}
	// Logins without a known actor: someone tried the subject's account.
	if actor == nil && (action == "login" || action == "login.throttle" || action == "sso.signin") {
		switch {
		case subject == nil && failed:
			return "A login failed for an address that is not a member"
		case subject == nil:
			return "Someone " + ph.past
		case action == "login.throttle":
			return "Logins to the account of " + subject.Name + " were slowed down after many failures"
		case failed:
			return "A login to the account of " + subject.Name + " failed"
		default:
			return subject.Label() + " " + ph.past
		}
	}
	if action == "member.lock" && !failed {
		if subject == nil {
			return "An account was locked after failed password attempts"
		}
		return "The account of " + subject.Name + " was locked after failed password attempts"
	}
	if name, created := auditRole(action, details); name != "" {
		// Which role, and whether it was new: "created the role Intake".
		switch {
		case action == "role.delete":
			ph.past, ph.try = "deleted the role "+name, "delete the role "+name
		case created:
			ph.past, ph.try = "created the role "+name, "create the role "+name
		default:
			ph.past, ph.try = "changed the role "+name, "change the role "+name
		}
	}
	who := "The operator"
	if actor != nil {
		who = actor.Label()
	}
	same := actor != nil && subject != nil && actor.ID == subject.ID
	var w string
	switch {
	case same && ph.self != "" && !failed:
		w = who + " " + ph.self
	case ph.subject && subject != nil && failed:
		w = who + " tried to " + ph.try + " " + subject.Name + " (refused)"
	case ph.subject && subject != nil:
		w = who + " " + ph.past + " " + subject.Name
	case ph.subject && failed:
		w = who + " tried to " + ph.try + " a member (refused)"
	case ph.subject:
		w = who + " " + ph.past + " a member"
	case failed:
		w = who + " tried to " + ph.try + " (refused)"
	default:
		w = who + " " + ph.past
	}
	if reason := detailReason(details); failed && reason != "" {
		w += ": " + reason
	}
	return w
}

// auditRole is the role a role.define or role.delete event concerns, by its
// name as the event's details describe it ("Intake [clients.create …]",
// roles.describeRole), else by its key; created is a definition with nothing
// before it. "" for other actions or details without a role.
func auditRole(action, details string) (name string, created bool) {
	if action != "role.define" && action != "role.delete" {
		return "", false
	}
	var d map[string]string
	if json.Unmarshal([]byte(details), &d) != nil || d["role"] == "" {
		return "", false
	}
	described := d["after"]
	if action == "role.delete" {
		described = d["before"]
	}
	name = d["role"]
	if i := strings.LastIndex(described, " ["); i > 0 {
		name = described[:i]
	}
	return name, action == "role.define" && d["before"] == ""
}

// detailReason is a refusal's stated reason from the details JSON, when it
// is plain words (the services' public texts); permission strings and Go
// error texts are left out.
func detailReason(details string) string {
	var d map[string]string
	if json.Unmarshal([]byte(details), &d) != nil {
		return ""
	}
	r := d["reason"]
	if r == "" || strings.ContainsAny(r, ":{}") || strings.Contains(r, "permission") {
		return ""
	}
	return r
}
