package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/oidc"
)

// cmdKeys manages the OpenID provider's signing keys.
func cmdKeys(ctx context.Context, args []string, stdout, stderr io.Writer, env []string) error {
	if len(args) == 0 {
		return usageError{msg: "keys: expected a subcommand: rotate"}
	}
	switch args[0] {
	case "rotate":
		return cmdKeysRotate(ctx, args[1:], stdout, stderr, env)
	default:
		return usageError{msg: fmt.Sprintf("keys: unknown subcommand %q; expected: rotate", args[0])}
	}
}

// rotatedKey is one line of keys rotate --json.
type rotatedKey struct {
	KeyID      string    `json:"kid"`
	Alg        string    `json:"alg"`
	ActiveFrom time.Time `json:"active_from"`
}

// cmdKeysRotate adds a new signing key per algorithm. Each is published in
// the JWKS at once and signs from a few minutes later; the keys it replaces
// stay published until their tokens have expired. Running servers pick the
// new key up by themselves.
func cmdKeysRotate(ctx context.Context, args []string, stdout, stderr io.Writer, env []string) error {
	fs, path := newFlags("keys rotate", stderr)
	alg := fs.String("alg", "all", "algorithm to rotate: ES256, RS256 or all")
	asJSON := fs.Bool("json", false, "print the new keys as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	var algs []string
	switch *alg {
	case "all":
		algs = []string{oidc.AlgES256, oidc.AlgRS256}
	case oidc.AlgES256, oidc.AlgRS256:
		algs = []string{*alg}
	default:
		return usageError{msg: fmt.Sprintf("keys rotate: --alg %q is not offered; use ES256, RS256 or all", *alg)}
	}
	a, err := openApp(ctx, *path, env, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	var out []rotatedKey
	for _, al := range algs {
		kid, from, err := a.OIDC.Keys().Rotate(ctx, al)
		if err != nil {
			return fmt.Errorf("keys rotate: %w", err)
		}
		out = append(out, rotatedKey{KeyID: kid, Alg: al, ActiveFrom: from.UTC()})
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	for _, k := range out {
		fmt.Fprintf(stdout, "New %s key %s is published now and signs from %s.\n", k.Alg, k.KeyID, k.ActiveFrom.Format(time.RFC3339))
	}
	return nil
}
