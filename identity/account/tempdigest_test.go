package account_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/account/accounttest"
	"github.com/frontdeskhq/frontdesk/identity/password"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

// countingHasher counts slow hash evaluations (Verify and VerifyDummy).
type countingHasher struct {
	account.PasswordHasher
	n atomic.Int64
}

func (h *countingHasher) Verify(ctx context.Context, encoded, pw string) (bool, bool, error) {
	h.n.Add(1)
	return h.PasswordHasher.Verify(ctx, encoded, pw)
}

func (h *countingHasher) VerifyDummy(ctx context.Context, pw string) bool {
	h.n.Add(1)
	return h.PasswordHasher.VerifyDummy(ctx, pw)
}

// TestTemporaryPasswordOneHashPerAttempt: every login attempt evaluates
// exactly one slow hash, whether or not the member holds an unused temporary
// password, so a wrong password's answer time does not tell. The temporary
// password still works once and leads only to setting a new password.
func TestTemporaryPasswordOneHashPerAttempt(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		h := &countingHasher{}
		o := accounttest.NewOnboarding(t, st, accounttest.OnboardingOptions{
			WrapHasher: func(inner account.PasswordHasher) account.PasswordHasher { h.PasswordHasher = inner; return h }})
		onboardingPractice(t, o, "sunrise")
		owner := "owner@sunrise.example.org"
		attempt := func(pw string) (account.Principal, int64, error) {
			t.Helper()
			before := h.n.Load()
			pr, _, err := o.Service.Login(ctx, "sunrise", owner, pw, account.Meta{})
			return pr, h.n.Load() - before, err
		}
		if _, n, err := attempt("wrong wrong wrong wrong 1"); !errors.Is(err, account.ErrInvalidCredentials) || n != 1 {
			t.Errorf("wrong password without a temporary one: %v, %d hashes", err, n)
		}
		if _, err := o.Onboard.IssueTemporaryPassword(ctx, "sunrise", account.Operator(), owner, account.Meta{}); err != nil {
			t.Fatal(err)
		}
		temp := temporaryIn(t, waitMail(t, o.SMTP, owner, 1))
		if _, n, err := attempt("wrong wrong wrong wrong 2"); !errors.Is(err, account.ErrInvalidCredentials) || n != 1 {
			t.Errorf("wrong password with a temporary one pending: %v, %d hashes, want 1", err, n)
		}
		if strings.HasPrefix(temp, "sha256:") {
			t.Fatal("mail carries the digest")
		}
		pr, n, err := attempt(temp)
		if err != nil || !pr.MustChangePassword || n != 1 {
			t.Fatalf("temporary password: %v, restricted %v, %d hashes", err, pr.MustChangePassword, n)
		}
		if _, n, err := attempt(temp); !errors.Is(err, account.ErrInvalidCredentials) || n != 1 {
			t.Errorf("temporary password reused: %v, %d hashes", err, n)
		}
		if _, _, err := o.Service.SetRequiredPassword(ctx, pr, temp, temp, account.Meta{}); !errors.Is(err, account.ErrSamePassword) {
			t.Errorf("new password equal to the temporary one: %v", err)
		}
	})
}

// TestTemporaryPasswordLegacyHash: a temporary password stored as an argon2id
// hash (issued before digests) still works, once; a malformed digest matches
// nothing.
func TestTemporaryPasswordLegacyHash(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		o := accounttest.NewOnboarding(t, st, accounttest.OnboardingOptions{})
		ownerID, _ := onboardingPractice(t, o, "sunrise")
		owner := "owner@sunrise.example.org"
		p, err := st.PracticeBySlug(ctx, "sunrise")
		if err != nil {
			t.Fatal(err)
		}
		const legacy = "Legacy temporary pass 7"
		hash, err := password.NewHasher(accounttest.FastParams, 1).Hash(ctx, legacy)
		if err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name, stored, pw string
			works            bool
		}{
			{"malformed digest", "sha256:zz", "zz", false},
			{"short digest", "sha256:abcd", "abcd", false},
			{"argon2id", hash, legacy, true},
		}
		for i, tc := range tests {
			now := o.Clock.Now()
			if err := st.CreateTemporaryPassword(ctx, store.TemporaryPassword{ID: fmt.Sprintf("legacy-%d", i), PracticeID: p.ID,
				MemberID: ownerID, PasswordHash: tc.stored, IssuedBy: "operator", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			pr, _, err := o.Service.Login(ctx, "sunrise", owner, tc.pw, account.Meta{})
			if tc.works && (err != nil || !pr.MustChangePassword) {
				t.Errorf("%s: %v, restricted %v", tc.name, err, pr.MustChangePassword)
			}
			if !tc.works && !errors.Is(err, account.ErrInvalidCredentials) {
				t.Errorf("%s: %v", tc.name, err)
			}
		}
		if _, _, err := o.Service.Login(ctx, "sunrise", owner, legacy, account.Meta{}); !errors.Is(err, account.ErrInvalidCredentials) {
			t.Errorf("legacy temporary password reused: %v", err)
		}
	})
}
