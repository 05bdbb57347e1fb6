package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/app"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// flagValue is a required flag's name and the value it was given.
type flagValue struct{ flag, value string }

// requireFlags answers a usage error naming the first required flag of cmd
// that was not given.
func requireFlags(cmd string, flags ...flagValue) error {
	for _, f := range flags {
		if f.value == "" {
			return usageError{msg: cmd + ": --" + f.flag + " is required"}
		}
	}
	return nil
}

// practiceMember resolves --practice and --email for an operator command,
// with the same advice in every command when either names nothing.
func practiceMember(ctx context.Context, a *app.App, cmd, slug, email string) (store.Practice, store.Member, error) {
	p, err := a.Accounts.Practice(ctx, slug)
	if errors.Is(err, account.ErrPracticeNotFound) {
		return store.Practice{}, store.Member{}, fmt.Errorf("%s: no practice has the slug %q; check --practice (frontdesk practice list)", cmd, slug)
	}
	if err != nil {
		return store.Practice{}, store.Member{}, err
	}
	m, err := a.Store.MemberByEmail(ctx, p.ID, email)
	if errors.Is(err, store.ErrNotFound) {
		return store.Practice{}, store.Member{}, fmt.Errorf("%s: practice %q has no member with the email %q; check --email (frontdesk admin members --practice %s)",
			cmd, slug, email, slug)
	}
	if err != nil {
		return store.Practice{}, store.Member{}, err
	}
	return p, m, nil
}
