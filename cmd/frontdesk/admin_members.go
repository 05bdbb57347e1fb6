package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// cmdPracticeList prints every practice: frontdesk practice list [--json].
func cmdPracticeList(ctx context.Context, args []string, stdout, stderr io.Writer, env []string) error {
	fs, path := newFlags("practice list", stderr)
	asJSON := fs.Bool("json", false, "print JSON Lines: one object per practice (id, slug, name, created_at)")
	if err := parse(fs, args); err != nil {
		return err
	}
	st, err := openStore(ctx, *path, env, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	list, err := st.ListPractices(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		for _, p := range list {
			if err := enc.Encode(map[string]any{"id": p.ID, "slug": p.Slug, "name": p.Name, "created_at": p.CreatedAt}); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SLUG\tNAME\tCREATED")
	for _, p := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", p.Slug, p.Name, p.CreatedAt.Format("2006-01-02"))
	}
	return tw.Flush()
}

// cmdAdminMembers lists a practice's members:
// frontdesk admin members --practice S [--status S] [--role R] [--query Q] [--json].
func cmdAdminMembers(ctx context.Context, args []string, stdout, stderr io.Writer, env []string) error {
	fs, path := newFlags("admin members", stderr)
	practice := fs.String("practice", "", "the practice's slug (required)")
	status := fs.String("status", "", "only members with this status: invited, active, locked or deactivated")
	role := fs.String("role", "", "only members holding this role key")
	query := fs.String("query", "", "only members whose name or email contains this text")
	asJSON := fs.Bool("json", false, "print JSON Lines: one object per member")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *practice == "" {
		return usageError{msg: "admin members: --practice is required"}
	}
	if *status != "" && !store.MemberStatus(*status).Valid() {
		return usageError{msg: "admin members: --status must be invited, active, locked or deactivated"}
	}
	st, err := openStore(ctx, *path, env, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	p, err := st.PracticeBySlug(ctx, *practice)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("admin members: no practice has the slug %q; check --practice (frontdesk practice list)", *practice)
	}
	if err != nil {
		return err
	}
	f := store.MemberFilter{PracticeID: p.ID, Status: store.MemberStatus(*status), Role: *role, Query: *query, Limit: 200}
	enc := json.NewEncoder(stdout)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	if !*asJSON {
		fmt.Fprintln(tw, "EMAIL\tNAME\tSTATUS\tROLES")
	}
	for {
		page, more, err := st.ListMembers(ctx, f)
		if err != nil {
			return err
		}
		for _, m := range page {
			if *asJSON {
				if err := enc.Encode(map[string]any{"id": m.ID, "email": m.Email, "name": m.DisplayName,
					"status": m.Status, "roles": m.Roles}); err != nil {
					return err
				}
				continue
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.Email, m.DisplayName, m.Status, strings.Join(m.Roles, ","))
		}
		if !more || len(page) == 0 {
			break
		}
		last := page[len(page)-1]
		f.AfterEmailKey, f.AfterID = store.EmailKey(last.Email), last.ID
	}
	if *asJSON {
		return nil
	}
	return tw.Flush()
}

// cmdAdminDeactivate removes a member's access, as the operator, keeping
// every record: frontdesk admin deactivate --practice S --email E [--json].
func cmdAdminDeactivate(ctx context.Context, args []string, stdout, stderr io.Writer, env []string) error {
	fs, path := newFlags("admin deactivate", stderr)
	practice := fs.String("practice", "", "the practice's slug (required)")
	email := fs.String("email", "", "the member's email address (required)")
	asJSON := fs.Bool("json", false, "print the result as one JSON object")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := requireFlags("admin deactivate", flagValue{"practice", *practice}, flagValue{"email", *email}); err != nil {
		return err
	}
	a, err := openApp(ctx, *path, env, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	_, m, err := practiceMember(ctx, a, "admin deactivate", *practice, *email)
	if err != nil {
		return err
	}
	res, err := a.Accounts.DeactivateMember(ctx, *practice, account.Operator(), m.ID, account.Meta{RequestID: "cli"})
	switch {
	case errors.Is(err, account.ErrLastManager):
		return fmt.Errorf("admin deactivate: %s is the last member who can manage members and assign roles in %q; "+
			"give someone else that role first", *email, *practice)
	case errors.Is(err, account.ErrMemberNotFound):
		return fmt.Errorf("admin deactivate: %s in practice %q is already deactivated", *email, *practice)
	case err != nil:
		return fmt.Errorf("admin deactivate: %w", err)
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	fmt.Fprintf(stdout, "Deactivated %s in practice %q; every record is kept. %d session(s) ended, %d invitation(s) revoked, %d link(s) voided.\n",
		*email, *practice, res.SessionsEnded, res.InvitationsRevoked, res.LinksVoided)
	for _, r := range res.Reassign {
		fmt.Fprintf(stdout, "Reassign in your apps: %s %s — %s\n", r.Kind, r.Email, r.Note)
	}
	return nil
}
