package oidc

import (
	"encoding/json"
	"testing"

	"github.com/frontdeskhq/frontdesk/identity/store"
)

// The practitioner scope's claims carry the profile an administrator edits:
// legal name, preferred (display) name, credentials, NPI and taxonomy code.
func TestPractitionerClaimsCarryProfile(t *testing.T) {
	g := &grant{member: &store.Member{DisplayName: "Sam Lee", LegalName: "Samuel J. Lee", Credentials: "LCSW",
		NPI: "1234567893", Taxonomy: "1041C0700X"}}
	raw, err := json.Marshal(g.practitionerClaims())
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	_ = json.Unmarshal(raw, &got)
	for k, want := range map[string]string{"legal_name": "Samuel J. Lee", "preferred_name": "Sam Lee", "credentials": "LCSW",
		"npi": "1234567893", "taxonomy": "1041C0700X"} {
		if got[k] != want {
			t.Errorf("%s = %v, want %q", k, got[k], want)
		}
	}
	for k := range got {
		if claimScope(k) != ScopePractitioner {
			t.Errorf("claim %s is not in the practitioner group of claimGroups", k)
		}
	}
}
