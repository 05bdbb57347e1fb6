package account_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/account/accounttest"
	"github.com/frontdeskhq/frontdesk/identity/password"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

// saturatedHasher is a real hasher that reports ErrBusy, as a bounded
// password.Hasher does at capacity, while busy is set.
type saturatedHasher struct {
	account.PasswordHasher
	busy atomic.Bool
}

func (h *saturatedHasher) Verify(ctx context.Context, encoded, pw string) (bool, bool, error) {
	if h.busy.Load() {
		return false, false, fmt.Errorf("test: %w", password.ErrBusy)
	}
	return h.PasswordHasher.Verify(ctx, encoded, pw)
}

func (h *saturatedHasher) VerifyDummyErr(ctx context.Context, pw string) error {
	if h.busy.Load() {
		return fmt.Errorf("test: %w", password.ErrBusy)
	}
	h.PasswordHasher.VerifyDummy(ctx, pw)
	return nil
}

// A login flood beyond the hasher's capacity is refused with ErrUnavailable
// (the page answers 503 with Retry-After), for known and unknown addresses
// alike, so the refusal says nothing about which accounts exist.
func TestLoginRefusedWhenHasherBusy(t *testing.T) {
	const pw = "correct horse battery staple"
	ctx := context.Background()
	st := storetest.Open(t, store.SQLite)
	h := &saturatedHasher{}
	env := accounttest.New(t, st, accounttest.Options{WrapHasher: func(inner account.PasswordHasher) account.PasswordHasher {
		h.PasswordHasher = inner
		return h
	}})
	created, err := env.Service.CreatePractice(ctx, account.NewPractice{Slug: "sunrise", Name: "Sunrise Therapy",
		OwnerEmail: "owner@sunrise.example"}, account.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	hash, err := password.NewHasher(accounttest.FastParams, 1).Hash(ctx, pw)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetPassword(ctx, created.OwnerID, hash, env.Clock.Now(), true); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, email, pw string
		busy            bool
		want            error
	}{
		{"known account, busy", "owner@sunrise.example", pw, true, account.ErrUnavailable},
		{"wrong password, busy", "owner@sunrise.example", "not the password at all", true, account.ErrUnavailable},
		{"unknown account, busy", "nobody@sunrise.example", pw, true, account.ErrUnavailable},
		{"unknown account, capacity again", "nobody@sunrise.example", pw, false, account.ErrInvalidCredentials},
		{"known account, capacity again", "owner@sunrise.example", pw, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.busy.Store(tt.busy)
			_, _, err := env.Service.Login(ctx, "sunrise", tt.email, tt.pw, account.Meta{ClientAddr: "192.0.2.1"})
			if !errors.Is(err, tt.want) && !(tt.want == nil && err == nil) {
				t.Fatalf("Login: err = %v, want %v", err, tt.want)
			}
		})
	}
}
