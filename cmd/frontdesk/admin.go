package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/lockout"
)

// cmdAdmin runs the operator's administrative commands on a practice's members.
func cmdAdmin(ctx context.Context, args []string, stdout, stderr io.Writer, env []string) error {
	if len(args) == 0 {
		return usageError{msg: "admin: expected a subcommand: unlock, invite, temporary-password, members, deactivate, revoke-passkeys"}
	}
	switch args[0] {
	case "unlock":
		return cmdAdminUnlock(ctx, args[1:], stdout, stderr, env)
	case "invite":
		return cmdAdminInvite(ctx, args[1:], stdout, stderr, env)
	case "temporary-password":
		return cmdAdminTemporaryPassword(ctx, args[1:], stdout, stderr, env)
	case "members":
		return cmdAdminMembers(ctx, args[1:], stdout, stderr, env)
	case "deactivate":
		return cmdAdminDeactivate(ctx, args[1:], stdout, stderr, env)
	case "revoke-passkeys":
		return cmdAdminRevokePasskeys(ctx, args[1:], stdout, stderr, env)
	default:
		return usageError{msg: fmt.Sprintf("admin: unknown subcommand %q; expected: unlock, invite, temporary-password, members, deactivate, revoke-passkeys", args[0])}
	}
}

// cmdAdminUnlock lifts a member's failed-login lock, as the operator.
func cmdAdminUnlock(ctx context.Context, args []string, stdout, stderr io.Writer, env []string) error {
	fs, path := newFlags("admin unlock", stderr)
	practice := fs.String("practice", "", "the practice's slug (required)")
	email := fs.String("email", "", "the locked member's email address (required)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := requireFlags("admin unlock", flagValue{"practice", *practice}, flagValue{"email", *email}); err != nil {
		return err
	}
	a, err := openApp(ctx, *path, env, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	res, err := unlock(ctx, a.Accounts, *practice, *email)
	var invalid *account.InvalidInputError
	switch {
	case errors.As(err, &invalid):
		return usageError{msg: "admin unlock: " + invalid.Error()}
	case errors.Is(err, account.ErrPracticeNotFound):
		return fmt.Errorf("admin unlock: no practice has the slug %q; check --practice", *practice)
	case errors.Is(err, lockout.ErrMemberNotFound):
		return fmt.Errorf("admin unlock: practice %q has no member with the email %q; check --email", *practice, *email)
	case err != nil:
		return fmt.Errorf("admin unlock: %w", err)
	}
	if res.WasLocked {
		fmt.Fprintf(stdout, "Unlocked %s in practice %q; they can log in again and have been emailed.\n", *email, *practice)
	} else {
		fmt.Fprintf(stdout, "%s in practice %q was not locked; its failed-attempt count was cleared.\n", *email, *practice)
	}
	return nil
}

// unlock lifts the lock of the practice's member with that email as the
// operator: the practice and the address are checked here, the unlock is the
// lockout feature's.
func unlock(ctx context.Context, accounts *account.Service, slug, email string) (lockout.UnlockResult, error) {
	p, err := accounts.Practice(ctx, slug)
	if err != nil {
		return lockout.UnlockResult{}, err
	}
	if _, err := account.ParseEmail(email); err != nil {
		return lockout.UnlockResult{}, err
	}
	return accounts.Locks().Unlock(ctx, p.Lockout(), email, lockout.Actor{Operator: true}, lockout.Meta{RequestID: "cli"})
}
