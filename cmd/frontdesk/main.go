// Command frontdesk is the identity and onboarding service for practice
// software: one binary that serves the login pages and runs the operator
// commands.
//
//	frontdesk serve                      start the service
//	frontdesk migrate                    apply database migrations and exit
//	frontdesk practice create ...        create a practice and print its owner's setup link
//	frontdesk admin unlock ...           lift a member's failed-login lock
//	frontdesk admin invite ...           invite an email address with roles (the link is emailed)
//	frontdesk admin temporary-password ... email a member a single-use temporary password
//	frontdesk admin members ...          list a practice's members
//	frontdesk admin deactivate ...       remove a member's access, keeping every record
//	frontdesk admin revoke-passkeys ...  remove every passkey of a member and end their sessions
//	frontdesk practice policy ...        show or set which roles must log in with a passkey or SSO
//	frontdesk practice list              list the practices
//	frontdesk practice sso ...           manage a practice's single sign-on providers and join requests
//	frontdesk keys rotate                add new token-signing keys (published before they sign)
//	frontdesk audit verify ...           check the audit trail's hash chains
//	frontdesk audit export ...           write a practice's audit events (JSON Lines or CSV)
//	frontdesk version                    print the version
//
// Every command accepts --config FILE; every setting can also be given as an
// environment variable FRONTDESK_<SECTION>_<KEY>.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// exitUsage is the exit status for a command line that could not be understood.
const exitUsage = 2

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Environ())
	stop()
	os.Exit(code)
}

const usage = `frontdesk — identity and onboarding for practice software

Usage:
  frontdesk serve    [--config FILE]
  frontdesk migrate  [--config FILE]
  frontdesk practice create --slug SLUG --name NAME --owner-email EMAIL [--owner-name NAME] [--preset P] [--json] [--config FILE]
  frontdesk practice presets [--json]
  frontdesk admin unlock --practice SLUG --email EMAIL [--config FILE]
  frontdesk admin invite --practice SLUG --email EMAIL --role R [--role R...] [--name NAME] [--app CLIENT] [--json] [--config FILE]
  frontdesk admin temporary-password --practice SLUG --email EMAIL [--json] [--config FILE]
  frontdesk admin members --practice SLUG [--status S] [--role R] [--query Q] [--json] [--config FILE]
  frontdesk admin deactivate --practice SLUG --email EMAIL [--json] [--config FILE]
  frontdesk admin revoke-passkeys --practice SLUG --email EMAIL [--json] [--config FILE]
  frontdesk practice policy --practice SLUG [--require-strong-login ROLE,ROLE... | --clear] [--json] [--config FILE]
  frontdesk practice list [--json] [--config FILE]
  frontdesk practice sso add --practice SLUG --kind google|entra|generic [--issuer URL] [--tenant ID] --client-id ID --client-secret-file FILE|- [--name NAME] [--domain D...] [--join-role R] [--json] [--config FILE]
  frontdesk practice sso list|requests --practice SLUG [--json] [--config FILE]
  frontdesk practice sso remove|approve|reject --practice SLUG --id ID [--config FILE]
  frontdesk keys rotate [--alg ES256|RS256|all] [--json] [--config FILE]
  frontdesk audit verify [--practice SLUG] [--config FILE]
  frontdesk audit export --practice SLUG [--format jsonl|csv] [--since T] [--until T] [--action A] [--config FILE]
  frontdesk version

Every setting can be given in the YAML file or as FRONTDESK_<SECTION>_<KEY>
(see config.example.yaml).
`

// run executes one command line and returns the process exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, env []string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	var err error
	switch args[0] {
	case "serve":
		err = cmdServe(ctx, args[1:], stderr, env)
	case "migrate":
		err = cmdMigrate(ctx, args[1:], stdout, stderr, env)
	case "practice":
		err = cmdPractice(ctx, args[1:], stdout, stderr, env)
	case "admin":
		err = cmdAdmin(ctx, args[1:], stdout, stderr, env)
	case "keys":
		err = cmdKeys(ctx, args[1:], stdout, stderr, env)
	case "audit":
		err = cmdAudit(ctx, args[1:], stdout, stderr, env)
	case "version", "--version":
		fmt.Fprintln(stdout, versionString())
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "frontdesk: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "frontdesk: %v\n", err)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "frontdesk: %v\n", err)
		return 1
	}
}

// usageError is a mistake on the command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }
