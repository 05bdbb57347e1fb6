package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/sso"
)

// cmdPracticeSSO manages a practice's single sign-on providers and domain
// join requests as the operator:
//
//	frontdesk practice sso add|list|remove|requests|approve|reject
//
// The client secret is read from a file or standard input (never a flag, so
// it stays out of shell history and process listings), stored encrypted and
// never printed.
func cmdPracticeSSO(ctx context.Context, args []string, out, stderr io.Writer, env []string) error {
	if len(args) == 0 {
		return usageError{msg: "practice sso: expected a subcommand: add, list, remove, requests, approve or reject"}
	}
	switch args[0] {
	case "add":
		return cmdSSOAdd(ctx, args[1:], os.Stdin, out, stderr, env)
	case "list":
		return cmdSSOList(ctx, args[1:], out, stderr, env)
	case "remove":
		return cmdSSORemove(ctx, args[1:], out, stderr, env)
	case "requests":
		return cmdSSORequests(ctx, args[1:], out, stderr, env)
	case "approve", "reject":
		return cmdSSODecide(ctx, args[0], args[1:], out, stderr, env)
	}
	return usageError{msg: fmt.Sprintf("practice sso: unknown subcommand %q; use add, list, remove, requests, approve or reject", args[0])}
}

func ssoUsage(cmd string, err error) error {
	var invalid *sso.InvalidError
	switch {
	case errors.As(err, &invalid):
		return usageError{msg: "practice sso " + cmd + ": " + invalid.Error()}
	case errors.Is(err, account.ErrPracticeNotFound):
		return fmt.Errorf("practice sso %s: there is no such practice; frontdesk practice list shows them", cmd)
	}
	return fmt.Errorf("practice sso %s: %w", cmd, err)
}

func readSecret(path string, stdin io.Reader) (string, error) {
	var (
		b   []byte
		err error
	)
	if path == "-" {
		b, err = io.ReadAll(io.LimitReader(stdin, 4096))
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return "", fmt.Errorf("practice sso add: read the client secret: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

func cmdSSOAdd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env []string) error {
	fs, path := newFlags("practice sso add", stderr)
	practice := fs.String("practice", "", "the practice's slug (required)")
	kind := fs.String("kind", "", "google, entra or generic (required)")
	issuer := fs.String("issuer", "", "the provider's issuer URL (generic; entra: or use --tenant)")
	tenant := fs.String("tenant", "", "the Entra directory (tenant) ID, a GUID (entra)")
	clientID := fs.String("client-id", "", "the client ID the provider issued (required)")
	secretFile := fs.String("client-secret-file", "", "`file` holding the client secret, or - for standard input (required)")
	name := fs.String("name", "", "what the login page's button says after \"Sign in with\" (default: Google, Microsoft)")
	var domains roleList
	fs.Var(&domains, "domain", "an allowed (verified) email domain, e.g. clinic.example; repeat for several")
	joinRole := fs.String("join-role", "", "turn on domain join: people from the allowed domains may ask to join with this role, pending approval")
	asJSON := fs.Bool("json", false, "print the provider as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := requireFlags("practice sso add", flagValue{"practice", *practice}, flagValue{"kind", *kind},
		flagValue{"client-id", *clientID}, flagValue{"client-secret-file", *secretFile}); err != nil {
		return err
	}
	secret, err := readSecret(*secretFile, stdin)
	if err != nil {
		return err
	}
	a, err := openApp(ctx, *path, env, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	p, err := a.SSO.AddProvider(ctx, *practice, account.Operator(), sso.NewProvider{Kind: *kind, DisplayName: *name,
		Issuer: *issuer, Tenant: *tenant, ClientID: *clientID, ClientSecret: secret, AllowedDomains: domains,
		JoinEnabled: *joinRole != "", JoinRole: *joinRole}, account.Meta{RequestID: "cli"})
	if errors.Is(err, sso.ErrProviderExists) {
		return fmt.Errorf("practice sso add: %w; remove it first to replace it", err)
	}
	if err != nil {
		return ssoUsage("add", err)
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(p)
	}
	fmt.Fprintf(stdout, "Added %s (%s) to %s: id %s.\nRegister this redirect URI at the provider:\n\n  %s\n",
		p.DisplayName, p.Issuer, *practice, p.ID, p.RedirectURI)
	return nil
}

func cmdSSOList(ctx context.Context, args []string, stdout, stderr io.Writer, env []string) error {
	fs, path := newFlags("practice sso list", stderr)
	practice := fs.String("practice", "", "the practice's slug (required)")
	asJSON := fs.Bool("json", false, "print a JSON array")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *practice == "" {
		return usageError{msg: "practice sso list: --practice is required"}
	}
	a, err := openApp(ctx, *path, env, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	list, err := a.SSO.Providers(ctx, *practice, account.Operator())
	if err != nil {
		return ssoUsage("list", err)
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(list)
	}
	if len(list) == 0 {
		fmt.Fprintln(stdout, "No single sign-on providers. Add one with: frontdesk practice sso add --practice "+*practice+" …")
	}
	for _, p := range list {
		join := ""
		if p.JoinEnabled {
			join = ", domain join as " + p.JoinRole
		}
		fmt.Fprintf(stdout, "%s  %s (%s)  issuer %s  client %s  domains [%s]%s\n", p.ID, p.DisplayName, p.Kind, p.Issuer,
			p.ClientID, strings.Join(p.AllowedDomains, " "), join)
	}
	return nil
}

func cmdSSORemove(ctx context.Context, args []string, stdout, stderr io.Writer, env []string) error {
	fs, path := newFlags("practice sso remove", stderr)
	practice := fs.String("practice", "", "the practice's slug (required)")
	id := fs.String("id", "", "the provider's id, from frontdesk practice sso list (required)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *practice == "" || *id == "" {
		return usageError{msg: "practice sso remove: --practice and --id are required"}
	}
	a, err := openApp(ctx, *path, env, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.SSO.RemoveProvider(ctx, *practice, account.Operator(), *id, account.Meta{RequestID: "cli"}); err != nil {
		if errors.Is(err, sso.ErrProviderNotFound) {
			return fmt.Errorf("practice sso remove: %w; frontdesk practice sso list shows the ids", err)
		}
		return ssoUsage("remove", err)
	}
	fmt.Fprintf(stdout, "Removed provider %s; accounts linked through it can no longer log in with it.\n", *id)
	return nil
}

func cmdSSORequests(ctx context.Context, args []string, stdout, stderr io.Writer, env []string) error {
	fs, path := newFlags("practice sso requests", stderr)
	practice := fs.String("practice", "", "the practice's slug (required)")
	status := fs.String("status", "pending", "pending, approved, rejected, or all")
	asJSON := fs.Bool("json", false, "print a JSON array")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *practice == "" {
		return usageError{msg: "practice sso requests: --practice is required"}
	}
	st := *status
	switch st {
	case "pending", "approved", "rejected":
	case "all":
		st = ""
	default:
		return usageError{msg: "practice sso requests: --status must be pending, approved, rejected or all"}
	}
	a, err := openApp(ctx, *path, env, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	list, err := a.SSO.JoinRequests(ctx, *practice, account.Operator(), st)
	if err != nil {
		return ssoUsage("requests", err)
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(list)
	}
	if len(list) == 0 {
		fmt.Fprintln(stdout, "No join requests.")
	}
	for _, j := range list {
		fmt.Fprintf(stdout, "%s  %s  %q  role %s  %s  %s\n", j.ID, j.Email, j.Name, j.Role, j.Status,
			j.CreatedAt.Local().Format("2 Jan 2006 15:04"))
	}
	return nil
}

func cmdSSODecide(ctx context.Context, verb string, args []string, stdout, stderr io.Writer, env []string) error {
	fs, path := newFlags("practice sso "+verb, stderr)
	practice := fs.String("practice", "", "the practice's slug (required)")
	id := fs.String("id", "", "the join request's id, from frontdesk practice sso requests (required)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *practice == "" || *id == "" {
		return usageError{msg: "practice sso " + verb + ": --practice and --id are required"}
	}
	a, err := openApp(ctx, *path, env, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	memberID, err := a.SSO.DecideJoin(ctx, *practice, account.Operator(), *id, verb == "approve", account.Meta{RequestID: "cli"})
	if err != nil {
		return ssoUsage(verb, err)
	}
	if verb == "approve" {
		fmt.Fprintf(stdout, "Approved: member %s can now log in with single sign-on.\n", memberID)
		return nil
	}
	fmt.Fprintln(stdout, "Rejected.")
	return nil
}
