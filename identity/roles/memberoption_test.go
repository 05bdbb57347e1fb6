package roles

import "testing"

func TestMemberOptionOnFor(t *testing.T) {
	opt := MemberOption{Key: "tab", Overrides: []Override{{"schedule.view:all", true}, {"schedule.edit:all", true}}}
	for _, tc := range []struct {
		name    string
		current []Override
		on      bool
	}{
		{"none", nil, false},
		{"one of two", []Override{{"schedule.view:all", true}}, false},
		{"both, and more", []Override{{"clients.view:all", true}, {"schedule.edit:all", true}, {"schedule.view:all", true}}, true},
		{"opposite effect", []Override{{"schedule.view:all", false}, {"schedule.edit:all", true}}, false},
	} {
		if got := opt.OnFor(tc.current); got != tc.on {
			t.Errorf("%s: OnFor = %v, want %v", tc.name, got, tc.on)
		}
	}
	if (MemberOption{Key: "empty"}).OnFor([]Override{{"x.y", true}}) {
		t.Error("an option without overrides is never on")
	}
}
