package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/frontdeskhq/frontdesk/identity/account"
)

// cmdAdminRevokePasskeys removes every passkey of a member and ends their
// sessions, as the operator (incident response: a lost or stolen device):
// frontdesk admin revoke-passkeys --practice S --email E [--json].
func cmdAdminRevokePasskeys(ctx context.Context, args []string, stdout, stderr io.Writer, env []string) error {
	fs, path := newFlags("admin revoke-passkeys", stderr)
	practice := fs.String("practice", "", "the practice's slug (required)")
	email := fs.String("email", "", "the member's email address (required)")
	asJSON := fs.Bool("json", false, "print the result as one JSON object: member_id, email, passkeys_removed")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := requireFlags("admin revoke-passkeys", flagValue{"practice", *practice}, flagValue{"email", *email}); err != nil {
		return err
	}
	a, err := openApp(ctx, *path, env, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	_, m, err := practiceMember(ctx, a, "admin revoke-passkeys", *practice, *email)
	if err != nil {
		return err
	}
	pk := a.Passkeys()
	if pk == nil {
		return errors.New("admin revoke-passkeys: passkeys are off because passkeys.rp_id / passkeys.origins were refused; " +
			"fix them (see the warning above) and run this again")
	}
	n, err := pk.RevokeMember(ctx, *practice, m.ID, account.Operator(), account.Meta{RequestID: "cli"})
	if err != nil {
		return fmt.Errorf("admin revoke-passkeys: %w", err)
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(map[string]any{"member_id": m.ID, "email": m.Email, "passkeys_removed": n})
	}
	fmt.Fprintf(stdout, "Revoked %d passkey(s) of %s in practice %q and ended their sessions. "+
		"They can log in with their password and add a new passkey.\n", n, m.Email, *practice)
	return nil
}
