package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Passkey is a stored WebAuthn credential. CredentialID is unique across the
// service: a credential belongs to exactly one member of one practice.
type Passkey struct {
	ID                string
	CredentialID      []byte
	PracticeID        string
	MemberID          string
	PublicKey         []byte
	AttestationType   string
	AttestationFormat string
	AAGUID            []byte
	Transports        []string
	SignCount         uint32
	UserVerified      bool
	BackupEligible    bool
	BackupState       bool
	Name              string
	CreatedAt         time.Time
	LastUsedAt        time.Time // zero until first used to log in
}

// Passkey ceremony kinds.
const (
	CeremonyRegister = "register"
	CeremonyLogin    = "login"
)

// PasskeyCeremony is the server-side state of a begun WebAuthn ceremony
// (registration or login). Data is the library's session data (JSON; holds
// the challenge). It is stored under the hash of a random token and consumed
// exactly once.
type PasskeyCeremony struct {
	Kind       string
	PracticeID string
	// MemberID is the member registering, or for a login begun with an
	// email the member it must end as ("" when no member was named).
	MemberID string
	// SessionID is the browser session a registration was begun in.
	SessionID string
	Data      string
	CreatedAt time.Time
	ExpiresAt time.Time
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// CreatePasskey stores a new credential. ErrConflict means the credential ID
// is already registered (to this or any other member).
func (s *Store) CreatePasskey(ctx context.Context, pk Passkey) error {
	_, err := s.exec(ctx, `INSERT INTO passkey_credentials (id, credential_id, practice_id, member_id, public_key,
		attestation_type, attestation_format, aaguid, transports, sign_count, user_verified, backup_eligible,
		backup_state, name, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		pk.ID, pk.CredentialID, pk.PracticeID, pk.MemberID, pk.PublicKey, pk.AttestationType, pk.AttestationFormat,
		pk.AAGUID, strings.Join(pk.Transports, " "), int64(pk.SignCount), b2i(pk.UserVerified), b2i(pk.BackupEligible),
		b2i(pk.BackupState), pk.Name, micros(pk.CreatedAt))
	if isUniqueViolation(err) {
		return fmt.Errorf("store: create passkey: %w", ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("store: create passkey: %w", err)
	}
	return nil
}

const passkeyColumns = `id, credential_id, practice_id, member_id, public_key, attestation_type, attestation_format,
	aaguid, transports, sign_count, user_verified, backup_eligible, backup_state, name, created_at, last_used_at`

type rowScanner interface{ Scan(dest ...any) error }

func scanPasskey(r rowScanner) (Passkey, error) {
	var (
		pk                 Passkey
		transports         string
		count              int64
		uv, be, bs         int
		created            int64
		lastUsed           sql.NullInt64
		attType, attFormat sql.NullString
	)
	err := r.Scan(&pk.ID, &pk.CredentialID, &pk.PracticeID, &pk.MemberID, &pk.PublicKey, &attType, &attFormat,
		&pk.AAGUID, &transports, &count, &uv, &be, &bs, &pk.Name, &created, &lastUsed)
	if err != nil {
		return Passkey{}, err
	}
	pk.AttestationType, pk.AttestationFormat = attType.String, attFormat.String
	pk.Transports = strings.Fields(transports)
	pk.SignCount = uint32(count)
	pk.UserVerified, pk.BackupEligible, pk.BackupState = uv != 0, be != 0, bs != 0
	pk.CreatedAt, pk.LastUsedAt = fromMicros(created), fromNullMicros(lastUsed)
	return pk, nil
}

// PasskeyByCredentialID finds a credential by its WebAuthn credential ID.
func (s *Store) PasskeyByCredentialID(ctx context.Context, credentialID []byte) (Passkey, error) {
	pk, err := scanPasskey(s.queryRow(ctx, `SELECT `+passkeyColumns+` FROM passkey_credentials WHERE credential_id = $1`, credentialID))
	if err != nil {
		return Passkey{}, notFound(err, "passkey")
	}
	return pk, nil
}

// PasskeyByID finds one of a member's credentials by its internal ID.
func (s *Store) PasskeyByID(ctx context.Context, practiceID, memberID, id string) (Passkey, error) {
	pk, err := scanPasskey(s.queryRow(ctx, `SELECT `+passkeyColumns+` FROM passkey_credentials
		WHERE id = $1 AND practice_id = $2 AND member_id = $3`, id, practiceID, memberID))
	if err != nil {
		return Passkey{}, notFound(err, "passkey")
	}
	return pk, nil
}

// MemberPasskeys lists a member's credentials, oldest first.
func (s *Store) MemberPasskeys(ctx context.Context, practiceID, memberID string) ([]Passkey, error) {
	rows, err := s.query(ctx, `SELECT `+passkeyColumns+` FROM passkey_credentials
		WHERE practice_id = $1 AND member_id = $2 ORDER BY created_at, id`, practiceID, memberID)
	if err != nil {
		return nil, fmt.Errorf("store: member passkeys: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []Passkey
	for rows.Next() {
		pk, err := scanPasskey(rows)
		if err != nil {
			return nil, fmt.Errorf("store: member passkeys: %w", err)
		}
		out = append(out, pk)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: member passkeys: %w", err)
	}
	return out, nil
}

// MemberPasskeyCount is how many credentials a member has.
func (s *Store) MemberPasskeyCount(ctx context.Context, practiceID, memberID string) (int, error) {
	var n int
	err := s.queryRow(ctx, `SELECT COUNT(*) FROM passkey_credentials WHERE practice_id = $1 AND member_id = $2`,
		practiceID, memberID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: member passkey count: %w", err)
	}
	return n, nil
}

// RecordPasskeyUse stores the sign counter and flags of a successful login,
// but only if the stored counter is still oldCount: of two concurrent logins
// presenting the same counter only one is recorded, and ErrConflict tells the
// other it lost.
func (s *Store) RecordPasskeyUse(ctx context.Context, id string, oldCount, newCount uint32, userVerified, backupState bool, at time.Time) error {
	res, err := s.exec(ctx, `UPDATE passkey_credentials SET sign_count = $1, user_verified = $2, backup_state = $3,
		last_used_at = $4 WHERE id = $5 AND sign_count = $6`,
		int64(newCount), b2i(userVerified), b2i(backupState), micros(at), id, int64(oldCount))
	if err != nil {
		return fmt.Errorf("store: record passkey use: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: record passkey use: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("store: record passkey use: %w", ErrConflict)
	}
	return nil
}

// RenamePasskey changes the name of one of a member's credentials.
func (s *Store) RenamePasskey(ctx context.Context, practiceID, memberID, id, name string) error {
	return s.expectOne(s.exec(ctx, `UPDATE passkey_credentials SET name = $1
		WHERE id = $2 AND practice_id = $3 AND member_id = $4`, name, id, practiceID, memberID))("rename passkey")
}

// DeletePasskey removes one of a member's credentials.
func (s *Store) DeletePasskey(ctx context.Context, practiceID, memberID, id string) error {
	return s.expectOne(s.exec(ctx, `DELETE FROM passkey_credentials
		WHERE id = $1 AND practice_id = $2 AND member_id = $3`, id, practiceID, memberID))("delete passkey")
}

// DeleteMemberPasskeys removes every credential of a member and reports how
// many there were.
func (s *Store) DeleteMemberPasskeys(ctx context.Context, practiceID, memberID string) (int64, error) {
	res, err := s.exec(ctx, `DELETE FROM passkey_credentials WHERE practice_id = $1 AND member_id = $2`, practiceID, memberID)
	if err != nil {
		return 0, fmt.Errorf("store: delete member passkeys: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: delete member passkeys: %w", err)
	}
	return n, nil
}

// CreatePasskeyCeremony stores a begun ceremony under the hash of its token.
func (s *Store) CreatePasskeyCeremony(ctx context.Context, tokenHash []byte, c PasskeyCeremony) error {
	_, err := s.exec(ctx, `INSERT INTO passkey_ceremonies (token_hash, kind, practice_id, member_id, session_id, data,
		created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		tokenHash, c.Kind, c.PracticeID, c.MemberID, c.SessionID, c.Data, micros(c.CreatedAt), micros(c.ExpiresAt))
	if isUniqueViolation(err) {
		return fmt.Errorf("store: create passkey ceremony: %w", ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("store: create passkey ceremony: %w", err)
	}
	return nil
}

// ConsumePasskeyCeremony deletes the ceremony stored under tokenHash and
// returns it, so a ceremony can be finished at most once (of two concurrent
// finishes exactly one gets it). ErrNotFound means there is no such ceremony,
// it was already consumed, it is of another kind, or it expired at or before
// now.
func (s *Store) ConsumePasskeyCeremony(ctx context.Context, tokenHash []byte, kind string, now time.Time) (PasskeyCeremony, error) {
	var (
		c                PasskeyCeremony
		created, expires int64
	)
	err := s.queryRow(ctx, `DELETE FROM passkey_ceremonies WHERE token_hash = $1
		RETURNING kind, practice_id, member_id, session_id, data, created_at, expires_at`, tokenHash).
		Scan(&c.Kind, &c.PracticeID, &c.MemberID, &c.SessionID, &c.Data, &created, &expires)
	if err != nil {
		return PasskeyCeremony{}, notFound(err, "passkey ceremony")
	}
	c.CreatedAt, c.ExpiresAt = fromMicros(created), fromMicros(expires)
	if c.Kind != kind || !now.Before(c.ExpiresAt) {
		return PasskeyCeremony{}, fmt.Errorf("passkey ceremony: %w", ErrNotFound)
	}
	return c, nil
}

// PrunePasskeyCeremonies deletes ceremonies that expired at or before now and
// reports how many.
func (s *Store) PrunePasskeyCeremonies(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.exec(ctx, `DELETE FROM passkey_ceremonies WHERE expires_at <= $1`, micros(now))
	if err != nil {
		return 0, fmt.Errorf("store: prune passkey ceremonies: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: prune passkey ceremonies: %w", err)
	}
	return n, nil
}

// ReauthenticateSession records that the person behind an open session proved
// who they are again at `at` (the session's auth_time moves forward).
func (s *Store) ReauthenticateSession(ctx context.Context, id string, at time.Time) error {
	return s.expectOne(s.exec(ctx, `UPDATE sessions SET auth_time = $1 WHERE id = $2 AND ended_at IS NULL`,
		micros(at), id))("reauthenticate session")
}

// RequireLoginableMember takes the member's row lock (like
// RequireActiveMember) and checks the member is active or, when allowLocked,
// locked: a login method a lock does not block may still start a session.
// ErrNotFound means the member is neither.
func (s *Store) RequireLoginableMember(ctx context.Context, memberID string, allowLocked bool) error {
	return s.expectOne(s.exec(ctx, `UPDATE members SET status = status WHERE id = $1
		AND (status = 'active' OR ($2 = 1 AND status = 'locked'))`, memberID, b2i(allowLocked)))("loginable member")
}
