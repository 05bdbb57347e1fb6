package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/frontdeskhq/frontdesk/invites"
)

// PurposeReset lets a member choose a new password after "forgot password".
const PurposeReset LinkPurpose = "reset"

// InvitationState is where an invitation stands, as listed to administrators.
type InvitationState string

// Invitation states.
const (
	InvitationPending        InvitationState = "pending"
	InvitationAccepted       InvitationState = "accepted"
	InvitationExpired        InvitationState = "expired"
	InvitationRevoked        InvitationState = "revoked"
	InvitationDeliveryFailed InvitationState = "delivery failed"
)

// Invitation brings a new member into a practice with the roles chosen when
// inviting. Only the SHA-256 hash of its token is stored; resending replaces
// the hash, so the old link stops working.
type Invitation struct {
	ID         string
	PracticeID string
	MemberID   string
	Email      string
	Roles      []string
	// App is the client ID of the app the invitee lands in, or "".
	App string
	// InvitedBy is the inviting member's ID, or "operator".
	InvitedBy        string
	Sends            int
	CreatedAt        time.Time
	UpdatedAt        time.Time
	ExpiresAt        time.Time
	AcceptedAt       time.Time
	RevokedAt        time.Time
	DeliveredAt      time.Time
	DeliveryFailedAt time.Time
}

// State reports the invitation's state at now.
func (i Invitation) State(now time.Time) InvitationState {
	switch {
	case !i.AcceptedAt.IsZero():
		return InvitationAccepted
	case !i.RevokedAt.IsZero():
		return InvitationRevoked
	case !now.Before(i.ExpiresAt):
		return InvitationExpired
	case !i.DeliveryFailedAt.IsZero():
		return InvitationDeliveryFailed
	}
	return InvitationPending
}

// Usable reports whether the invitation's link may still be redeemed at now.
// A link whose delivery failed still works if it somehow arrived.
func (i Invitation) Usable(now time.Time) bool {
	return i.AcceptedAt.IsZero() && i.RevokedAt.IsZero() && now.Before(i.ExpiresAt)
}

// CreateInvitation stores inv under the hash of its token.
func (s *Store) CreateInvitation(ctx context.Context, inv Invitation, tokenHash []byte) error {
	_, err := s.exec(ctx, `INSERT INTO invitations (id, practice_id, member_id, email, roles, app, invited_by,
		token_hash, sends, created_at, updated_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $9, $10)`,
		inv.ID, inv.PracticeID, inv.MemberID, inv.Email, strings.Join(dedupe(inv.Roles), " "), inv.App, inv.InvitedBy,
		tokenHash, micros(inv.CreatedAt), micros(inv.ExpiresAt))
	if isUniqueViolation(err) {
		return fmt.Errorf("invitation: %w", ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("store: create invitation: %w", err)
	}
	return nil
}

const invitationColumns = `id, practice_id, member_id, email, roles, app, invited_by, sends, created_at, updated_at,
	expires_at, accepted_at, revoked_at, delivered_at, delivery_failed_at`

func scanInvitation(sc interface{ Scan(...any) error }) (Invitation, error) {
	var (
		i                                     Invitation
		roles                                 string
		created, updated, expires             int64
		accepted, revoked, delivered, dfailed sql.NullInt64
	)
	if err := sc.Scan(&i.ID, &i.PracticeID, &i.MemberID, &i.Email, &roles, &i.App, &i.InvitedBy, &i.Sends,
		&created, &updated, &expires, &accepted, &revoked, &delivered, &dfailed); err != nil {
		return Invitation{}, err
	}
	i.Roles = strings.Fields(roles)
	i.CreatedAt, i.UpdatedAt, i.ExpiresAt = fromMicros(created), fromMicros(updated), fromMicros(expires)
	i.AcceptedAt, i.RevokedAt = fromNullMicros(accepted), fromNullMicros(revoked)
	i.DeliveredAt, i.DeliveryFailedAt = fromNullMicros(delivered), fromNullMicros(dfailed)
	return i, nil
}

// InvitationByTokenHash finds an invitation by the hash of its current token,
// in whatever state.
func (s *Store) InvitationByTokenHash(ctx context.Context, tokenHash []byte) (Invitation, error) {
	i, err := scanInvitation(s.queryRow(ctx, `SELECT `+invitationColumns+` FROM invitations WHERE token_hash = $1`, tokenHash))
	if err != nil {
		return Invitation{}, notFound(err, "invitation")
	}
	return i, nil
}

// InvitationByID finds one of the practice's invitations.
func (s *Store) InvitationByID(ctx context.Context, practiceID, id string) (Invitation, error) {
	i, err := scanInvitation(s.queryRow(ctx, `SELECT `+invitationColumns+` FROM invitations
		WHERE practice_id = $1 AND id = $2`, practiceID, id))
	if err != nil {
		return Invitation{}, notFound(err, "invitation")
	}
	return i, nil
}

// ListInvitations lists the practice's invitations, newest first.
func (s *Store) ListInvitations(ctx context.Context, practiceID string) ([]Invitation, error) {
	return s.invitations(ctx, `SELECT `+invitationColumns+` FROM invitations WHERE practice_id = $1
		ORDER BY created_at DESC, id DESC`, practiceID)
}

// MemberInvitations lists the member's invitations, newest first.
func (s *Store) MemberInvitations(ctx context.Context, memberID string) ([]Invitation, error) {
	return s.invitations(ctx, `SELECT `+invitationColumns+` FROM invitations WHERE member_id = $1
		ORDER BY created_at DESC, id DESC`, memberID)
}

func (s *Store) invitations(ctx context.Context, q string, args ...any) ([]Invitation, error) {
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: invitations: %w", err)
	}
	defer rows.Close()
	var out []Invitation
	for rows.Next() {
		i, err := scanInvitation(rows)
		if err != nil {
			return nil, fmt.Errorf("store: invitations: %w", err)
		}
		out = append(out, i)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: invitations: %w", err)
	}
	return out, nil
}

// RotateInvitation gives a pending (or expired, or undelivered) invitation a
// new token and expiry — resending. The old token's hash is overwritten, so
// the old link is void. An accepted or revoked invitation yields
// ErrLinkUnusable.
func (s *Store) RotateInvitation(ctx context.Context, id string, tokenHash []byte, expires, now time.Time) error {
	res, err := s.exec(ctx, `UPDATE invitations SET token_hash = $1, expires_at = $2, updated_at = $3,
		sends = sends + 1, delivered_at = NULL, delivery_failed_at = NULL
		WHERE id = $4 AND accepted_at IS NULL AND revoked_at IS NULL`, tokenHash, micros(expires), micros(now), id)
	return oneOrUnusable(res, err, "rotate invitation")
}

// AcceptInvitation marks the invitation accepted, provided the token hash is
// still its current one and it is neither accepted, revoked nor expired at
// now. Of concurrent acceptances exactly one succeeds; the others get
// ErrLinkUnusable.
func (s *Store) AcceptInvitation(ctx context.Context, id string, tokenHash []byte, now time.Time) error {
	res, err := s.exec(ctx, `UPDATE invitations SET accepted_at = $1, updated_at = $1
		WHERE id = $2 AND token_hash = $3 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $1`,
		micros(now), id, tokenHash)
	return oneOrUnusable(res, err, "accept invitation")
}

// RevokeInvitation voids a pending invitation. One already accepted or
// revoked yields ErrLinkUnusable.
func (s *Store) RevokeInvitation(ctx context.Context, id string, now time.Time) error {
	res, err := s.exec(ctx, `UPDATE invitations SET revoked_at = $1, updated_at = $1
		WHERE id = $2 AND accepted_at IS NULL AND revoked_at IS NULL`, micros(now), id)
	return oneOrUnusable(res, err, "revoke invitation")
}

// RevokeMemberInvitations voids every open invitation of the member and
// reports how many.
func (s *Store) RevokeMemberInvitations(ctx context.Context, memberID string, now time.Time) (int64, error) {
	res, err := s.exec(ctx, `UPDATE invitations SET revoked_at = $1, updated_at = $1
		WHERE member_id = $2 AND accepted_at IS NULL AND revoked_at IS NULL`, micros(now), memberID)
	if err != nil {
		return 0, fmt.Errorf("store: revoke member invitations: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: revoke member invitations: %w", err)
	}
	return n, nil
}

// VoidMemberLinks consumes every unused link of the member, whatever its
// purpose, and reports how many.
func (s *Store) VoidMemberLinks(ctx context.Context, memberID string, now time.Time) (int64, error) {
	res, err := s.exec(ctx, `UPDATE links SET consumed_at = $1 WHERE member_id = $2 AND consumed_at IS NULL`,
		micros(now), memberID)
	if err != nil {
		return 0, fmt.Errorf("store: void member links: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: void member links: %w", err)
	}
	return n, nil
}

// LatestLinkAt reports when the member's newest link for purpose was created
// (zero when there is none), to rate-limit self-service requests.
func (s *Store) LatestLinkAt(ctx context.Context, memberID string, purpose LinkPurpose) (time.Time, error) {
	var v sql.NullInt64
	err := s.queryRow(ctx, `SELECT MAX(created_at) FROM links WHERE member_id = $1 AND purpose = $2`,
		memberID, string(purpose)).Scan(&v)
	if err != nil {
		return time.Time{}, fmt.Errorf("store: latest link: %w", err)
	}
	return fromNullMicros(v), nil
}

// ReactivateInvited turns a deactivated member back into an invited one (a
// former member invited again), keeping every record, and replaces their
// roles.
func (s *Store) ReactivateInvited(ctx context.Context, memberID string, roles []string, now time.Time) error {
	if err := s.expectOne(s.exec(ctx, `UPDATE members SET status = 'invited', updated_at = $1
		WHERE id = $2 AND status IN ('deactivated', 'invited')`, micros(now), memberID))("reinvite member"); err != nil {
		return err
	}
	return s.SetMemberRoles(ctx, memberID, roles)
}

// TemporaryPassword is a single-use, expiring password an administrator had
// emailed to a member. Only its argon2id hash is stored.
type TemporaryPassword struct {
	ID           string
	PracticeID   string
	MemberID     string
	PasswordHash string
	IssuedBy     string
	CreatedAt    time.Time
	ExpiresAt    time.Time
}

// CreateTemporaryPassword voids the member's earlier temporary passwords and
// stores tp.
func (s *Store) CreateTemporaryPassword(ctx context.Context, tp TemporaryPassword) error {
	return s.InTx(ctx, func(tx *Store) error {
		if _, err := tx.VoidTemporaryPasswords(ctx, tp.MemberID, tp.CreatedAt); err != nil {
			return err
		}
		_, err := tx.exec(ctx, `INSERT INTO temporary_passwords (id, practice_id, member_id, password_hash, issued_by,
			created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`, tp.ID, tp.PracticeID, tp.MemberID,
			tp.PasswordHash, tp.IssuedBy, micros(tp.CreatedAt), micros(tp.ExpiresAt))
		if err != nil {
			return fmt.Errorf("store: create temporary password: %w", err)
		}
		return nil
	})
}

// ActiveTemporaryPassword returns the member's unused, unexpired temporary
// password, or ErrNotFound.
func (s *Store) ActiveTemporaryPassword(ctx context.Context, memberID string, now time.Time) (TemporaryPassword, error) {
	var (
		tp               TemporaryPassword
		created, expires int64
	)
	err := s.queryRow(ctx, `SELECT id, practice_id, member_id, password_hash, issued_by, created_at, expires_at
		FROM temporary_passwords WHERE member_id = $1 AND used_at IS NULL AND voided_at IS NULL AND expires_at > $2
		ORDER BY created_at DESC LIMIT 1`, memberID, micros(now)).
		Scan(&tp.ID, &tp.PracticeID, &tp.MemberID, &tp.PasswordHash, &tp.IssuedBy, &created, &expires)
	if err != nil {
		return TemporaryPassword{}, notFound(err, "temporary password")
	}
	tp.CreatedAt, tp.ExpiresAt = fromMicros(created), fromMicros(expires)
	return tp, nil
}

// UseTemporaryPassword marks the temporary password used. Exactly one caller
// succeeds; a used, voided or expired one yields ErrLinkUnusable.
func (s *Store) UseTemporaryPassword(ctx context.Context, id string, now time.Time) error {
	res, err := s.exec(ctx, `UPDATE temporary_passwords SET used_at = $1
		WHERE id = $2 AND used_at IS NULL AND voided_at IS NULL AND expires_at > $1`, micros(now), id)
	return oneOrUnusable(res, err, "use temporary password")
}

// VoidTemporaryPasswords voids the member's unused temporary passwords.
func (s *Store) VoidTemporaryPasswords(ctx context.Context, memberID string, now time.Time) (int64, error) {
	res, err := s.exec(ctx, `UPDATE temporary_passwords SET voided_at = $1
		WHERE member_id = $2 AND used_at IS NULL AND voided_at IS NULL`, micros(now), memberID)
	if err != nil {
		return 0, fmt.Errorf("store: void temporary passwords: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: void temporary passwords: %w", err)
	}
	return n, nil
}

// OutboxMail is a message queued for delivery.
type OutboxMail struct {
	ID         string
	PracticeID string
	// Kind is the message type ("invitation", "temporary_password", "reset",
	// "invitation_accepted", ...).
	Kind string
	// RefID is what the message is about (the invitation's ID for an
	// invitation): delivery outcomes are copied to it.
	RefID     string
	Message   invites.Message
	CreatedAt time.Time
}

// OutboxStatus is where an outbox row stands.
type OutboxStatus string

// Outbox statuses.
const (
	OutboxPending OutboxStatus = "pending"
	OutboxSent    OutboxStatus = "sent"
	OutboxFailed  OutboxStatus = "failed"
)

// OutboxEntry is an outbox row's delivery record (without the body).
type OutboxEntry struct {
	ID        string
	Kind      string
	RefID     string
	Recipient string
	Status    OutboxStatus
	Attempts  int
	LastError string
	CreatedAt time.Time
	SentAt    time.Time
	FailedAt  time.Time
}

// EnqueueMail writes a message to the outbox; call it in the transaction
// that creates what the message announces. The message is due at once.
func (s *Store) EnqueueMail(ctx context.Context, m OutboxMail) error {
	_, err := s.exec(ctx, `INSERT INTO mail_outbox (id, practice_id, kind, ref_id, recipient, from_name, subject,
		body_text, body_html, links, status, next_attempt_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending', $11, $11)`,
		m.ID, m.PracticeID, m.Kind, m.RefID, m.Message.To, m.Message.FromName, m.Message.Subject, m.Message.Text,
		m.Message.HTML, strings.Join(m.Message.Links, "\n"), micros(m.CreatedAt))
	if err != nil {
		return fmt.Errorf("store: enqueue mail: %w", err)
	}
	return nil
}

// OutboxMessageID is the stable Message-ID key of an outbox row.
func OutboxMessageID(id string) string { return "outbox-" + id }

// ClaimOutbox implements invites.Outbox. PostgreSQL skips rows another
// worker has locked (FOR UPDATE SKIP LOCKED); SQLite serialises writers, so
// the single UPDATE … RETURNING is atomic. Either way a claimed row is
// leased to one worker until the lease runs out.
func (s *Store) ClaimOutbox(ctx context.Context, worker string, now time.Time, lease time.Duration, limit int) ([]invites.Outgoing, error) {
	lock := s.d.skipLocked
	rows, err := s.query(ctx, `UPDATE mail_outbox SET claimed_by = $1, claim_until = $2, attempts = attempts + 1
		WHERE id IN (SELECT id FROM mail_outbox WHERE status = 'pending' AND next_attempt_at <= $3
			AND claim_until <= $3 ORDER BY next_attempt_at, id LIMIT $4`+lock+`)
		RETURNING id, kind, attempts, recipient, from_name, subject, body_text, body_html, links`,
		worker, micros(now.Add(lease)), micros(now), limit)
	if err != nil {
		return nil, fmt.Errorf("store: claim outbox: %w", err)
	}
	defer rows.Close()
	var out []invites.Outgoing
	for rows.Next() {
		var (
			o     invites.Outgoing
			links string
		)
		if err := rows.Scan(&o.ID, &o.Kind, &o.Attempts, &o.Message.To, &o.Message.FromName, &o.Message.Subject,
			&o.Message.Text, &o.Message.HTML, &links); err != nil {
			return nil, fmt.Errorf("store: claim outbox: %w", err)
		}
		o.Message.ID = OutboxMessageID(o.ID)
		o.Message.Links = strings.Fields(links)
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: claim outbox: %w", err)
	}
	return out, nil
}

// RenewOutbox implements invites.Outbox: every pending row worker still
// holds is leased to it until now+lease. Rows it released (retry, sent,
// failed) no longer carry its name and are left alone.
func (s *Store) RenewOutbox(ctx context.Context, worker string, now time.Time, lease time.Duration) (int64, error) {
	res, err := s.exec(ctx, `UPDATE mail_outbox SET claim_until = $1 WHERE claimed_by = $2 AND status = 'pending'`,
		micros(now.Add(lease)), worker)
	if err != nil {
		return 0, fmt.Errorf("store: renew outbox claims: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: renew outbox claims: %w", err)
	}
	return n, nil
}

// MarkOutboxSent implements invites.Outbox.
func (s *Store) MarkOutboxSent(ctx context.Context, id, worker string, now time.Time) error {
	return s.InTx(ctx, func(tx *Store) error {
		res, err := tx.exec(ctx, `UPDATE mail_outbox SET status = 'sent', sent_at = $1, claimed_by = '', claim_until = 0,
			last_error = '', body_text = '', body_html = '', links = ''
			WHERE id = $2 AND claimed_by = $3 AND status = 'pending'`, micros(now), id, worker)
		if err := oneOrUnusable(res, err, "mark outbox sent"); err != nil {
			return err
		}
		_, err = tx.exec(ctx, `UPDATE invitations SET delivered_at = $1, delivery_failed_at = NULL
			WHERE id = (SELECT ref_id FROM mail_outbox WHERE id = $2 AND kind = 'invitation')`, micros(now), id)
		if err != nil {
			return fmt.Errorf("store: mark invitation delivered: %w", err)
		}
		return nil
	})
}

// MarkOutboxRetry implements invites.Outbox.
func (s *Store) MarkOutboxRetry(ctx context.Context, id, worker string, next time.Time, lastErr string) error {
	res, err := s.exec(ctx, `UPDATE mail_outbox SET next_attempt_at = $1, claimed_by = '', claim_until = 0,
		last_error = $2 WHERE id = $3 AND claimed_by = $4 AND status = 'pending'`, micros(next), lastErr, id, worker)
	return oneOrUnusable(res, err, "mark outbox retry")
}

// MarkOutboxFailed implements invites.Outbox: the row stays, marked failed
// with its last error and its body erased, and the invitation it carried is
// marked "delivery failed".
func (s *Store) MarkOutboxFailed(ctx context.Context, id, worker string, now time.Time, lastErr string) error {
	return s.InTx(ctx, func(tx *Store) error {
		res, err := tx.exec(ctx, `UPDATE mail_outbox SET status = 'failed', failed_at = $1, claimed_by = '',
			claim_until = 0, last_error = $2, body_text = '', body_html = '', links = ''
			WHERE id = $3 AND claimed_by = $4 AND status = 'pending'`, micros(now), lastErr, id, worker)
		if err := oneOrUnusable(res, err, "mark outbox failed"); err != nil {
			return err
		}
		_, err = tx.exec(ctx, `UPDATE invitations SET delivery_failed_at = $1
			WHERE id = (SELECT ref_id FROM mail_outbox WHERE id = $2 AND kind = 'invitation')`, micros(now), id)
		if err != nil {
			return fmt.Errorf("store: mark invitation undelivered: %w", err)
		}
		return nil
	})
}

// CountOutboxPending implements invites.Outbox.
func (s *Store) CountOutboxPending(ctx context.Context) (int, error) {
	var n int
	if err := s.queryRow(ctx, `SELECT COUNT(*) FROM mail_outbox WHERE status = 'pending'`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count outbox: %w", err)
	}
	return n, nil
}

// OutboxEntries lists the delivery records of the messages about refID,
// newest first.
func (s *Store) OutboxEntries(ctx context.Context, refID string) ([]OutboxEntry, error) {
	rows, err := s.query(ctx, `SELECT id, kind, ref_id, recipient, status, attempts, last_error, created_at, sent_at,
		failed_at FROM mail_outbox WHERE ref_id = $1 ORDER BY created_at DESC, id DESC`, refID)
	if err != nil {
		return nil, fmt.Errorf("store: outbox entries: %w", err)
	}
	defer rows.Close()
	var out []OutboxEntry
	for rows.Next() {
		var (
			e            OutboxEntry
			status       string
			created      int64
			sent, failed sql.NullInt64
		)
		if err := rows.Scan(&e.ID, &e.Kind, &e.RefID, &e.Recipient, &status, &e.Attempts, &e.LastError, &created,
			&sent, &failed); err != nil {
			return nil, fmt.Errorf("store: outbox entries: %w", err)
		}
		e.Status, e.CreatedAt, e.SentAt, e.FailedAt = OutboxStatus(status), fromMicros(created), fromNullMicros(sent),
			fromNullMicros(failed)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: outbox entries: %w", err)
	}
	return out, nil
}

// oneOrUnusable turns an Exec result that touched no row into ErrLinkUnusable.
func oneOrUnusable(res sql.Result, err error, what string) error {
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	if n != 1 {
		return fmt.Errorf("%s: %w", what, ErrLinkUnusable)
	}
	return nil
}

var _ invites.Outbox = (*Store)(nil)

// CancelOutbox withdraws the undelivered messages about refID (their link was
// voided): they are marked failed with reason, their bodies erased, and
// never sent. It reports how many.
func (s *Store) CancelOutbox(ctx context.Context, refID, reason string, now time.Time) (int64, error) {
	res, err := s.exec(ctx, `UPDATE mail_outbox SET status = 'failed', failed_at = $1, last_error = $2,
		body_text = '', body_html = '', links = '', claimed_by = '', claim_until = 0
		WHERE ref_id = $3 AND status = 'pending'`, micros(now), reason, refID)
	if err != nil {
		return 0, fmt.Errorf("store: cancel outbox: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: cancel outbox: %w", err)
	}
	return n, nil
}

// LastUsedTemporaryPassword returns the member's most recently used temporary
// password (so a new password can be checked to differ from it), or
// ErrNotFound.
func (s *Store) LastUsedTemporaryPassword(ctx context.Context, memberID string) (TemporaryPassword, error) {
	var (
		tp               TemporaryPassword
		created, expires int64
	)
	err := s.queryRow(ctx, `SELECT id, practice_id, member_id, password_hash, issued_by, created_at, expires_at
		FROM temporary_passwords WHERE member_id = $1 AND used_at IS NOT NULL ORDER BY used_at DESC LIMIT 1`, memberID).
		Scan(&tp.ID, &tp.PracticeID, &tp.MemberID, &tp.PasswordHash, &tp.IssuedBy, &created, &expires)
	if err != nil {
		return TemporaryPassword{}, notFound(err, "temporary password")
	}
	tp.CreatedAt, tp.ExpiresAt = fromMicros(created), fromMicros(expires)
	return tp, nil
}

// ActivateByTemporaryPassword makes an invited member active and marks their
// open, unexpired invitations accepted: the first login of a member whose
// practice onboards by temporary password (seed 004). ErrLinkUnusable when
// no invitation of theirs is open (revoked, expired or accepted), ErrNotFound
// when the member is not invited (any more).
func (s *Store) ActivateByTemporaryPassword(ctx context.Context, memberID string, now time.Time) error {
	// The invitation must still be open: neither revoked nor expired. A
	// revoked invitation's temporary password opens nothing, whatever its
	// own lifetime.
	res, err := s.exec(ctx, `UPDATE invitations SET accepted_at = $1, updated_at = $1
		WHERE member_id = $2 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $1`, micros(now), memberID)
	if err != nil {
		return fmt.Errorf("store: accept invitations: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store: accept invitations: %w", err)
	} else if n == 0 {
		return fmt.Errorf("activate invited member: no open invitation: %w", ErrLinkUnusable)
	}
	return s.expectOne(s.exec(ctx, `UPDATE members SET status = 'active', updated_at = $1
		WHERE id = $2 AND status = 'invited'`, micros(now), memberID))("activate invited member")
}
