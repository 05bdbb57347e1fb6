package httpserver

import (
	"strings"
	"testing"
)

// Every audit action reads as a sentence about people: the actor's name and
// role, the verb, the subject's name; refusals say so; no action code, ID or
// permission string is the sentence.
func TestDescribeAudit(t *testing.T) {
	dana := &auditPerson{ID: "m1", Name: "Dana Reyes", Email: "dana@example.org", Roles: "Practice Administrator"}
	sam := &auditPerson{ID: "m2", Name: "Sam Lee", Email: "sam@example.org", Roles: "Clinician"}
	samSelf := &auditPerson{ID: "m2", Name: "Sam Lee", Roles: "Clinician"}
	tests := []struct {
		action, outcome string
		actor, subject  *auditPerson
		details, want   string
	}{
		{"member.unlock", "success", dana, sam, "{}", "Dana Reyes (Practice Administrator) unlocked the account of Sam Lee"},
		{"member.unlock", "failure", sam, dana, `{"reason":"account: forbidden: this needs the accounts.unlock permission"}`,
			"Sam Lee (Clinician) tried to unlock the account of Dana Reyes (refused)"},
		{"member.lock", "success", nil, sam, "{}", "The account of Sam Lee was locked after failed password attempts"},
		{"login", "failure", nil, sam, "{}", "A login to the account of Sam Lee failed"},
		{"login", "failure", nil, nil, "{}", "A login failed for an address that is not a member"},
		{"login", "success", samSelf, sam, "{}", "Sam Lee (Clinician) logged in"},
		{"password.change", "success", samSelf, sam, "{}", "Sam Lee (Clinician) changed their password"},
		{"password.temporary", "success", dana, sam, "{}", "Dana Reyes (Practice Administrator) emailed a temporary password to Sam Lee"},
		{"member.invite", "success", dana, sam, "{}", "Dana Reyes (Practice Administrator) invited Sam Lee"},
		{"practice.settings", "success", dana, nil, "{}", "Dana Reyes (Practice Administrator) changed the practice settings"},
		{"role.assign", "success", nil, sam, "{}", "The operator changed the roles of Sam Lee"},
		{"sso.join.pending", "success", dana, sam, "{}", "Dana Reyes (Practice Administrator) rejected the single sign-on join request of Sam Lee"},
		{"role.define", "success", dana, nil, `{"after":"Intake Coordinator [clients.create clients.view:all]","role":"intake"}`,
			"Dana Reyes (Practice Administrator) created the role Intake Coordinator"},
		{"role.define", "success", dana, nil, `{"after":"Intake [clients.create]","before":"Intake Coordinator [clients.create clients.view:all]","role":"intake"}`,
			"Dana Reyes (Practice Administrator) changed the role Intake"},
		{"role.define", "failure", sam, nil, `{"after":"Intake [clients.create]","before":"Intake [clients.view:all]","role":"intake","reason":"x"}`,
			"Sam Lee (Clinician) tried to change the role Intake (refused): x"},
		{"role.delete", "success", dana, nil, `{"before":"Intake [clients.create] requires practitioner","role":"intake"}`,
			"Dana Reyes (Practice Administrator) deleted the role Intake"},
		{"role.delete", "failure", dana, nil, `{"role":"owner","reason":"x"}`,
			"Dana Reyes (Practice Administrator) tried to delete the role owner (refused): x"},
		{"brand.new", "success", dana, sam, "{}", "Dana Reyes (Practice Administrator): brand.new — Sam Lee"},
	}
	for _, tt := range tests {
		if got := describeAudit(tt.action, tt.outcome, tt.actor, tt.subject, tt.details); got != tt.want {
			t.Errorf("%s/%s: %q\nwant %q", tt.action, tt.outcome, got, tt.want)
		}
	}
	// Every known action, as success and failure, with and without people.
	for action := range auditPhrases() {
		for _, outcome := range []string{"success", "failure"} {
			for _, people := range [][2]*auditPerson{{dana, sam}, {nil, sam}, {dana, nil}, {nil, nil}, {samSelf, sam}} {
				got := describeAudit(action, outcome, people[0], people[1], `{"reason":"x"}`)
				if got == "" || (strings.Contains(action, ".") && strings.Contains(got, action)) || strings.Contains(got, "m1") || strings.Contains(got, ".view") {
					t.Errorf("%s/%s %v: %q", action, outcome, people, got)
				}
				if outcome == "failure" && action != "login" && action != "login.throttle" && action != "sso.signin" &&
					action != "member.lock" && !strings.Contains(got, "refused") {
					t.Errorf("%s/failure does not say it was refused: %q", action, got)
				}
			}
		}
	}
}
