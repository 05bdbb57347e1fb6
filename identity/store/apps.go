package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// App is an OpenID client a practice registered (through the admin API or the
// console), as opposed to a client of the configuration file. It belongs to
// one practice. The secret of a confidential app is kept only as its SHA-256
// hash.
type App struct {
	ClientID     string
	PracticeID   string
	PracticeSlug string // filled in by reads
	Name         string
	RedirectURIs []string
	GrantTypes   []string
	Confidential bool
	SecretHash   []byte // nil for public apps
	CreatedBy    string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	// SecretRotatedAt is when the current secret was issued (registration
	// or the last rotation); zero for public apps.
	SecretRotatedAt time.Time
	// RemovedAt is when the app was removed; zero while it is registered.
	RemovedAt time.Time
	// RequirePermission, when not "", is a catalogue permission a member
	// must hold to log in to the app and to refresh its tokens.
	RequirePermission string
	// BackchannelLogoutURI, when not "", receives OpenID back-channel
	// logout tokens.
	BackchannelLogoutURI string
	// AccessTokenTTL is the lifetime of access tokens issued to the app;
	// 0 means the provider's default. Stored in microseconds.
	AccessTokenTTL time.Duration
	// IDTokenAlg signs the app's ID and logout tokens
	// (id_token_signed_response_alg) and AccessTokenAlg its access tokens:
	// "ES256" or "RS256". "" on creation stores the defaults, RS256 and
	// ES256.
	IDTokenAlg     string
	AccessTokenAlg string
	// DisplayName is what staff see on their home page ("" shows Name);
	// LaunchURL is where the home page's link opens the app ("" keeps the
	// app off the home page).
	DisplayName string
	LaunchURL   string
}

// Title is the name staff see: DisplayName, or Name when there is none.
func (a App) Title() string {
	if a.DisplayName != "" {
		return a.DisplayName
	}
	return a.Name
}

const appColumns = `a.client_id, a.practice_id, p.slug, a.name, a.redirect_uris, a.grant_types, a.confidential,
	a.secret_hash, a.created_by, a.created_at, a.updated_at, a.secret_rotated_at, a.removed_at, a.require_permission,
	a.backchannel_logout_uri, a.access_token_ttl, a.id_token_signed_response_alg, a.access_token_signing_alg,
	a.display_name, a.launch_url`

// CreateApp registers a. ErrConflict means the client ID is taken.
func (s *Store) CreateApp(ctx context.Context, a App) error {
	uris, err := json.Marshal(a.RedirectURIs)
	if err != nil {
		return fmt.Errorf("store: create app: %w", err)
	}
	grants, err := json.Marshal(a.GrantTypes)
	if err != nil {
		return fmt.Errorf("store: create app: %w", err)
	}
	_, err = s.exec(ctx, `INSERT INTO practice_apps (client_id, practice_id, name, redirect_uris, grant_types,
		confidential, secret_hash, created_by, created_at, updated_at, secret_rotated_at, require_permission,
		backchannel_logout_uri, access_token_ttl, id_token_signed_response_alg, access_token_signing_alg,
		display_name, launch_url)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
		a.ClientID, a.PracticeID, a.Name, string(uris), string(grants), b2i(a.Confidential), a.SecretHash,
		a.CreatedBy, micros(a.CreatedAt), micros(a.UpdatedAt), nullMicros(a.SecretRotatedAt), a.RequirePermission,
		a.BackchannelLogoutURI, a.AccessTokenTTL.Microseconds(), orDefault(a.IDTokenAlg, "RS256"),
		orDefault(a.AccessTokenAlg, "ES256"), a.DisplayName, a.LaunchURL)
	if isUniqueViolation(err) {
		return fmt.Errorf("app %q: %w", a.ClientID, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("store: create app: %w", err)
	}
	return nil
}

// AppByClientID returns a registered (not removed) app by its client ID,
// whatever its practice; ErrNotFound when there is none.
func (s *Store) AppByClientID(ctx context.Context, clientID string) (App, error) {
	return scanApp(s.queryRow(ctx, `SELECT `+appColumns+` FROM practice_apps a JOIN practices p ON p.id = a.practice_id
		WHERE a.client_id = $1 AND a.removed_at IS NULL`, clientID))
}

// PracticeApp returns a registered (not removed) app of the practice; an app
// of another practice is reported as not found.
func (s *Store) PracticeApp(ctx context.Context, practiceID, clientID string) (App, error) {
	return scanApp(s.queryRow(ctx, `SELECT `+appColumns+` FROM practice_apps a JOIN practices p ON p.id = a.practice_id
		WHERE a.practice_id = $1 AND a.client_id = $2 AND a.removed_at IS NULL`, practiceID, clientID))
}

// ListApps returns the practice's registered (not removed) apps, oldest first.
func (s *Store) ListApps(ctx context.Context, practiceID string) ([]App, error) {
	rows, err := s.query(ctx, `SELECT `+appColumns+` FROM practice_apps a JOIN practices p ON p.id = a.practice_id
		WHERE a.practice_id = $1 AND a.removed_at IS NULL ORDER BY a.created_at, a.client_id`, practiceID)
	if err != nil {
		return nil, fmt.Errorf("store: list apps: %w", err)
	}
	defer rows.Close()
	var out []App
	for rows.Next() {
		a, err := scanApp(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list apps: %w", err)
	}
	return out, nil
}

func scanApp(r rowScanner) (App, error) {
	var (
		a                App
		uris, grants     string
		confidential     int64
		created, updated int64
		rotated, removed sql.NullInt64
		ttl              int64
	)
	err := r.Scan(&a.ClientID, &a.PracticeID, &a.PracticeSlug, &a.Name, &uris, &grants, &confidential, &a.SecretHash,
		&a.CreatedBy, &created, &updated, &rotated, &removed, &a.RequirePermission,
		&a.BackchannelLogoutURI, &ttl, &a.IDTokenAlg, &a.AccessTokenAlg, &a.DisplayName, &a.LaunchURL)
	if err != nil {
		return App{}, notFound(err, "app")
	}
	if err := json.Unmarshal([]byte(uris), &a.RedirectURIs); err != nil {
		return App{}, fmt.Errorf("store: app redirect URIs: %w", err)
	}
	if err := json.Unmarshal([]byte(grants), &a.GrantTypes); err != nil {
		return App{}, fmt.Errorf("store: app grant types: %w", err)
	}
	a.Confidential = confidential != 0
	if len(a.SecretHash) == 0 {
		a.SecretHash = nil
	}
	a.CreatedAt, a.UpdatedAt = fromMicros(created), fromMicros(updated)
	a.SecretRotatedAt, a.RemovedAt = fromNullMicros(rotated), fromNullMicros(removed)
	a.AccessTokenTTL = time.Duration(ttl) * time.Microsecond
	return a, nil
}

// SetAppSecret replaces a registered confidential app's secret hash.
func (s *Store) SetAppSecret(ctx context.Context, practiceID, clientID string, secretHash []byte, at time.Time) error {
	return s.expectOne(s.exec(ctx, `UPDATE practice_apps SET secret_hash = $1, secret_rotated_at = $2, updated_at = $2
		WHERE practice_id = $3 AND client_id = $4 AND removed_at IS NULL AND confidential = 1`,
		secretHash, micros(at), practiceID, clientID))("set app secret")
}

// SetAppRequirePermission replaces the permission a registered app requires
// ("" for none).
func (s *Store) SetAppRequirePermission(ctx context.Context, practiceID, clientID, perm string, at time.Time) error {
	return s.expectOne(s.exec(ctx, `UPDATE practice_apps SET require_permission = $1, updated_at = $2
		WHERE practice_id = $3 AND client_id = $4 AND removed_at IS NULL`,
		perm, micros(at), practiceID, clientID))("set app require_permission")
}

// SetAppBackchannelLogoutURI replaces the URI a registered app receives
// back-channel logout tokens at ("" for none).
func (s *Store) SetAppBackchannelLogoutURI(ctx context.Context, practiceID, clientID, uri string, at time.Time) error {
	return s.expectOne(s.exec(ctx, `UPDATE practice_apps SET backchannel_logout_uri = $1, updated_at = $2
		WHERE practice_id = $3 AND client_id = $4 AND removed_at IS NULL`,
		uri, micros(at), practiceID, clientID))("set app backchannel_logout_uri")
}

// SetAppAccessTokenTTL replaces the lifetime of the access tokens issued to
// a registered app (0 for the provider's default).
func (s *Store) SetAppAccessTokenTTL(ctx context.Context, practiceID, clientID string, ttl time.Duration, at time.Time) error {
	return s.expectOne(s.exec(ctx, `UPDATE practice_apps SET access_token_ttl = $1, updated_at = $2
		WHERE practice_id = $3 AND client_id = $4 AND removed_at IS NULL`,
		ttl.Microseconds(), micros(at), practiceID, clientID))("set app access_token_ttl")
}

// SetAppSigningAlgs replaces the algorithms of a registered app's ID tokens
// and access tokens.
func (s *Store) SetAppSigningAlgs(ctx context.Context, practiceID, clientID, idTokenAlg, accessTokenAlg string, at time.Time) error {
	return s.expectOne(s.exec(ctx, `UPDATE practice_apps SET id_token_signed_response_alg = $1,
		access_token_signing_alg = $2, updated_at = $3
		WHERE practice_id = $4 AND client_id = $5 AND removed_at IS NULL`,
		idTokenAlg, accessTokenAlg, micros(at), practiceID, clientID))("set app signing algorithms")
}

// SetAppLaunch replaces a registered app's display name and launch URL.
func (s *Store) SetAppLaunch(ctx context.Context, practiceID, clientID, displayName, launchURL string, at time.Time) error {
	return s.expectOne(s.exec(ctx, `UPDATE practice_apps SET display_name = $1, launch_url = $2, updated_at = $3
		WHERE practice_id = $4 AND client_id = $5 AND removed_at IS NULL`,
		displayName, launchURL, micros(at), practiceID, clientID))("set app launch")
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// RemoveApp marks a registered app removed (its secret hash is dropped) and
// revokes every refresh token issued to it. It reports how many refresh
// tokens were still unrevoked.
func (s *Store) RemoveApp(ctx context.Context, practiceID, clientID string, at time.Time) (int64, error) {
	var n int64
	err := s.InTx(ctx, func(tx *Store) error {
		if err := tx.expectOne(tx.exec(ctx, `UPDATE practice_apps SET removed_at = $1, updated_at = $1, secret_hash = NULL
			WHERE practice_id = $2 AND client_id = $3 AND removed_at IS NULL`, micros(at), practiceID, clientID))("remove app"); err != nil {
			return err
		}
		var err error
		n, err = tx.revokeRefresh(ctx, `client_id = $2`, clientID, at)
		return err
	})
	return n, err
}

// PublicAppRedirectURIs returns the redirect URIs of every registered (not
// removed) public app, in every practice: the browser apps whose origins
// may call the token, userinfo and revocation endpoints cross-origin.
func (s *Store) PublicAppRedirectURIs(ctx context.Context) ([]string, error) {
	rows, err := s.query(ctx, `SELECT redirect_uris FROM practice_apps WHERE confidential = 0 AND removed_at IS NULL`)
	if err != nil {
		return nil, fmt.Errorf("store: public app redirect URIs: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			return nil, fmt.Errorf("store: public app redirect URIs: %w", err)
		}
		var uris []string
		if err := json.Unmarshal([]byte(raw), &uris); err != nil {
			return nil, fmt.Errorf("store: public app redirect URIs: %w", err)
		}
		out = append(out, uris...)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: public app redirect URIs: %w", err)
	}
	return out, nil
}
