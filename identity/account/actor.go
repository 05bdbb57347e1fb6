package account

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/problem"
	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/invites"
	"github.com/frontdeskhq/frontdesk/templates"
)

// This file holds what every administrative action of the account service
// shares: who acts (Actor), what they may do (Permissions, require), how a
// refusal is audited, and how mail is queued in the action's transaction.
// Errors of administrative actions such as Unlock.
var (
	// ErrMemberNotFound: the practice has no member with that email or ID.
	ErrMemberNotFound = problem.New(problem.NotFound, "not_found", "account: no such member in this practice",
		"There is no such member in this practice.")
	// ErrForbidden: the acting member lacks the permission for the action.
	ErrForbidden = problem.New(problem.Forbidden, "forbidden", "account: not allowed", "not allowed")
)

// PasswordHasher evaluates and creates password hashes; *password.Hasher is
// the production implementation. Tests wrap it to count evaluations.
type PasswordHasher interface {
	Hash(ctx context.Context, pw string) (string, error)
	Verify(ctx context.Context, encoded, pw string) (ok, needsRehash bool, err error)
	VerifyDummy(ctx context.Context, pw string) bool
}

// OperatorActorID is the actor recorded for actions taken with the operator
// CLI.
const OperatorActorID = "operator"

// Actor is who performs an administrative action: a member of the practice,
// or the operator at the command line.
type Actor struct {
	MemberID string
	Operator bool
}

// Operator is the Actor of operator CLI commands.
func Operator() Actor { return Actor{Operator: true} }

func (a Actor) id() string {
	if a.Operator {
		return OperatorActorID
	}
	return a.MemberID
}

// Permissions is what the account service asks the role model.
type Permissions interface {
	// Allowed reports whether the member's permissions imply perm.
	Allowed(ctx context.Context, practiceID, memberID, perm string) (bool, error)
	// Holders lists the IDs of the practice's members whose permissions imply perm.
	Holders(ctx context.Context, practiceID, perm string) ([]string, error)
}

// enqueue renders the mail data, which must name practice p, and writes it
// to the outbox inside tx, from the practice's name.
func (s *Service) enqueue(ctx context.Context, tx *store.Store, p store.Practice, kind, refID, to string,
	data templates.MailData, links ...string) error {
	if data.Practice() != p.Name {
		return fmt.Errorf("account: %s mail: practice name %q, want %q", data.MailName(), data.Practice(), p.Name)
	}
	r, err := s.d.Mails.Render(data)
	if err != nil {
		return fmt.Errorf("account: %s mail: %w", data.MailName(), err)
	}
	return tx.EnqueueMail(ctx, store.OutboxMail{ID: s.d.NewID(), PracticeID: p.ID, Kind: kind, RefID: refID,
		CreatedAt: s.d.Now(), Message: invites.Message{To: to, Subject: r.Subject, Text: r.Text, HTML: r.HTML,
			Links: links, FromName: p.Name}})
}

// queued wakes the outbox worker after a transaction queued mail.
func (s *Service) queued() {
	if s.d.OutboxNotify != nil {
		s.d.OutboxNotify()
	}
}

// actorPermissions returns what the actor may do in the practice: every
// permission for the operator, the member's effective permissions otherwise
// (none for a member who is not active).
func (s *Service) actorPermissions(ctx context.Context, p store.Practice, a Actor) ([]string, error) {
	if a.Operator {
		return nil, nil
	}
	if s.d.Roles == nil {
		return nil, fmt.Errorf("account: no role model configured")
	}
	m, err := s.d.Store.MemberByID(ctx, p.ID, a.MemberID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrForbidden.Withf("the acting member is not a member of this practice")
	}
	if err != nil {
		return nil, fmt.Errorf("account: actor: %w", err)
	}
	if m.Status != store.StatusActive {
		return nil, ErrForbidden.Withf("the acting member is not active")
	}
	eff, err := s.d.Roles.Effective(ctx, p.ID, a.MemberID)
	if errors.Is(err, roles.ErrMemberNotFound) {
		return nil, ErrForbidden.Withf("the acting member is not active")
	}
	if err != nil {
		return nil, fmt.Errorf("account: actor permissions: %w", err)
	}
	return eff.Permissions, nil
}

// require checks that the actor holds perm and returns the actor's
// permissions.
func (s *Service) require(ctx context.Context, p store.Practice, a Actor, perm string) ([]string, error) {
	perms, err := s.actorPermissions(ctx, p, a)
	if err != nil {
		return nil, err
	}
	if !a.Operator && !roles.Allows(perms, perm) {
		return nil, ErrForbidden.Withf("this needs the %s permission", perm)
	}
	return perms, nil
}

// refuseAudit records a refused administrative action.
func (s *Service) refuseAudit(ctx context.Context, p store.Practice, a Actor, action, subject string, err error, meta Meta) {
	s.auditBestEffort(ctx, store.AuditEvent{PracticeID: p.ID, Action: action, Outcome: "failure", ActorID: a.id(),
		SubjectID: subject, Details: map[string]string{"reason": truncate(err.Error(), 300)}}, meta)
}

func formatTime(t time.Time) string { return t.UTC().Format("Mon 2 Jan 2006 15:04 MST") }

// The exported core below is what identity/onboarding (invitations,
// temporary passwords, reset links) builds on: it sits above this package
// and does its work through these names, so a change to how an action is
// authorised, audited, mailed or signed in is made here once.

// ID is the actor's ID for audit rows and invitation records: the member's
// ID, or OperatorActorID.
func (a Actor) ID() string { return a.id() }

// Require checks that the actor holds perm in the practice (the operator
// holds every permission; a member must be active) and returns the actor's
// permissions. A refusal is ErrForbidden.
func (s *Service) Require(ctx context.Context, p store.Practice, a Actor, perm string) ([]string, error) {
	return s.require(ctx, p, a, perm)
}

// RefuseAudit records a refused administrative action (outcome "failure",
// err's text as the reason); a failure to write it is logged.
func (s *Service) RefuseAudit(ctx context.Context, p store.Practice, a Actor, action, subject string, err error, meta Meta) {
	s.refuseAudit(ctx, p, a, action, subject, err, meta)
}

// Enqueue renders the mail data, which must name practice p, and writes it
// to the outbox inside tx, from the practice's name; links are the message's
// links (for the file transport's log). Call Queued after tx commits.
func (s *Service) Enqueue(ctx context.Context, tx *store.Store, p store.Practice, kind, refID, to string,
	data templates.MailData, links ...string) error {
	return s.enqueue(ctx, tx, p, kind, refID, to, data, links...)
}

// Queued wakes the outbox worker after a transaction queued mail.
func (s *Service) Queued() { s.queued() }

// FormatTime is how mails show a time (UTC, e.g. "Mon 2 Jan 2006 15:04 UTC").
func FormatTime(t time.Time) string { return formatTime(t) }

// Link is an absolute URL under the configured public URL (never a request's
// Host header) with the query q.
func (s *Service) Link(path string, q url.Values) string { return s.link(path, q) }

// AppURL is the landing URL of the practice app with client ID app, and
// whether app is configured (Settings.AppURLs).
func (s *Service) AppURL(app string) (string, bool) {
	u, ok := s.set.AppURLs[app]
	return u, ok
}

// CleanName checks a human-readable name given for field: trimmed, at most
// 200 characters, no control characters; required refuses an empty one.
// Errors are *InvalidInputError.
func CleanName(field, v string, required bool) (string, error) { return cleanName(field, v, required) }

// NewPasswordHash checks a chosen password (its confirmation, the policy
// with the practice and the member's email as context) and hashes it.
// Errors are ErrPasswordMismatch, the policy's, or a hashing failure.
func (s *Service) NewPasswordHash(ctx context.Context, p store.Practice, m store.Member, newPw, confirm string) (string, error) {
	return s.newPasswordHash(ctx, p, m, newPw, confirm)
}

// StartSession starts a new session for the active member m (a fresh token)
// with the authentication methods amr, records the login, and returns the
// principal and the session's cookie value. A member locked or deactivated
// meanwhile gets ErrNotActive.
func (s *Service) StartSession(ctx context.Context, p store.Practice, m store.Member, amr []string, meta Meta) (Principal, string, error) {
	return s.startSession(ctx, p, m, amr, meta)
}

// ErrNotActive: the member was locked (under a policy that blocks the
// method) or deactivated before their session could start.
var ErrNotActive = errNotActive

// StartSessionAfter starts a session for member m, who proved who they are by
// method (never a password), in one transaction with before, which runs
// first: the session exists if and only if before succeeded. The member is
// re-checked under its row lock (ErrNotActive); details (no secrets) go to
// the login's audit row. A started session counts as a login in the
// metrics.
func (s *Service) StartSessionAfter(ctx context.Context, p store.Practice, m store.Member, method string, amr []string,
	details map[string]string, meta Meta, before func(tx *store.Store) error) (Principal, string, error) {
	pr, token, err := s.methodSession(ctx, p, m, method, amr, details, meta, before)
	if err != nil {
		return Principal{}, "", err
	}
	s.metrics.logins.Inc()
	return pr, token, nil
}
