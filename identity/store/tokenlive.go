package store

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Whether an access token frontdesk issued is still live. Access tokens are
// signed JWTs checked offline for signature and expiry; everything that can
// end one before its exp is a row in the database, read here in one
// statement of primary-key and indexed look-ups, so every replica sees a
// revocation the moment it is committed:
//
//   - its own jti in oidc_revoked_tokens (RFC 7009 revocation of the access
//     token);
//   - its grant's marker in oidc_revoked_tokens (the refresh-token family
//     was revoked: RFC 7009 revocation of the refresh token, refresh-token
//     or authorization-code replay, a refresh refused for cause, logout,
//     the member's other sessions ended, deactivation, app removal);
//   - for a token from a code exchange, its browser session (sid) ended
//     (logout, password change, password reset, passkeys revoked, removal, a
//     new login in the same browser); a token from a refresh grant ends with
//     its refresh family instead, which every one of those endings but the
//     last revokes;
//   - its member no longer active or locked (deactivation);
//   - an emergency elevation it carries ended early.

// ErrTokenNotLive means an access token was revoked or lost what it was
// issued under; its error text says which.
var ErrTokenNotLive = errors.New("store: access token no longer live")

// grantRevocationRetention is how long a revoked grant's marker is kept:
// longer than any access token lives (configuration caps lifetimes at 1 h).
const grantRevocationRetention = 24 * time.Hour

// grantMarkerPrefix starts the oidc_revoked_tokens key of a revoked grant;
// no jti contains a colon.
const grantMarkerPrefix = "grant:"

// grantTag is the short, one-way tag of a grant (a refresh-token family,
// whose ID is its authorization request's): access tokens carry it in their
// jti without naming the authorization request.
func grantTag(familyID string) string {
	sum := sha256.Sum256([]byte("frontdesk grant\x00" + familyID))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// GrantJTI returns the jti of an access token issued by redeeming the
// authorization code of the grant familyID (the refresh-token family, whose
// ID is the authorization request's): the grant's tag, a dot, and unique.
// Such a token is tied to its browser session and to its grant: it ends when
// the session ends or the grant is revoked (RevokeRefreshFamily, and every
// revocation of refresh tokens). Apps treat the jti as opaque.
func GrantJTI(familyID, unique string) string {
	return grantTag(familyID) + "." + unique
}

// RefreshedJTI returns the jti of an access token minted by a refresh grant
// of the family familyID: the grant's tag, a tilde, and unique. Such a token
// is tied to its refresh family, not to the browser session the family
// started in (offline access outlives it): it ends when the family's refresh
// tokens are revoked, which logout, a password change and every other
// session ending that is meant to end offline access do.
func RefreshedJTI(familyID, unique string) string {
	return grantTag(familyID) + "~" + unique
}

// grantMarker is the revocation key of the grant an access token's jti
// names ("" for a token of no grant: client credentials), and whether the
// token was minted by a refresh grant.
func grantMarker(jti string) (marker string, refreshed bool) {
	i := strings.IndexAny(jti, ".~")
	if i <= 0 {
		return "", false
	}
	return grantMarkerPrefix + jti[:i], jti[i] == '~'
}

// AccessTokenRef is what an access token's liveness depends on, taken from
// its verified claims.
type AccessTokenRef struct {
	JTI       string
	SessionID string // the sid claim; "" when the token has none
	// PracticeID, Subject and ClientID decide whose token it is: a member's
	// when PracticeID is set and Subject is not ClientID (a client's own
	// client-credentials token names itself).
	PracticeID string
	Subject    string
	ClientID   string
	IssuedAt   time.Time
	// Elevated: the token carries emergency (break-glass) permissions
	// (the elevated_until claim).
	Elevated bool
}

func (r AccessTokenRef) memberID() string {
	if r.PracticeID == "" || r.Subject == r.ClientID {
		return ""
	}
	return r.Subject
}

// CheckAccessToken reports whether the access token r describes is still
// live at now: nil if so, an error wrapping ErrTokenNotLive saying why not,
// or the database's error. It is one statement on either engine.
func (s *Store) CheckAccessToken(ctx context.Context, r AccessTokenRef, now time.Time) error {
	if r.JTI == "" {
		return fmt.Errorf("%w: no jti", ErrTokenNotLive)
	}
	memberID := r.memberID()
	marker, refreshed := grantMarker(r.JTI)
	// A token from a code exchange ends with its browser session; one from
	// a refresh grant with its family (whose revocation records the
	// marker), so offline access outlives a session superseded by a new
	// login in the same browser, which revokes no refresh tokens.
	sessionBound := r.SessionID != "" && !refreshed
	// An elevation in force when the token was minted (iat is truncated to
	// the second) and ended early since ends it.
	iat := micros(r.IssuedAt.Truncate(time.Second))
	var (
		revoked, openSessions, endedElevations int64
		status                                 string
	)
	err := s.queryRow(ctx, `SELECT
		(SELECT COUNT(*) FROM oidc_revoked_tokens WHERE jti IN ($1, $2)),
		(SELECT COUNT(*) FROM sessions WHERE id = $3 AND ended_at IS NULL),
		COALESCE((SELECT status FROM members WHERE id = $4 AND practice_id = $5), ''),
		(SELECT COUNT(*) FROM elevations WHERE member_id = $4 AND expires_at > $6 AND created_at < $7
			AND ended_at IS NOT NULL AND ended_at >= $6)`,
		r.JTI, marker, r.SessionID, memberID, r.PracticeID, iat, iat+int64(time.Second/time.Microsecond)).
		Scan(&revoked, &openSessions, &status, &endedElevations)
	if err != nil {
		return fmt.Errorf("store: check access token: %w", err)
	}
	switch {
	case revoked > 0:
		return fmt.Errorf("%w: revoked", ErrTokenNotLive)
	case sessionBound && openSessions == 0:
		return fmt.Errorf("%w: its browser session ended", ErrTokenNotLive)
	case memberID != "" && status != string(StatusActive) && status != string(StatusLocked):
		return fmt.Errorf("%w: the member can no longer sign in", ErrTokenNotLive)
	case r.Elevated && memberID != "" && endedElevations > 0:
		return fmt.Errorf("%w: its emergency access ended", ErrTokenNotLive)
	}
	return nil
}

// revokeGrantAccessTokens ends every access token issued under the grant
// familyID (see GrantJTI).
func (s *Store) revokeGrantAccessTokens(ctx context.Context, familyID string, now time.Time) error {
	_, err := s.exec(ctx, `INSERT INTO oidc_revoked_tokens (jti, expires_at) VALUES ($1, $2)
		ON CONFLICT (jti) DO NOTHING`, grantMarkerPrefix+grantTag(familyID), micros(now.Add(grantRevocationRetention)))
	if err != nil {
		return fmt.Errorf("store: revoke grant access tokens: %w", err)
	}
	return nil
}
