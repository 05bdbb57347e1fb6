package enforce_test

import (
	"context"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/frontdeskhq/frontdesk/identity/enforce"
)

// Claims.ElevatedUntil exposes the elevated_until claim of emergency
// (break-glass) access; it is zero without the claim.
func TestElevatedUntil(t *testing.T) {
	is := newIssuer(t)
	key := is.addKey(t, jose.ES256, "k1")
	v, err := enforce.New(enforce.Config{Issuer: is.srv.URL, Audience: "ehr", JWKSURL: is.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	until := time.Now().Add(4 * time.Hour).Truncate(time.Second)
	tests := []struct {
		name  string
		claim any
		want  time.Time
	}{
		{"elevated", until.Unix(), until},
		{"not elevated", nil, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims := goodClaims(is.srv.URL)
			if tt.claim != nil {
				claims["elevated_until"] = tt.claim
			}
			c, err := v.Verify(context.Background(), sign(t, key, jose.ES256, "at+jwt", claims))
			if err != nil {
				t.Fatal(err)
			}
			if !c.ElevatedUntil.Equal(tt.want) {
				t.Errorf("ElevatedUntil = %v, want %v", c.ElevatedUntil, tt.want)
			}
		})
	}
}
