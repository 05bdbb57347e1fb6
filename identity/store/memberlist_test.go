package store_test

import (
	"context"
	"slices"
	"testing"

	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

// The console's multi-role filter: Roles keeps members holding at least one
// of the keys; it combines with Role, Query and Status; nil or empty means
// every role.
func TestListMembersByRoles(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		p := seedPractice(t, s, "sunrise")
		other := seedPractice(t, s, "harbor")
		seedMember(t, s, p, "a", "a@example.org", "clinician")
		seedMember(t, s, p, "b", "b@example.org", "biller", "clinician")
		seedMember(t, s, p, "c", "c@example.org", "scheduler")
		seedMember(t, s, p, "d", "d@example.org")
		seedMember(t, s, other, "x", "x@example.org", "clinician")
		tests := []struct {
			name string
			f    store.MemberFilter
			want []string
		}{
			{"no filter", store.MemberFilter{}, []string{"a", "b", "c", "d"}},
			{"empty list", store.MemberFilter{Roles: []string{}}, []string{"a", "b", "c", "d"}},
			{"one role", store.MemberFilter{Roles: []string{"clinician"}}, []string{"a", "b"}},
			{"two roles", store.MemberFilter{Roles: []string{"scheduler", "biller"}}, []string{"b", "c"}},
			{"unknown role", store.MemberFilter{Roles: []string{"nobody"}}, nil},
			{"with Role", store.MemberFilter{Role: "biller", Roles: []string{"clinician", "scheduler"}}, []string{"b"}},
			{"with query", store.MemberFilter{Query: "c@", Roles: []string{"clinician", "scheduler"}}, []string{"c"}},
			{"duplicates", store.MemberFilter{Roles: []string{"clinician", "clinician"}}, []string{"a", "b"}},
		}
		for _, tt := range tests {
			tt.f.PracticeID = p.ID
			ms, _, err := s.ListMembers(ctx, tt.f)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			var got []string
			for _, m := range ms {
				got = append(got, m.ID)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
			}
		}
		// More keys than the bound are cut, not an error.
		many := make([]string, 80)
		for i := range many {
			many[i] = "r" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		}
		if _, _, err := s.ListMembers(ctx, store.MemberFilter{PracticeID: p.ID, Roles: many}); err != nil {
			t.Errorf("80 role keys: %v", err)
		}
	})
}
