package problem_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/frontdeskhq/frontdesk/identity/problem"
)

var errCause = errors.New("cause")

func TestErrors(t *testing.T) {
	sentinel := problem.New(problem.Forbidden, "forbidden", "pkg: not allowed", "")
	invalid := problem.New(problem.Invalid, "invalid_request", "pkg: invalid request", "invalid request")
	for _, tc := range []struct {
		name               string
		err                error
		is                 []error
		kind               problem.Kind
		code, public, text string
		reason             string
	}{
		{"sentinel", sentinel, []error{sentinel}, problem.Forbidden, "forbidden", "", "pkg: not allowed", ""},
		{"reason alone", sentinel.Withf("this needs the %s permission", "x.y"), []error{sentinel}, problem.Forbidden, "forbidden",
			"this needs the x.y permission", "pkg: not allowed: this needs the x.y permission", "this needs the x.y permission"},
		{"reason after public", invalid.Withf("no such practice"), []error{invalid}, problem.Invalid, "invalid_request",
			"invalid request: no such practice", "pkg: invalid request: no such practice", "no such practice"},
		{"withf wraps", invalid.Withf("%w", errCause), []error{invalid, errCause}, problem.Invalid, "invalid_request",
			"invalid request: cause", "pkg: invalid request: cause", "cause"},
		{"wrap keeps inner public", sentinel.Wrap(invalid.Withf("bad")), []error{sentinel, invalid}, problem.Forbidden, "forbidden",
			"invalid request: bad", "pkg: not allowed: pkg: invalid request: bad", "bad"},
		{"wrap hides other cause", invalid.Wrap(errCause), []error{invalid, errCause}, problem.Invalid, "invalid_request",
			"invalid request", "pkg: invalid request: cause", ""},
		{"append", problem.Append(fmt.Errorf("ctx: %w", invalid.Withf("a")), " (b)"), []error{invalid}, problem.Invalid,
			"invalid_request", "invalid request: a (b)", "ctx: pkg: invalid request: a (b)", "a (b)"},
		{"sayf says the sentence alone", invalid.Sayf("You can't give the %s role.", "Biller"), []error{invalid}, problem.Invalid,
			"invalid_request", "You can't give the Biller role.", "pkg: invalid request: You can't give the Biller role.",
			"You can't give the Biller role."},
		{"found through wrapping", fmt.Errorf("ctx: %w", invalid), []error{invalid}, problem.Invalid, "invalid_request",
			"invalid request", "ctx: pkg: invalid request", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, target := range tc.is {
				if !errors.Is(tc.err, target) {
					t.Errorf("errors.Is(%v, %v) = false", tc.err, target)
				}
			}
			p, ok := problem.As(tc.err)
			if !ok {
				t.Fatal("As found no *Error")
			}
			if p.Kind != tc.kind || p.Code != tc.code || p.Public != tc.public || p.Reason != tc.reason {
				t.Errorf("got kind %v code %q public %q reason %q; want %v %q %q %q", p.Kind, p.Code, p.Public, p.Reason,
					tc.kind, tc.code, tc.public, tc.reason)
			}
			if got := problem.KindOf(tc.err); got != tc.kind {
				t.Errorf("KindOf = %v, want %v", got, tc.kind)
			}
			if tc.err.Error() != tc.text {
				t.Errorf("Error() = %q, want %q", tc.err.Error(), tc.text)
			}
		})
	}
	if errors.Is(sentinel.Withf("x"), invalid) {
		t.Error("a derived error matches an unrelated sentinel")
	}
	if got := problem.KindOf(errCause); got != problem.Internal {
		t.Errorf("KindOf(plain error) = %v, want internal", got)
	}
	if got := problem.Append(errCause, "!"); got.Error() != "cause!" || !errors.Is(got, errCause) {
		t.Errorf("Append(plain) = %v", got)
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[problem.Kind]string{problem.Internal: "internal", problem.Invalid: "invalid",
		problem.Forbidden: "forbidden", problem.NotFound: "not_found", problem.Conflict: "conflict",
		problem.Unavailable: "unavailable", problem.Kind(99): "Kind(99)"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", int(k), got, want)
		}
	}
}
