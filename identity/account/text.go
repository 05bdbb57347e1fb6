package account

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// CheckText checks a short, single-line human text (a display name, an app's
// name) and returns it trimmed of surrounding space. It refuses invalid
// UTF-8, line breaks and every other control or invisible formatting
// character (Unicode categories Cc, Cf, Zl and Zp: bidirectional overrides and
// zero-width characters included), so the text can neither forge a line in a
// log or an export nor disguise itself on a page. The error names field and
// says what to fix.
func CheckText(field, v string, maxRunes int) (string, error) {
	if !utf8.ValidString(v) {
		return "", &InvalidInputError{Field: field, Reason: "is not valid text"}
	}
	// Checked before trimming: a trailing line break is refused, not
	// silently dropped.
	if strings.ContainsFunc(v, func(r rune) bool {
		return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp)
	}) {
		return "", &InvalidInputError{Field: field, Reason: "must be one line of plain text, without line breaks, tabs or invisible characters"}
	}
	v = strings.TrimSpace(v)
	if v == "" {
		return "", &InvalidInputError{Field: field, Reason: "is required"}
	}
	if utf8.RuneCountInString(v) > maxRunes {
		return "", &InvalidInputError{Field: field, Reason: "is too long; use at most " + strconv.Itoa(maxRunes) + " characters"}
	}
	return v, nil
}
