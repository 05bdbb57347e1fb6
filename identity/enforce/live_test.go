package enforce_test

import (
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/enforce"
)

// The introspection opt-in needs the app's credentials and a short cache.
func TestIntrospectionConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   enforce.Introspection
		ok   bool
	}{
		{"defaults", enforce.Introspection{ClientID: "ehr", ClientSecret: "s"}, true},
		{"no cache", enforce.Introspection{ClientID: "ehr", ClientSecret: "s", CacheTTL: -1}, true},
		{"longest cache", enforce.Introspection{ClientID: "ehr", ClientSecret: "s", CacheTTL: enforce.MaxIntrospectionCacheTTL}, true},
		{"cache too long", enforce.Introspection{ClientID: "ehr", ClientSecret: "s", CacheTTL: time.Hour}, false},
		{"no client", enforce.Introspection{ClientSecret: "s"}, false},
		{"no secret", enforce.Introspection{ClientID: "ehr"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			_, err := enforce.New(enforce.Config{Issuer: "https://fd.example", Audience: "ehr", Introspection: &in})
			if (err == nil) != tc.ok {
				t.Errorf("New: %v, want ok=%v", err, tc.ok)
			}
		})
	}
}
