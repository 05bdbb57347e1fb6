// Command gendoc writes docs/roles.md from the role model's code:
//
//	go generate ./identity/roles
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/frontdeskhq/frontdesk/identity/roles"
)

func main() {
	out := flag.String("o", "docs/roles.md", "output `file`")
	flag.Parse()
	if err := os.WriteFile(*out, roles.Doc(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gendoc:", err)
		os.Exit(1)
	}
}
