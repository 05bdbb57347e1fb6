package account

import (
	"context"
	"errors"
	"fmt"
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
