package account_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/account/accounttest"
	"github.com/frontdeskhq/frontdesk/identity/password"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

// BenchmarkLogin measures a whole password login on SQLite with the default
// (production) argon2id parameters, for the three answers a caller can get.
// Unknown email and wrong password must cost the same: compare their medians
// (docs/performance.md). The success case adds the session insert and audit.
func BenchmarkLogin(b *testing.B) {
	st := storetest.Open(b, store.SQLite)
	env := accounttest.New(b, st, accounttest.Options{Params: password.DefaultParams()})
	ctx := context.Background()
	created, err := env.Service.CreatePractice(ctx, account.NewPractice{Slug: "sunrise", Name: "Sunrise Therapy",
		OwnerEmail: "olive@example.org"}, account.Meta{})
	if err != nil {
		b.Fatal(err)
	}
	if _, _, err := env.Service.CompleteSetup(ctx, "sunrise", tokenOf(b, created.SetupURL), goodPassword, goodPassword, account.Meta{}); err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name, email, pw string
		want            error
	}{
		{"success", "olive@example.org", goodPassword, nil},
		{"wrong_password", "olive@example.org", goodPassword + "!", account.ErrInvalidCredentials},
		{"unknown_email", "nobody@example.org", goodPassword, account.ErrInvalidCredentials},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, _, err := env.Service.Login(ctx, "sunrise", c.email, c.pw, account.Meta{}); !errors.Is(err, c.want) {
					b.Fatalf("Login = %v, want %v", err, c.want)
				}
			}
		})
	}
}

// BenchmarkAuthenticate measures resolving a session cookie on each request.
func BenchmarkAuthenticate(b *testing.B) {
	st := storetest.Open(b, store.SQLite)
	env := accounttest.New(b, st, accounttest.Options{})
	ctx := context.Background()
	created, err := env.Service.CreatePractice(ctx, account.NewPractice{Slug: "sunrise", Name: "Sunrise Therapy",
		OwnerEmail: "olive@example.org"}, account.Meta{})
	if err != nil {
		b.Fatal(err)
	}
	_, tok, err := env.Service.CompleteSetup(ctx, "sunrise", tokenOf(b, created.SetupURL), goodPassword, goodPassword, account.Meta{})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := env.Service.Authenticate(ctx, "sunrise", tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoginUnknownVsWrong alternates a wrong password and an unknown
// email in one loop, so machine load drifts equally over both, and reports
// their mean times and the ratio unknown/wrong (1.0 means indistinguishable).
func BenchmarkLoginUnknownVsWrong(b *testing.B) {
	st := storetest.Open(b, store.SQLite)
	env := accounttest.New(b, st, accounttest.Options{Params: password.DefaultParams()})
	ctx := context.Background()
	created, err := env.Service.CreatePractice(ctx, account.NewPractice{Slug: "sunrise", Name: "Sunrise Therapy",
		OwnerEmail: "olive@example.org"}, account.Meta{})
	if err != nil {
		b.Fatal(err)
	}
	if _, _, err := env.Service.CompleteSetup(ctx, "sunrise", tokenOf(b, created.SetupURL), goodPassword, goodPassword, account.Meta{}); err != nil {
		b.Fatal(err)
	}
	var wrong, unknown time.Duration
	n := 0
	for b.Loop() {
		t0 := time.Now()
		if _, _, err := env.Service.Login(ctx, "sunrise", "olive@example.org", goodPassword+"!", account.Meta{}); !errors.Is(err, account.ErrInvalidCredentials) {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, _, err := env.Service.Login(ctx, "sunrise", "nobody@example.org", goodPassword, account.Meta{}); !errors.Is(err, account.ErrInvalidCredentials) {
			b.Fatal(err)
		}
		wrong += t1.Sub(t0)
		unknown += time.Since(t1)
		n++
	}
	b.ReportMetric(float64(wrong.Microseconds())/float64(n), "wrong-µs")
	b.ReportMetric(float64(unknown.Microseconds())/float64(n), "unknown-µs")
	b.ReportMetric(float64(unknown)/float64(wrong), "unknown/wrong")
}
