package account_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/account/accounttest"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

func TestStrongLogin(t *testing.T) {
	tests := []struct {
		amr  []string
		want bool
	}{
		{nil, false}, {[]string{"pwd"}, false}, {[]string{"hwk", "user"}, true}, {[]string{"fed"}, true},
		{[]string{"pwd", "otp"}, false},
	}
	for _, tt := range tests {
		if got := account.StrongLogin(tt.amr); got != tt.want {
			t.Errorf("StrongLogin(%v) = %v", tt.amr, got)
		}
	}
	if !errors.Is(account.ErrStrongLoginRequired, account.ErrNoSession) {
		t.Error("ErrStrongLoginRequired does not match ErrNoSession: code that only knows ErrNoSession would accept the session")
	}
}

// TestLoginPolicyRules: who may read and change the policy, what it accepts,
// how it is audited, and what it does to the next password login.
func TestLoginPolicyRules(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		o := accounttest.NewOnboarding(t, st, accounttest.OnboardingOptions{NoWorker: true})
		ownerID, adminID := onboardingPractice(t, o, "sunrise")
		p, err := st.PracticeBySlug(ctx, "sunrise")
		if err != nil {
			t.Fatal(err)
		}
		prac := store.Member{ID: "sunrise-prac", PracticeID: p.ID, Email: "prac@sunrise.example.org", Status: store.StatusActive,
			Roles: []string{"practitioner"}, CreatedAt: o.Clock.Now()}
		if err := st.CreateMember(ctx, prac); err != nil {
			t.Fatal(err)
		}
		admin := account.Actor{MemberID: adminID}

		tests := []struct {
			name  string
			actor account.Actor
			roles []string
			want  string // "" ok; "forbidden"; "invalid"
		}{
			{"practitioner lacks settings.edit", account.Actor{MemberID: prac.ID}, []string{"owner"}, "forbidden"},
			{"unknown role", admin, []string{"owner", "wizard"}, "invalid"},
			{"empty key", admin, []string{""}, "invalid"},
			{"too many", admin, make([]string, 65), "invalid"},
			{"administrator", admin, []string{"owner", "biller", "owner"}, ""},
			{"operator", account.Operator(), []string{"owner"}, ""},
		}
		for _, tt := range tests {
			_, err := o.Service.SetLoginPolicy(ctx, "sunrise", tt.actor, tt.roles, account.Meta{})
			var invalid *account.InvalidInputError
			switch tt.want {
			case "":
				if err != nil {
					t.Errorf("%s: %v", tt.name, err)
				}
			case "forbidden":
				if !errors.Is(err, account.ErrForbidden) {
					t.Errorf("%s: %v, want ErrForbidden", tt.name, err)
				}
			case "invalid":
				if !errors.As(err, &invalid) {
					t.Errorf("%s: %v, want InvalidInputError", tt.name, err)
				}
			}
		}
		if _, err := o.Service.LoginPolicy(ctx, "sunrise", account.Actor{MemberID: prac.ID}); !errors.Is(err, account.ErrForbidden) {
			t.Errorf("practitioner reads the policy: %v", err)
		}
		lp, err := o.Service.LoginPolicy(ctx, "sunrise", admin)
		if err != nil || strings.Join(lp.RequireStrongLogin, ",") != "owner" || lp.UpdatedBy != account.OperatorActorID {
			t.Fatalf("LoginPolicy = %+v, %v", lp, err)
		}
		events, err := st.ListAudit(ctx, p.ID, 1000)
		if err != nil {
			t.Fatal(err)
		}
		var changes []string
		for _, e := range events {
			if e.Action == "practice.login_policy" && e.Outcome == "success" {
				changes = append(changes, e.Details["require_strong_login_before"]+">"+e.Details["require_strong_login_after"])
			}
		}
		if got := strings.Join(changes, " "); got != "biller,owner>owner >biller,owner" && got != ">biller,owner biller,owner>owner" {
			t.Errorf("audited changes = %q", got)
		}

		// The owner's next password login is restricted: Authenticate
		// refuses the session, AuthenticateEnrolment accepts it.
		pr, token, err := o.Service.Login(ctx, "sunrise", "owner@sunrise.example.org", strongPw, account.Meta{})
		if err != nil || !pr.StrongLoginRequired || pr.Member.ID != ownerID {
			t.Fatalf("owner login: %+v %v", pr.StrongLoginRequired, err)
		}
		if _, err := o.Service.Authenticate(ctx, "sunrise", token); !errors.Is(err, account.ErrStrongLoginRequired) {
			t.Errorf("Authenticate = %v", err)
		}
		if got, err := o.Service.AuthenticateEnrolment(ctx, "sunrise", token); err != nil || !got.StrongLoginRequired {
			t.Errorf("AuthenticateEnrolment = %+v, %v", got.StrongLoginRequired, err)
		}
		if err := o.Service.CheckLoginPolicy(ctx, pr); !errors.Is(err, account.ErrStrongLoginRequired) {
			t.Errorf("CheckLoginPolicy = %v", err)
		}
		// Lifted: the very same session is no longer restricted.
		if _, err := o.Service.SetLoginPolicy(ctx, "sunrise", account.Operator(), nil, account.Meta{}); err != nil {
			t.Fatal(err)
		}
		if _, err := o.Service.Authenticate(ctx, "sunrise", token); err != nil {
			t.Errorf("Authenticate after lifting = %v", err)
		}
	})
}
