// Package problem is frontdesk's one vocabulary for errors a person may be
// shown. A *Error carries a Kind (what sort of refusal it is, which each
// surface maps to a status once), a stable machine Code for the admin API,
// a Public text that is safe to show (it names roles, permissions and fields,
// never secrets or internal detail), and, kept apart from the public text,
// the internal message and wrapped cause for logs.
//
// Services declare sentinels with New and derive errors that carry a reason
// with Withf or Wrap; a derived error still matches its sentinel with
// errors.Is. Surfaces read the public text with As and never parse
// err.Error(). The shape follows zitadel/oidc's oidc.Error (type,
// description, parent) and fosite's split of public and debug text.
package problem

import (
	"errors"
	"fmt"
)

// Kind is the sort of problem; each surface maps it to a status once.
type Kind int

// The kinds. The zero Kind is Internal: nothing a person can act on.
const (
	Internal    Kind = iota // a fault on our side (500)
	Invalid                 // the request is malformed; Public says what to fix (400)
	Forbidden               // the actor may not do this; Public says why (403)
	NotFound                // no such thing in this practice (404)
	Conflict                // the current state does not allow it (409)
	Unavailable             // temporarily unable; retry later (503)
)

// String names the kind.
func (k Kind) String() string {
	switch k {
	case Internal:
		return "internal"
	case Invalid:
		return "invalid"
	case Forbidden:
		return "forbidden"
	case NotFound:
		return "not_found"
	case Conflict:
		return "conflict"
	case Unavailable:
		return "unavailable"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Error is a problem a person may be told about.
type Error struct {
	Kind Kind
	// Code is a stable machine code for the admin API ("last_manager");
	// empty means the surface's default code for the Kind.
	Code string
	// Public is safe to show a person; empty means the surface's default
	// text for the Kind.
	Public string
	// Reason is the reason given with Withf (the end of Public), for a
	// surface that words the refusal itself; empty on a sentinel.
	Reason string

	msg    string // internal text (Error), for logs
	parent *Error // the sentinel this was derived from
	cause  error
}

// New declares a sentinel: msg is the internal text returned by Error (for
// logs, "pkg: what"), public the text a person sees.
func New(kind Kind, code, msg, public string) *Error {
	return &Error{Kind: kind, Code: code, Public: public, msg: msg}
}

// Error is the internal text, for logs; never show it to a person.
func (e *Error) Error() string { return e.msg }

// Unwrap returns the sentinel e was derived from and the wrapped cause.
func (e *Error) Unwrap() []error {
	var errs []error
	if e.parent != nil {
		errs = append(errs, e.parent)
	}
	if e.cause != nil {
		errs = append(errs, e.cause)
	}
	return errs
}

// Withf derives an error of e's kind and code that gives a reason. The reason
// is formatted like fmt.Errorf (%w wraps) and must be safe to show: the
// public text is e's public text, ": " and the reason (or the reason alone
// when e's is empty); the internal text is e's, ": " and the reason.
func (e *Error) Withf(format string, args ...any) *Error {
	reason := fmt.Errorf(format, args...)
	d := &Error{Kind: e.Kind, Code: e.Code, Public: reason.Error(), Reason: reason.Error(), msg: e.msg + ": " + reason.Error(),
		parent: e}
	if e.Public != "" {
		d.Public = e.Public + ": " + d.Public
	}
	if errors.Unwrap(reason) != nil || len(unwrapAll(reason)) > 0 {
		d.cause = reason
	}
	return d
}

// Sayf derives an error of e's kind and code whose public text is the
// formatted sentence alone, without e's public text in front: for refusals
// that word themselves completely ("You can't give the Biller role; ask the
// practice owner."). The text must be safe to show; the error matches e with
// errors.Is.
func (e *Error) Sayf(format string, args ...any) *Error {
	d := e.Withf(format, args...)
	d.Public = d.Reason
	return d
}

// Wrap derives an error of e's kind and code around err, which may be a
// *Error of another service: its public text is kept; any other cause stays
// internal and e's public text is used.
func (e *Error) Wrap(err error) *Error {
	d := &Error{Kind: e.Kind, Code: e.Code, Public: e.Public, msg: e.msg + ": " + err.Error(), parent: e, cause: err}
	if p, ok := As(err); ok {
		d.Public, d.Reason = p.Public, p.Reason
	}
	return d
}

// Append adds text to the end of both the public and the internal text of
// the first *Error in err's chain, keeping its kind, code and what it
// matches; an err without one gets text appended with %w.
func Append(err error, text string) error {
	p, ok := As(err)
	if !ok {
		return fmt.Errorf("%w%s", err, text)
	}
	return &Error{Kind: p.Kind, Code: p.Code, Public: p.Public + text, Reason: p.Reason + text, msg: err.Error() + text,
		parent: p, cause: err}
}

// As returns the first *Error in err's chain.
func As(err error) (*Error, bool) {
	var p *Error
	ok := errors.As(err, &p)
	return p, ok
}

// KindOf is the kind of the first *Error in err's chain, Internal if none.
func KindOf(err error) Kind {
	if p, ok := As(err); ok {
		return p.Kind
	}
	return Internal
}

func unwrapAll(err error) []error {
	if u, ok := err.(interface{ Unwrap() []error }); ok {
		return u.Unwrap()
	}
	return nil
}
