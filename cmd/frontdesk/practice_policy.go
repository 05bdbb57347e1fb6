package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/frontdeskhq/frontdesk/identity/account"
)

// cmdPracticePolicy shows or sets a practice's login policy:
//
//	frontdesk practice policy --practice S                                 show it
//	frontdesk practice policy --practice S --require-strong-login R1,R2   require a passkey or SSO for these roles
//	frontdesk practice policy --practice S --clear                         let every role log in with a password again
func cmdPracticePolicy(ctx context.Context, args []string, stdout, stderr io.Writer, env []string) error {
	fs, path := newFlags("practice policy", stderr)
	practice := fs.String("practice", "", "the practice's slug (required)")
	strong := fs.String("require-strong-login", "", "comma-separated role `keys` whose holders must log in with a passkey or single sign-on")
	clear := fs.Bool("clear", false, "require a passkey or single sign-on for no role")
	asJSON := fs.Bool("json", false, "print the policy as one JSON object")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *practice == "" {
		return usageError{msg: "practice policy: --practice is required"}
	}
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == "require-strong-login" })
	if set && *clear {
		return usageError{msg: "practice policy: give --require-strong-login or --clear, not both"}
	}
	if set && strings.TrimSpace(*strong) == "" {
		return usageError{msg: "practice policy: --require-strong-login needs at least one role key; use --clear to require it for none"}
	}
	a, err := openApp(ctx, *path, env, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	var lp account.LoginPolicy
	switch {
	case set || *clear:
		var keys []string
		if set {
			for k := range strings.SplitSeq(*strong, ",") {
				if k = strings.TrimSpace(k); k != "" {
					keys = append(keys, k)
				}
			}
		}
		lp, err = a.Accounts.SetLoginPolicy(ctx, *practice, account.Operator(), keys, account.Meta{RequestID: "cli"})
	default:
		lp, err = a.Accounts.LoginPolicy(ctx, *practice, account.Operator())
	}
	var invalid *account.InvalidInputError
	switch {
	case errors.As(err, &invalid):
		return usageError{msg: "practice policy: " + invalid.Error()}
	case errors.Is(err, account.ErrPracticeNotFound):
		return fmt.Errorf("practice policy: no practice has the slug %q; check --practice (frontdesk practice list)", *practice)
	case err != nil:
		return fmt.Errorf("practice policy: %w", err)
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(lp)
	}
	if len(lp.RequireStrongLogin) == 0 {
		fmt.Fprintf(stdout, "Practice %q: every role may log in with a password, a passkey or single sign-on.\n", *practice)
		return nil
	}
	fmt.Fprintf(stdout, "Practice %q: members holding %s must log in with a passkey or single sign-on; "+
		"a password alone opens no app for them.\n", *practice, strings.Join(lp.RequireStrongLogin, ", "))
	return nil
}
