package account_test

import (
	"net/mail"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/frontdeskhq/frontdesk/identity/account"
)

// FuzzParseEmail: whatever comes in, an accepted address is one plain,
// bounded address with no control characters, and nothing panics.
func FuzzParseEmail(f *testing.F) {
	for _, s := range []string{"olive@example.org", " Olive@Example.org ", "Eve <eve@example.org>",
		"a@b@c", "olive@example.org\r\nBcc: x@y", "\"quoted name\"@example.org", "", "@", "ü@例え.jp"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := account.ParseEmail(in)
		if err != nil {
			return
		}
		if len(got) > 254 || !utf8.ValidString(got) || strings.ContainsFunc(got, unicode.IsControl) {
			t.Fatalf("accepted %q", got)
		}
		a, err := mail.ParseAddress(got)
		if err != nil || a.Address != got || a.Name != "" {
			t.Fatalf("accepted %q which does not reparse as itself", got)
		}
	})
}
