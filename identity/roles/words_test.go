package roles

import "testing"

func TestDescribe(t *testing.T) {
	for _, tt := range []struct {
		perm, want string
		ok         bool
	}{
		{"schedule.view:own", "See appointment schedules (their own schedule)", true},
		{"schedule.view:all", "See appointment schedules (everyone in the practice)", true},
		{"clinical_notes.view:own", "Read clinical notes: progress and session notes (notes they wrote)", true},
		{"clinical_notes.cosign:supervisees", "Co-sign clinical notes that need a supervisor's signature (their supervisees')", true},
		{"clinical_notes.view:supervisees", "Read clinical notes: progress and session notes (theirs and their supervisees')", true},
		{"clients.view:assigned", "See clients' contact details (name, phone, email, address), not their clinical records (clients assigned to them)", true},
		{PermUnlock, "", true},
		{PermLoginAnyApp, "Log in to every app", true},
		{AppLoginPermission("ehr"), "Log in to the app ehr", true},
		{"spaceships.fly", "", false},
		{"Not A Permission", "", false},
	} {
		got, ok := Describe(tt.perm)
		if ok != tt.ok || tt.want != "" && got != tt.want || ok && got == "" {
			t.Errorf("Describe(%q) = %q, %v; want %q, %v", tt.perm, got, ok, tt.want, tt.ok)
		}
	}
	if got := PermissionWords("spaceships.fly"); got != "“spaceships.fly”" {
		t.Errorf("PermissionWords of an unknown string = %q", got)
	}
	if got := PermissionWords("schedule.view:own"); got != "“See appointment schedules (their own schedule)”" {
		t.Errorf("PermissionWords = %q", got)
	}
}
