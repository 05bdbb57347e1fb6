package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/frontdeskhq/frontdesk/identity/roles"
)

// presetJSON is one preset as `frontdesk practice presets --json` prints it:
// key, name, description, roles (key, name, description, permissions,
// requires, exclusive), owner_roles, toggles and member_options, and whether
// it is the default.
type presetJSON struct {
	roles.Preset
	Default bool `json:"default"`
}

// cmdPracticePresets lists the role presets a practice can be created with.
// It reads no database: presets are part of the binary.
func cmdPracticePresets(args []string, stdout, stderr io.Writer) error {
	fs, _ := newFlags("practice presets", stderr)
	asJSON := fs.Bool("json", false, "print a JSON array of presets with their roles and permissions")
	if err := parse(fs, args); err != nil {
		return err
	}
	presets := roles.Presets()
	if *asJSON {
		out := make([]presetJSON, 0, len(presets))
		for _, p := range presets {
			out = append(out, presetJSON{Preset: p, Default: p.Key == roles.DefaultPreset})
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	for i, p := range presets {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		def := ""
		if p.Key == roles.DefaultPreset {
			def = " (default)"
		}
		fmt.Fprintf(stdout, "%s — %s%s\n  %s\n  The practice's creator gets: %s\n", p.Key, p.Name, def, p.Description,
			strings.Join(p.OwnerRoles, ", "))
		for _, r := range p.Roles {
			fmt.Fprintf(stdout, "  - %s (%s): %s\n", r.Key, r.Name, strings.Join(r.Permissions, " "))
		}
		for _, t := range p.Toggles {
			fmt.Fprintf(stdout, "  toggle %s (default %v): %s\n", t.Key, t.Default, t.Name)
		}
		for _, o := range p.MemberOptions {
			fmt.Fprintf(stdout, "  member option %s: %s\n", o.Key, o.Name)
		}
	}
	fmt.Fprintln(stdout, "\nCreate a practice with one: frontdesk practice create --preset KEY … (docs/roles.md explains every permission).")
	return nil
}
