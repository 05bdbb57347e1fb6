package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// SSOProvider is one upstream OpenID provider a practice lets its members log
// in with. ClientSecretEnc is the client secret sealed by package sso; the
// store never sees it in the clear.
type SSOProvider struct {
	ID              string
	PracticeID      string
	Kind            string // google, entra or generic
	DisplayName     string
	Issuer          string
	ClientID        string
	ClientSecretEnc []byte
	// AllowedDomains are the practice's verified email domains for this
	// provider, lower case; empty allows any domain for linking.
	AllowedDomains []string
	// JoinEnabled lets people from AllowedDomains ask to join (pending an
	// administrator's approval) with JoinRole.
	JoinEnabled bool
	JoinRole    string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// SSOIdentity links an upstream (issuer, subject) to one member.
type SSOIdentity struct {
	ID         string
	PracticeID string
	ProviderID string
	Issuer     string
	Subject    string
	MemberID   string
	// Email is the upstream email at link time (informational only; it is
	// never used to find the member).
	Email string
	// LinkedVia is how the link was made: invitation, account or join.
	LinkedVia  string
	CreatedAt  time.Time
	LastUsedAt time.Time
}

// SSOFlow is a begun SSO login, stored under the hash of its state.
type SSOFlow struct {
	BindingHash []byte
	PracticeID  string
	ProviderID  string
	Purpose     string // login, invite or link
	AuthRequest string
	// Next is the practice's page a login returns to ("" for the account
	// page); the caller checks it when the flow begins and when it ends.
	Next                string
	InvitationTokenHash []byte
	MemberID            string
	SessionID           string
	Nonce               string
	CodeVerifier        string
	CreatedAt           time.Time
	ExpiresAt           time.Time
}

// SSOJoinRequest is a request to join a practice made through SSO from one of
// its verified domains, waiting for an administrator.
type SSOJoinRequest struct {
	ID         string
	PracticeID string
	ProviderID string
	Issuer     string
	Subject    string
	Email      string
	Name       string
	RoleKey    string
	Status     string // pending, approved or rejected
	CreatedAt  time.Time
	DecidedAt  time.Time
	DecidedBy  string
	MemberID   string
}

const ssoProviderColumns = `id, practice_id, kind, display_name, issuer, client_id, client_secret_enc,
	allowed_domains, join_enabled, join_role, created_at, updated_at`

// CreateSSOProvider stores a provider. ErrConflict means the practice already
// has a provider with that issuer and client ID.
func (s *Store) CreateSSOProvider(ctx context.Context, p SSOProvider) error {
	_, err := s.exec(ctx, `INSERT INTO sso_providers (`+ssoProviderColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		p.ID, p.PracticeID, p.Kind, p.DisplayName, p.Issuer, p.ClientID, p.ClientSecretEnc,
		strings.Join(p.AllowedDomains, ","), b2i(p.JoinEnabled), p.JoinRole, micros(p.CreatedAt), micros(p.CreatedAt))
	if isUniqueViolation(err) {
		return fmt.Errorf("sso provider: %w", ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("store: create sso provider: %w", err)
	}
	return nil
}

func scanSSOProvider(sc interface{ Scan(...any) error }) (SSOProvider, error) {
	var (
		p                SSOProvider
		domains          string
		join             int64
		created, updated int64
	)
	if err := sc.Scan(&p.ID, &p.PracticeID, &p.Kind, &p.DisplayName, &p.Issuer, &p.ClientID, &p.ClientSecretEnc,
		&domains, &join, &p.JoinRole, &created, &updated); err != nil {
		return SSOProvider{}, err
	}
	if domains != "" {
		p.AllowedDomains = strings.Split(domains, ",")
	}
	p.JoinEnabled = join != 0
	p.CreatedAt, p.UpdatedAt = fromMicros(created), fromMicros(updated)
	return p, nil
}

// SSOProviders lists a practice's providers, oldest first.
func (s *Store) SSOProviders(ctx context.Context, practiceID string) ([]SSOProvider, error) {
	rows, err := s.query(ctx, `SELECT `+ssoProviderColumns+` FROM sso_providers WHERE practice_id = $1
		ORDER BY created_at, id`, practiceID)
	if err != nil {
		return nil, fmt.Errorf("store: sso providers: %w", err)
	}
	defer rows.Close()
	var out []SSOProvider
	for rows.Next() {
		p, err := scanSSOProvider(rows)
		if err != nil {
			return nil, fmt.Errorf("store: sso providers: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: sso providers: %w", err)
	}
	return out, nil
}

// SSOProviderByID finds a practice's provider; another practice's provider is
// not found.
func (s *Store) SSOProviderByID(ctx context.Context, practiceID, id string) (SSOProvider, error) {
	p, err := scanSSOProvider(s.queryRow(ctx, `SELECT `+ssoProviderColumns+` FROM sso_providers
		WHERE practice_id = $1 AND id = $2`, practiceID, id))
	if err != nil {
		return SSOProvider{}, notFound(err, "sso provider")
	}
	return p, nil
}

// DeleteSSOProvider removes a provider with its linked identities, begun
// flows and join requests.
func (s *Store) DeleteSSOProvider(ctx context.Context, practiceID, id string) error {
	return s.InTx(ctx, func(tx *Store) error {
		for _, q := range []string{
			`DELETE FROM sso_flows WHERE practice_id = $1 AND provider_id = $2`,
			`DELETE FROM sso_identities WHERE practice_id = $1 AND provider_id = $2`,
			`DELETE FROM sso_join_requests WHERE practice_id = $1 AND provider_id = $2`,
		} {
			if _, err := tx.exec(ctx, q, practiceID, id); err != nil {
				return fmt.Errorf("store: delete sso provider: %w", err)
			}
		}
		return tx.expectOne(tx.exec(ctx, `DELETE FROM sso_providers WHERE practice_id = $1 AND id = $2`,
			practiceID, id))("delete sso provider")
	})
}

const ssoIdentityColumns = `id, practice_id, provider_id, issuer, subject, member_id, email, linked_via,
	created_at, last_used_at`

// CreateSSOIdentity links an upstream identity to a member. ErrConflict
// means that (issuer, subject) is already linked in the practice.
func (s *Store) CreateSSOIdentity(ctx context.Context, i SSOIdentity) error {
	_, err := s.exec(ctx, `INSERT INTO sso_identities (`+ssoIdentityColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		i.ID, i.PracticeID, i.ProviderID, i.Issuer, i.Subject, i.MemberID, i.Email, i.LinkedVia,
		micros(i.CreatedAt), nullMicros(i.LastUsedAt))
	if isUniqueViolation(err) {
		return fmt.Errorf("sso identity: %w", ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("store: create sso identity: %w", err)
	}
	return nil
}

func scanSSOIdentity(sc interface{ Scan(...any) error }) (SSOIdentity, error) {
	var (
		i       SSOIdentity
		created int64
		used    sql.NullInt64
	)
	if err := sc.Scan(&i.ID, &i.PracticeID, &i.ProviderID, &i.Issuer, &i.Subject, &i.MemberID, &i.Email,
		&i.LinkedVia, &created, &used); err != nil {
		return SSOIdentity{}, err
	}
	i.CreatedAt, i.LastUsedAt = fromMicros(created), fromNullMicros(used)
	return i, nil
}

// SSOIdentityBySubject finds the practice's link of an upstream (issuer,
// subject) — the only way an upstream identity is resolved to a member.
func (s *Store) SSOIdentityBySubject(ctx context.Context, practiceID, issuer, subject string) (SSOIdentity, error) {
	i, err := scanSSOIdentity(s.queryRow(ctx, `SELECT `+ssoIdentityColumns+` FROM sso_identities
		WHERE practice_id = $1 AND issuer = $2 AND subject = $3`, practiceID, issuer, subject))
	if err != nil {
		return SSOIdentity{}, notFound(err, "sso identity")
	}
	return i, nil
}

// MemberSSOIdentities lists a member's linked identities, oldest first.
func (s *Store) MemberSSOIdentities(ctx context.Context, practiceID, memberID string) ([]SSOIdentity, error) {
	rows, err := s.query(ctx, `SELECT `+ssoIdentityColumns+` FROM sso_identities
		WHERE practice_id = $1 AND member_id = $2 ORDER BY created_at, id`, practiceID, memberID)
	if err != nil {
		return nil, fmt.Errorf("store: sso identities: %w", err)
	}
	defer rows.Close()
	var out []SSOIdentity
	for rows.Next() {
		i, err := scanSSOIdentity(rows)
		if err != nil {
			return nil, fmt.Errorf("store: sso identities: %w", err)
		}
		out = append(out, i)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: sso identities: %w", err)
	}
	return out, nil
}

// DeleteSSOIdentity removes one of the member's links.
func (s *Store) DeleteSSOIdentity(ctx context.Context, practiceID, memberID, id string) error {
	return s.expectOne(s.exec(ctx, `DELETE FROM sso_identities WHERE practice_id = $1 AND member_id = $2 AND id = $3`,
		practiceID, memberID, id))("delete sso identity")
}

// TouchSSOIdentity records a login through the link.
func (s *Store) TouchSSOIdentity(ctx context.Context, id string, at time.Time) error {
	return s.expectOne(s.exec(ctx, `UPDATE sso_identities SET last_used_at = $1 WHERE id = $2`,
		micros(at), id))("touch sso identity")
}

// CreateSSOFlow stores a begun flow under the hash of its state.
func (s *Store) CreateSSOFlow(ctx context.Context, stateHash []byte, f SSOFlow) error {
	_, err := s.exec(ctx, `INSERT INTO sso_flows (state_hash, binding_hash, practice_id, provider_id, purpose,
		auth_request, next_path, invitation_token_hash, member_id, session_id, nonce, code_verifier, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		stateHash, f.BindingHash, f.PracticeID, f.ProviderID, f.Purpose, f.AuthRequest, f.Next, f.InvitationTokenHash,
		f.MemberID, f.SessionID, f.Nonce, f.CodeVerifier, micros(f.CreatedAt), micros(f.ExpiresAt))
	if isUniqueViolation(err) {
		return fmt.Errorf("sso flow: %w", ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("store: create sso flow: %w", err)
	}
	return nil
}

// ConsumeSSOFlow deletes and returns the flow stored under stateHash if it
// was begun by the browser holding the binding (bindingHash), so a flow is
// finished at most once and only where it began. ErrNotFound means there is
// no such flow for this browser, it was already used, or it expired at or
// before now. A wrong binding leaves the flow in place.
func (s *Store) ConsumeSSOFlow(ctx context.Context, stateHash, bindingHash []byte, now time.Time) (SSOFlow, error) {
	var (
		f                SSOFlow
		created, expires int64
	)
	err := s.queryRow(ctx, `DELETE FROM sso_flows WHERE state_hash = $1 AND binding_hash = $2
		RETURNING binding_hash, practice_id, provider_id, purpose, auth_request, next_path, invitation_token_hash, member_id,
		session_id, nonce, code_verifier, created_at, expires_at`, stateHash, bindingHash).
		Scan(&f.BindingHash, &f.PracticeID, &f.ProviderID, &f.Purpose, &f.AuthRequest, &f.Next, &f.InvitationTokenHash,
			&f.MemberID, &f.SessionID, &f.Nonce, &f.CodeVerifier, &created, &expires)
	if err != nil {
		return SSOFlow{}, notFound(err, "sso flow")
	}
	f.CreatedAt, f.ExpiresAt = fromMicros(created), fromMicros(expires)
	if !now.Before(f.ExpiresAt) {
		return SSOFlow{}, fmt.Errorf("sso flow: %w", ErrNotFound)
	}
	return f, nil
}

// PruneSSOFlows deletes flows that expired at or before now.
func (s *Store) PruneSSOFlows(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.exec(ctx, `DELETE FROM sso_flows WHERE expires_at <= $1`, micros(now))
	if err != nil {
		return 0, fmt.Errorf("store: prune sso flows: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: prune sso flows: %w", err)
	}
	return n, nil
}

const ssoJoinColumns = `id, practice_id, provider_id, issuer, subject, email, name, role_key, status,
	created_at, decided_at, decided_by, member_id`

// CreateSSOJoinRequest stores a pending join request. ErrConflict means that
// upstream identity already asked.
func (s *Store) CreateSSOJoinRequest(ctx context.Context, j SSOJoinRequest) error {
	_, err := s.exec(ctx, `INSERT INTO sso_join_requests (`+ssoJoinColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9, NULL, '', '')`,
		j.ID, j.PracticeID, j.ProviderID, j.Issuer, j.Subject, j.Email, j.Name, j.RoleKey, micros(j.CreatedAt))
	if isUniqueViolation(err) {
		return fmt.Errorf("sso join request: %w", ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("store: create sso join request: %w", err)
	}
	return nil
}

func scanSSOJoin(sc interface{ Scan(...any) error }) (SSOJoinRequest, error) {
	var (
		j       SSOJoinRequest
		created int64
		decided sql.NullInt64
	)
	if err := sc.Scan(&j.ID, &j.PracticeID, &j.ProviderID, &j.Issuer, &j.Subject, &j.Email, &j.Name, &j.RoleKey,
		&j.Status, &created, &decided, &j.DecidedBy, &j.MemberID); err != nil {
		return SSOJoinRequest{}, err
	}
	j.CreatedAt, j.DecidedAt = fromMicros(created), fromNullMicros(decided)
	return j, nil
}

// SSOJoinRequests lists a practice's join requests, oldest first; status ""
// lists all.
func (s *Store) SSOJoinRequests(ctx context.Context, practiceID, status string) ([]SSOJoinRequest, error) {
	rows, err := s.query(ctx, `SELECT `+ssoJoinColumns+` FROM sso_join_requests
		WHERE practice_id = $1 AND ($2 = '' OR status = $2) ORDER BY created_at, id`, practiceID, status)
	if err != nil {
		return nil, fmt.Errorf("store: sso join requests: %w", err)
	}
	defer rows.Close()
	var out []SSOJoinRequest
	for rows.Next() {
		j, err := scanSSOJoin(rows)
		if err != nil {
			return nil, fmt.Errorf("store: sso join requests: %w", err)
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: sso join requests: %w", err)
	}
	return out, nil
}

// SSOJoinRequestByID finds one of a practice's join requests.
func (s *Store) SSOJoinRequestByID(ctx context.Context, practiceID, id string) (SSOJoinRequest, error) {
	j, err := scanSSOJoin(s.queryRow(ctx, `SELECT `+ssoJoinColumns+` FROM sso_join_requests
		WHERE practice_id = $1 AND id = $2`, practiceID, id))
	if err != nil {
		return SSOJoinRequest{}, notFound(err, "sso join request")
	}
	return j, nil
}

// DecideSSOJoinRequest approves or rejects a pending request. ErrNotFound
// means it is not pending (any more).
func (s *Store) DecideSSOJoinRequest(ctx context.Context, id, status, by, memberID string, at time.Time) error {
	return s.expectOne(s.exec(ctx, `UPDATE sso_join_requests SET status = $1, decided_by = $2, member_id = $3,
		decided_at = $4 WHERE id = $5 AND status = 'pending'`, status, by, memberID, micros(at), id))("decide sso join request")
}
