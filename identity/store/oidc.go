package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Errors of the OpenID provider's rows; test for them with errors.Is.
var (
	// ErrCodeReplayed means an authorization code was presented a second time.
	// The refresh-token family issued from its first use has been revoked.
	ErrCodeReplayed = errors.New("store: authorization code already used")
	// ErrRefreshReplayed means a refresh token that had already been rotated
	// was presented again. Its whole family has been revoked.
	ErrRefreshReplayed = errors.New("store: refresh token already used")
)

// AuthRequest is an OpenID Connect authorization request waiting for, or
// finished with, a login. It is bound to the browser that started it by the
// hash of a random binding cookie; only that browser may complete it.
type AuthRequest struct {
	ID         string
	ClientID   string
	PracticeID string
	// BindingHash is the SHA-256 of the browser's binding cookie.
	BindingHash []byte
	// Params are the protocol parameters (redirect URI, state, nonce, scopes,
	// PKCE challenge, prompt, max_age, login hint) as JSON; the provider owns
	// their shape.
	Params    string
	CreatedAt time.Time
	ExpiresAt time.Time
	// Filled in when the login completes.
	MemberID  string
	SessionID string
	AuthTime  time.Time
	AMR       []string
	DoneAt    time.Time // zero until the login completes
	// Set when a code is issued; CodeUsedAt when it is redeemed.
	CodeExpiresAt time.Time
	CodeUsedAt    time.Time
}

const authRequestColumns = `id, client_id, practice_id, binding_hash, params, created_at, expires_at,
	member_id, session_id, auth_time, amr, done_at, code_expires_at, code_used_at`

// CreateAuthRequest stores a new authorization request.
func (s *Store) CreateAuthRequest(ctx context.Context, a AuthRequest) error {
	_, err := s.exec(ctx, `INSERT INTO oidc_auth_requests (id, client_id, practice_id, binding_hash, params,
		created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		a.ID, a.ClientID, a.PracticeID, a.BindingHash, a.Params, micros(a.CreatedAt), micros(a.ExpiresAt))
	if err != nil {
		return fmt.Errorf("store: create auth request: %w", err)
	}
	return nil
}

// AuthRequestByID returns an authorization request that has not expired at
// now. Expired requests are reported as ErrNotFound.
func (s *Store) AuthRequestByID(ctx context.Context, id string, now time.Time) (AuthRequest, error) {
	return s.scanAuthRequest(s.queryRow(ctx, `SELECT `+authRequestColumns+` FROM oidc_auth_requests
		WHERE id = $1 AND expires_at > $2`, id, micros(now)))
}

func (s *Store) scanAuthRequest(row *row) (AuthRequest, error) {
	var (
		a                                     AuthRequest
		created, expires                      int64
		member, session                       sql.NullString
		authTime, done, codeExpires, codeUsed sql.NullInt64
		amr                                   string
	)
	err := row.Scan(&a.ID, &a.ClientID, &a.PracticeID, &a.BindingHash, &a.Params, &created, &expires,
		&member, &session, &authTime, &amr, &done, &codeExpires, &codeUsed)
	if err != nil {
		return AuthRequest{}, notFound(err, "auth request")
	}
	a.CreatedAt, a.ExpiresAt = fromMicros(created), fromMicros(expires)
	a.MemberID, a.SessionID = member.String, session.String
	a.AuthTime, a.DoneAt = fromNullMicros(authTime), fromNullMicros(done)
	a.AMR = strings.Fields(amr)
	a.CodeExpiresAt, a.CodeUsedAt = fromNullMicros(codeExpires), fromNullMicros(codeUsed)
	return a, nil
}

// CompleteAuthRequest records who logged in for an open authorization
// request: the member, the browser session, when and how. It only touches a
// request that is unexpired, not yet completed and bound to bindingHash;
// otherwise it returns ErrNotFound.
func (s *Store) CompleteAuthRequest(ctx context.Context, id string, bindingHash []byte, memberID, sessionID string,
	authTime time.Time, amr []string, now time.Time) error {
	return s.expectOne(s.exec(ctx, `UPDATE oidc_auth_requests SET member_id = $1, session_id = $2, auth_time = $3,
		amr = $4, done_at = $5 WHERE id = $6 AND binding_hash = $7 AND expires_at > $5 AND done_at IS NULL`,
		memberID, sessionID, micros(authTime), strings.Join(amr, " "), micros(now), id, bindingHash))("complete auth request")
}

// SetAuthCode attaches the hash of a fresh authorization code to a completed
// request. A request gets at most one code.
func (s *Store) SetAuthCode(ctx context.Context, id string, codeHash []byte, expires, now time.Time) error {
	return s.expectOne(s.exec(ctx, `UPDATE oidc_auth_requests SET code_hash = $1, code_expires_at = $2
		WHERE id = $3 AND done_at IS NOT NULL AND code_hash IS NULL AND expires_at > $4`,
		codeHash, micros(expires), id, micros(now)))("set auth code")
}

// ConsumeAuthCode redeems an authorization code: it marks the code used and
// returns its request, whatever the caller then decides (a failed PKCE check
// still consumes the code). A code presented a second time returns
// ErrCodeReplayed after revoking the refresh-token family issued from it (the
// family ID is the auth request ID); an unknown or expired code ErrNotFound.
func (s *Store) ConsumeAuthCode(ctx context.Context, codeHash []byte, now time.Time) (AuthRequest, error) {
	var (
		a        AuthRequest
		replayed bool
	)
	err := s.InTx(ctx, func(tx *Store) error {
		var err error
		a, err = tx.scanAuthRequest(tx.queryRow(ctx, `SELECT `+authRequestColumns+` FROM oidc_auth_requests
			WHERE code_hash = $1`, codeHash))
		if err != nil {
			return err
		}
		if !a.CodeUsedAt.IsZero() {
			replayed = true
			_, err := tx.RevokeRefreshFamily(ctx, a.ID, now)
			return err
		}
		if !now.Before(a.CodeExpiresAt) {
			return fmt.Errorf("auth code expired: %w", ErrNotFound)
		}
		res, err := tx.exec(ctx, `UPDATE oidc_auth_requests SET code_used_at = $1
			WHERE id = $2 AND code_used_at IS NULL`, micros(now), a.ID)
		if err != nil {
			return fmt.Errorf("store: consume auth code: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			replayed = true // a concurrent redemption won
			_, err := tx.RevokeRefreshFamily(ctx, a.ID, now)
			return err
		}
		a.CodeUsedAt = now
		return nil
	})
	if err != nil {
		return AuthRequest{}, err
	}
	if replayed {
		return AuthRequest{}, ErrCodeReplayed
	}
	return a, nil
}

// DeleteAuthRequest removes an authorization request.
func (s *Store) DeleteAuthRequest(ctx context.Context, id string) error {
	if _, err := s.exec(ctx, `DELETE FROM oidc_auth_requests WHERE id = $1`, id); err != nil {
		return fmt.Errorf("store: delete auth request: %w", err)
	}
	return nil
}

// RefreshToken is one refresh token of a family. Only the SHA-256 hash of the
// token is stored. Each use rotates it: the used token is marked and a new one
// joins the family; presenting a used token again revokes the family.
type RefreshToken struct {
	ID         string
	FamilyID   string
	ClientID   string
	PracticeID string
	MemberID   string
	SessionID  string
	Scopes     []string
	AMR        []string
	AuthTime   time.Time
	CreatedAt  time.Time
	ExpiresAt  time.Time
	UsedAt     time.Time
	RevokedAt  time.Time
}

const refreshColumns = `id, family_id, client_id, practice_id, member_id, session_id, scopes, amr, auth_time,
	created_at, expires_at, used_at, revoked_at`

// CreateRefreshToken stores t under the hash of its token.
func (s *Store) CreateRefreshToken(ctx context.Context, t RefreshToken, tokenHash []byte) error {
	_, err := s.exec(ctx, `INSERT INTO oidc_refresh_tokens (id, token_hash, family_id, client_id, practice_id,
		member_id, session_id, scopes, amr, auth_time, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		t.ID, tokenHash, t.FamilyID, t.ClientID, t.PracticeID, t.MemberID, t.SessionID,
		strings.Join(t.Scopes, " "), strings.Join(t.AMR, " "), micros(t.AuthTime), micros(t.CreatedAt), micros(t.ExpiresAt))
	if err != nil {
		return fmt.Errorf("store: create refresh token: %w", err)
	}
	return nil
}

// RefreshTokenByHash returns a refresh token by its hash, used, revoked or
// expired alike; the caller decides.
func (s *Store) RefreshTokenByHash(ctx context.Context, tokenHash []byte) (RefreshToken, error) {
	return s.scanRefresh(s.queryRow(ctx, `SELECT `+refreshColumns+` FROM oidc_refresh_tokens WHERE token_hash = $1`, tokenHash))
}

// refreshWithMember* select refreshColumns of t, then memberColumns and the
// role keys of m, then the role data of t's member (roleDataColumns*).
const (
	refreshWithMemberSelect = `SELECT t.id, t.family_id, t.client_id, t.practice_id, t.member_id, t.session_id,
		t.scopes, t.amr, t.auth_time, t.created_at, t.expires_at, t.used_at, t.revoked_at,
		m.id, m.practice_id, m.email, m.display_name, m.legal_name, m.npi, m.taxonomy, m.status,
		m.password_hash, m.password_changed_at, m.created_at, m.updated_at, m.credentials, `
	refreshWithMemberFrom = ` FROM oidc_refresh_tokens t
		LEFT JOIN members m ON m.id = t.member_id AND m.practice_id = t.practice_id
		WHERE t.token_hash = $1`
	refreshWithMemberSQLite   = refreshWithMemberSelect + memberRolesSQLite + `, ` + roleDataColumnsSQLite + refreshWithMemberFrom
	refreshWithMemberPostgres = refreshWithMemberSelect + memberRolesPostgres + `, ` + roleDataColumnsPostgres + refreshWithMemberFrom
)

// RefreshTokenWithMember is RefreshTokenByHash that also reads the token's
// member (with role keys) and the member's role data at now (as
// MemberRoleData would), in one statement: a refresh grant needs all three,
// and on PostgreSQL each statement is a round trip. The member is the zero
// Member, and the role data empty, if the member's row is gone.
func (s *Store) RefreshTokenWithMember(ctx context.Context, tokenHash []byte, now time.Time) (RefreshToken, Member, MemberRoleData, error) {
	q := s.d.refreshWithMember
	var (
		tr refreshRow
		mr memberRow
		dr roleDataRow
	)
	dest := append(append(tr.dest(), mr.dest()...), dr.dest()...)
	if err := s.queryRow(ctx, q, tokenHash, micros(now)).Scan(dest...); err != nil {
		return RefreshToken{}, Member{}, MemberRoleData{}, notFound(err, "refresh token")
	}
	t := tr.token()
	if !mr.id.Valid {
		return t, Member{}, MemberRoleData{}, nil
	}
	m, err := mr.member()
	if err != nil {
		return RefreshToken{}, Member{}, MemberRoleData{}, err
	}
	d, err := dr.data(m.PracticeID, m.ID)
	if err != nil {
		return RefreshToken{}, Member{}, MemberRoleData{}, err
	}
	return t, m, d, nil
}

// refreshRow receives refreshColumns.
type refreshRow struct {
	t                          RefreshToken
	scopes, amr                string
	authTime, created, expires int64
	used, revoked              sql.NullInt64
}

func (r *refreshRow) dest() []any {
	return []any{&r.t.ID, &r.t.FamilyID, &r.t.ClientID, &r.t.PracticeID, &r.t.MemberID, &r.t.SessionID,
		&r.scopes, &r.amr, &r.authTime, &r.created, &r.expires, &r.used, &r.revoked}
}

func (r *refreshRow) token() RefreshToken {
	t := r.t
	t.Scopes, t.AMR = strings.Fields(r.scopes), strings.Fields(r.amr)
	t.AuthTime, t.CreatedAt, t.ExpiresAt = fromMicros(r.authTime), fromMicros(r.created), fromMicros(r.expires)
	t.UsedAt, t.RevokedAt = fromNullMicros(r.used), fromNullMicros(r.revoked)
	return t
}

func (s *Store) scanRefresh(row *row) (RefreshToken, error) {
	var r refreshRow
	if err := row.Scan(r.dest()...); err != nil {
		return RefreshToken{}, notFound(err, "refresh token")
	}
	return r.token(), nil
}

// UseRefreshToken redeems a refresh token: it marks the token used and
// returns it. A token used before returns ErrRefreshReplayed after its whole
// family has been revoked (the revocation is committed); a revoked, expired or
// unknown token returns ErrNotFound.
func (s *Store) UseRefreshToken(ctx context.Context, tokenHash []byte, now time.Time) (RefreshToken, error) {
	var (
		t        RefreshToken
		replayed bool
	)
	err := s.InTx(ctx, func(tx *Store) error {
		var err error
		t, err = tx.RefreshTokenByHash(ctx, tokenHash)
		if err != nil {
			return err
		}
		if !t.RevokedAt.IsZero() || !now.Before(t.ExpiresAt) {
			return fmt.Errorf("refresh token revoked or expired: %w", ErrNotFound)
		}
		res, err := tx.exec(ctx, `UPDATE oidc_refresh_tokens SET used_at = $1 WHERE id = $2 AND used_at IS NULL`,
			micros(now), t.ID)
		if err != nil {
			return fmt.Errorf("store: use refresh token: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("store: use refresh token: %w", err)
		}
		if n == 0 {
			replayed = true
			_, err := tx.RevokeRefreshFamily(ctx, t.FamilyID, now)
			return err
		}
		t.UsedAt = now
		return nil
	})
	if err != nil {
		return RefreshToken{}, err
	}
	if replayed {
		return RefreshToken{}, ErrRefreshReplayed
	}
	return t, nil
}

// RevokeRefreshFamily revokes a grant: every refresh token of the family
// and every access token issued under it (their jti names the grant, see
// GrantJTI), in one transaction. It reports how many refresh tokens were
// still unrevoked.
func (s *Store) RevokeRefreshFamily(ctx context.Context, familyID string, now time.Time) (int64, error) {
	var n int64
	err := s.InTx(ctx, func(tx *Store) error {
		if err := tx.revokeGrantAccessTokens(ctx, familyID, now); err != nil {
			return err
		}
		var err error
		n, err = tx.revokeRefresh(ctx, `family_id = $2`, familyID, now)
		return err
	})
	return n, err
}

// RevokeSessionRefreshTokens revokes every refresh token issued under a
// browser session (logout), and the access tokens of their families.
func (s *Store) RevokeSessionRefreshTokens(ctx context.Context, sessionID string, now time.Time) (int64, error) {
	if sessionID == "" {
		return 0, nil
	}
	return s.revokeRefresh(ctx, `session_id = $2`, sessionID, now)
}

// RevokeMemberRefreshTokens revokes every refresh token of a member
// (deactivation, removal), and the access tokens of their families.
func (s *Store) RevokeMemberRefreshTokens(ctx context.Context, memberID string, now time.Time) (int64, error) {
	return s.revokeRefresh(ctx, `member_id = $2`, memberID, now)
}

// revokeRefresh revokes the unrevoked refresh tokens matching where ($1 is
// now, $2 arg) and every access token of their families (see
// RevokeRefreshFamily), in one transaction.
func (s *Store) revokeRefresh(ctx context.Context, where, arg string, now time.Time) (int64, error) {
	var n int64
	err := s.InTx(ctx, func(tx *Store) error {
		rows, err := tx.query(ctx, `SELECT DISTINCT family_id FROM oidc_refresh_tokens
			WHERE `+where+` AND revoked_at IS NULL AND created_at <= $1`, micros(now), arg)
		if err != nil {
			return fmt.Errorf("store: revoke refresh tokens: %w", err)
		}
		var families []string
		for rows.Next() {
			var f string
			if err := rows.Scan(&f); err != nil {
				_ = rows.Close()
				return fmt.Errorf("store: revoke refresh tokens: %w", err)
			}
			families = append(families, f)
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("store: revoke refresh tokens: %w", err)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("store: revoke refresh tokens: %w", err)
		}
		for _, f := range families {
			if err := tx.revokeGrantAccessTokens(ctx, f, now); err != nil {
				return err
			}
		}
		res, err := tx.exec(ctx, `UPDATE oidc_refresh_tokens SET revoked_at = $1 WHERE `+where+` AND revoked_at IS NULL`,
			micros(now), arg)
		if err != nil {
			return fmt.Errorf("store: revoke refresh tokens: %w", err)
		}
		if n, err = res.RowsAffected(); err != nil {
			return fmt.Errorf("store: revoke refresh tokens: %w", err)
		}
		return nil
	})
	return n, err
}

// RevokeAccessToken records that the access token with this jti is revoked
// until it would have expired anyway. Revoking twice is not an error.
func (s *Store) RevokeAccessToken(ctx context.Context, jti string, expires time.Time) error {
	_, err := s.exec(ctx, `INSERT INTO oidc_revoked_tokens (jti, expires_at) VALUES ($1, $2)
		ON CONFLICT (jti) DO NOTHING`, jti, micros(expires))
	if err != nil {
		return fmt.Errorf("store: revoke access token: %w", err)
	}
	return nil
}

// AccessTokenRevoked reports whether the access token with this jti was
// revoked, by itself or with its grant. CheckAccessToken is the full check.
func (s *Store) AccessTokenRevoked(ctx context.Context, jti string) (bool, error) {
	marker, _ := grantMarker(jti)
	var n int
	err := s.queryRow(ctx, `SELECT COUNT(*) FROM oidc_revoked_tokens WHERE jti IN ($1, $2)`, jti, marker).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("store: access token revoked: %w", err)
	}
	return n > 0, nil
}

// PurgeOIDC deletes what can no longer be used at now: expired auth requests
// and codes, expired refresh tokens and revocation entries past their token's
// expiry. It reports how many rows went.
func (s *Store) PurgeOIDC(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	for _, q := range []string{
		`DELETE FROM oidc_auth_requests WHERE expires_at <= $1 AND (code_expires_at IS NULL OR code_expires_at <= $1)`,
		`DELETE FROM oidc_refresh_tokens WHERE expires_at <= $1`,
		`DELETE FROM oidc_revoked_tokens WHERE expires_at <= $1`,
	} {
		res, err := s.exec(ctx, q, micros(now))
		if err != nil {
			return total, fmt.Errorf("store: purge oidc: %w", err)
		}
		n, _ := res.RowsAffected()
		total += n
	}
	return total, nil
}

// SigningKey is one of the provider's signing keys. The private key is stored
// only encrypted (the provider encrypts it under the master key); the public
// part is a JWK. A key is published from CreatedAt, signs from ActiveFrom (the
// newest active key of its algorithm signs) and is unpublished at ExpiresAt,
// which is set when a newer key supersedes it.
type SigningKey struct {
	ID         string
	Alg        string
	PublicJWK  string
	PrivateEnc []byte
	CreatedAt  time.Time
	ActiveFrom time.Time
	ExpiresAt  time.Time // zero while the key is current
}

// CreateSigningKey stores k.
func (s *Store) CreateSigningKey(ctx context.Context, k SigningKey) error {
	_, err := s.exec(ctx, `INSERT INTO oidc_signing_keys (id, alg, public_jwk, private_enc, created_at, active_from, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, k.ID, k.Alg, k.PublicJWK, k.PrivateEnc, micros(k.CreatedAt),
		micros(k.ActiveFrom), nullMicros(k.ExpiresAt))
	if err != nil {
		return fmt.Errorf("store: create signing key: %w", err)
	}
	return nil
}

// RotateSigningKey adds k as the next key of its algorithm and schedules every
// current key of that algorithm to be unpublished at retireAt (when the tokens
// they signed have expired).
func (s *Store) RotateSigningKey(ctx context.Context, k SigningKey, retireAt time.Time) error {
	return s.InTx(ctx, func(tx *Store) error {
		if _, err := tx.exec(ctx, `UPDATE oidc_signing_keys SET expires_at = $1 WHERE alg = $2 AND expires_at IS NULL`,
			micros(retireAt), k.Alg); err != nil {
			return fmt.Errorf("store: retire signing keys: %w", err)
		}
		return tx.CreateSigningKey(ctx, k)
	})
}

// PublishedSigningKeys returns the keys published at now (not yet expired),
// oldest activation first.
func (s *Store) PublishedSigningKeys(ctx context.Context, now time.Time) ([]SigningKey, error) {
	rows, err := s.query(ctx, `SELECT id, alg, public_jwk, private_enc, created_at, active_from, expires_at
		FROM oidc_signing_keys WHERE expires_at IS NULL OR expires_at > $1 ORDER BY active_from, id`, micros(now))
	if err != nil {
		return nil, fmt.Errorf("store: signing keys: %w", err)
	}
	defer rows.Close()
	var keys []SigningKey
	for rows.Next() {
		var (
			k                   SigningKey
			created, activeFrom int64
			expires             sql.NullInt64
		)
		if err := rows.Scan(&k.ID, &k.Alg, &k.PublicJWK, &k.PrivateEnc, &created, &activeFrom, &expires); err != nil {
			return nil, fmt.Errorf("store: signing keys: %w", err)
		}
		k.CreatedAt, k.ActiveFrom, k.ExpiresAt = fromMicros(created), fromMicros(activeFrom), fromNullMicros(expires)
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: signing keys: %w", err)
	}
	return keys, nil
}

// SessionClients returns the IDs of the clients that were issued tokens under
// a browser session (a redeemed code or a refresh token), sorted.
func (s *Store) SessionClients(ctx context.Context, sessionID string) ([]string, error) {
	rows, err := s.query(ctx, `SELECT client_id FROM oidc_auth_requests WHERE session_id = $1 AND code_used_at IS NOT NULL
		UNION SELECT client_id FROM oidc_refresh_tokens WHERE session_id = $1 ORDER BY 1`, sessionID)
	if err != nil {
		return nil, fmt.Errorf("store: session clients: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: session clients: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: session clients: %w", err)
	}
	return ids, nil
}

// MemberClients returns the IDs of the clients that may hold tokens for a
// member: those with a refresh token not yet revoked, or with a code
// redeemed since since (whose access and ID tokens may still live), sorted.
func (s *Store) MemberClients(ctx context.Context, memberID string, since time.Time) ([]string, error) {
	rows, err := s.query(ctx, `SELECT client_id FROM oidc_refresh_tokens WHERE member_id = $1 AND revoked_at IS NULL
		UNION SELECT client_id FROM oidc_auth_requests WHERE member_id = $1 AND code_used_at >= $2 ORDER BY 1`,
		memberID, micros(since))
	if err != nil {
		return nil, fmt.Errorf("store: member clients: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: member clients: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: member clients: %w", err)
	}
	return ids, nil
}
