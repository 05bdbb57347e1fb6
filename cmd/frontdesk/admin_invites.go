package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/app"
	"github.com/frontdeskhq/frontdesk/identity/onboarding"
)

// roleList is a repeatable --role flag.
type roleList []string

func (r *roleList) String() string { return strings.Join(*r, ",") }

func (r *roleList) Set(v string) error {
	*r = append(*r, v)
	return nil
}

// cmdAdminInvite invites an email address into a practice with roles, as the
// operator. The link goes only to the invitee's mailbox.
func cmdAdminInvite(ctx context.Context, args []string, stdout, stderr io.Writer, env []string) error {
	fs, path := newFlags("admin invite", stderr)
	practice := fs.String("practice", "", "the practice's slug (required)")
	email := fs.String("email", "", "the invitee's email address (required)")
	name := fs.String("name", "", "the invitee's display name (optional)")
	appID := fs.String("app", "", "client ID of the app the invitee lands in after accepting (optional)")
	var roles roleList
	fs.Var(&roles, "role", "a role key of the practice's role model (required; repeat for several roles)")
	asJSON := fs.Bool("json", false, "print one JSON object: invitation_id, member_id, email, roles, state, expires_at")
	update := fs.Bool("update-pending", false, "replace a pending invitation to the same address (its link stops working)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := requireFlags("admin invite", flagValue{"practice", *practice}, flagValue{"email", *email},
		flagValue{"role", roles.String()}); err != nil {
		return err
	}
	a, err := openApp(ctx, *path, env, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	inv, err := a.Onboarding.Invite(ctx, *practice, account.Operator(), onboarding.InviteRequest{Email: *email, Name: *name,
		Roles: roles, App: *appID, UpdatePending: *update}, account.Meta{RequestID: "cli"})
	if pending, ok := errors.AsType[*onboarding.PendingInvitationError](err); ok {
		return fmt.Errorf("admin invite: %s already has a pending invitation as %s (sent %s); nothing was changed. "+
			"Add --update-pending to replace it: its link stops working and the new email says so",
			pending.Invitation.Email, strings.Join(pending.Invitation.Roles, ", "), pending.Invitation.CreatedAt.Format(time.RFC3339))
	}
	if err := adminError("admin invite", *practice, err); err != nil {
		return err
	}
	deliverNow(ctx, a)
	if *asJSON {
		return json.NewEncoder(stdout).Encode(inv)
	}
	fmt.Fprintf(stdout, "Invited %s to practice %q as %s. The invitation link was emailed to them and expires at %s.\n",
		inv.Email, *practice, strings.Join(inv.Roles, ", "), inv.ExpiresAt.Format(time.RFC3339))
	return nil
}

// cmdAdminTemporaryPassword emails a member a temporary password, as the
// operator. The password is never shown.
func cmdAdminTemporaryPassword(ctx context.Context, args []string, stdout, stderr io.Writer, env []string) error {
	fs, path := newFlags("admin temporary-password", stderr)
	practice := fs.String("practice", "", "the practice's slug (required)")
	email := fs.String("email", "", "the member's email address (required)")
	asJSON := fs.Bool("json", false, "print one JSON object: member_id, email, expires_at")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := requireFlags("admin temporary-password", flagValue{"practice", *practice}, flagValue{"email", *email}); err != nil {
		return err
	}
	a, err := openApp(ctx, *path, env, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	res, err := a.Onboarding.IssueTemporaryPassword(ctx, *practice, account.Operator(), *email, account.Meta{RequestID: "cli"})
	if err := adminError("admin temporary-password", *practice, err); err != nil {
		return err
	}
	deliverNow(ctx, a)
	if *asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	fmt.Fprintf(stdout, "A temporary password was emailed to %s (practice %q). It works once, until %s; "+
		"logging in with it leads to choosing a new password.\n", res.Email, *practice, res.ExpiresAt.Format(time.RFC3339))
	return nil
}

// deliverNow makes one delivery pass so the message leaves at once even when
// no server is running; anything undelivered stays queued for the servers'
// workers.
func deliverNow(ctx context.Context, a *app.App) {
	ctx, cancel := context.WithTimeout(ctx, 45*time.Second)
	defer cancel()
	if _, err := a.Outbox.RunOnce(ctx); err != nil {
		a.Logger.WarnContext(ctx, "mail queued; a running server will deliver it", "err", err)
	}
}

// adminError turns a service error into the command's answer.
func adminError(cmd, practice string, err error) error {
	var invalid *account.InvalidInputError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &invalid):
		return usageError{msg: cmd + ": " + invalid.Error()}
	case errors.Is(err, account.ErrPracticeNotFound):
		return fmt.Errorf("%s: no practice has the slug %q; check --practice", cmd, practice)
	case errors.Is(err, account.ErrMemberNotFound):
		return fmt.Errorf("%s: practice %q has no active member with that email; check --email", cmd, practice)
	case errors.Is(err, onboarding.ErrAlreadyMember):
		return fmt.Errorf("%s: that address already belongs to an active member of practice %q; nothing was sent", cmd, practice)
	}
	return fmt.Errorf("%s: %w", cmd, err)
}
