package store_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

func TestPracticeApps(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		p := seedPractice(t, s, "sunrise")
		q := seedPractice(t, s, "moonrise")
		m := seedMember(t, s, p, "m1", "a@example.org")
		app := store.App{ClientID: "app_1", PracticeID: p.ID, Name: "Scheduler", RedirectURIs: []string{"https://s.example/cb"},
			GrantTypes: []string{"authorization_code", "refresh_token"}, Confidential: true, SecretHash: []byte{1, 2, 3},
			CreatedBy: m.ID, CreatedAt: t0, UpdatedAt: t0, SecretRotatedAt: t0}
		if err := s.CreateApp(ctx, app); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateApp(ctx, app); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("duplicate client ID: %v", err)
		}
		pub := store.App{ClientID: "app_2", PracticeID: p.ID, Name: "Tablet", RedirectURIs: []string{"http://127.0.0.1/cb"},
			GrantTypes: []string{"authorization_code"}, CreatedAt: t0.Add(time.Second), UpdatedAt: t0.Add(time.Second)}
		if err := s.CreateApp(ctx, pub); err != nil {
			t.Fatal(err)
		}
		got, err := s.AppByClientID(ctx, "app_1")
		if err != nil || got.PracticeSlug != "sunrise" || got.Name != "Scheduler" || !got.Confidential ||
			!bytes.Equal(got.SecretHash, []byte{1, 2, 3}) || len(got.RedirectURIs) != 1 || len(got.GrantTypes) != 2 ||
			!got.CreatedAt.Equal(t0) || !got.SecretRotatedAt.Equal(t0) || !got.RemovedAt.IsZero() {
			t.Fatalf("AppByClientID = %+v, %v", got, err)
		}
		if _, err := s.PracticeApp(ctx, q.ID, "app_1"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("another practice's app: %v", err)
		}
		if list, err := s.ListApps(ctx, p.ID); err != nil || len(list) != 2 || list[0].ClientID != "app_1" || list[1].SecretHash != nil {
			t.Fatalf("ListApps = %+v, %v", list, err)
		}
		if list, err := s.ListApps(ctx, q.ID); err != nil || len(list) != 0 {
			t.Fatalf("ListApps(other) = %+v, %v", list, err)
		}
		// Rotation: only confidential apps, only in their practice.
		if err := s.SetAppSecret(ctx, p.ID, "app_1", []byte{4}, t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := s.SetAppSecret(ctx, p.ID, "app_2", []byte{4}, t0); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("rotating a public app: %v", err)
		}
		if err := s.SetAppSecret(ctx, q.ID, "app_1", []byte{4}, t0); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("rotating another practice's app: %v", err)
		}
		if got, _ := s.AppByClientID(ctx, "app_1"); !bytes.Equal(got.SecretHash, []byte{4}) || !got.SecretRotatedAt.Equal(t0.Add(time.Minute)) {
			t.Fatalf("after rotation: %+v", got)
		}
		// Removal revokes the app's refresh tokens and hides it.
		rt := store.RefreshToken{ID: "rt1", FamilyID: "f1", ClientID: "app_1", PracticeID: p.ID, MemberID: m.ID,
			AuthTime: t0, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
		if err := s.CreateRefreshToken(ctx, rt, []byte("hash-1")); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RemoveApp(ctx, q.ID, "app_1", t0); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("removing another practice's app: %v", err)
		}
		if n, err := s.RemoveApp(ctx, p.ID, "app_1", t0.Add(2*time.Minute)); err != nil || n != 1 {
			t.Fatalf("RemoveApp = %d, %v", n, err)
		}
		if _, err := s.RemoveApp(ctx, p.ID, "app_1", t0); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("removing twice: %v", err)
		}
		if _, err := s.AppByClientID(ctx, "app_1"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("removed app still found: %v", err)
		}
		if tok, err := s.RefreshTokenByHash(ctx, []byte("hash-1")); err != nil || tok.RevokedAt.IsZero() {
			t.Fatalf("refresh token after removal: %+v, %v", tok, err)
		}
		if err := s.CreateApp(ctx, app); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("a removed app's client ID was reused: %v", err)
		}
		if err := s.SetMemberDisplayName(ctx, m.ID, "Ann", t0); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.MemberByID(ctx, p.ID, m.ID); got.DisplayName != "Ann" {
			t.Fatalf("display name = %q", got.DisplayName)
		}
	})
}

// The back-channel logout URI and access-token lifetime of a registered app
// survive a round trip on both engines, default to none for an app created
// without them, and are changed by their setters only in the app's practice.
func TestPracticeAppLogoutAndTTL(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		p := seedPractice(t, s, "sunrise")
		q := seedPractice(t, s, "moonrise")
		withBoth := store.App{ClientID: "app_1", PracticeID: p.ID, Name: "Scheduler", RedirectURIs: []string{"https://s.example/cb"},
			GrantTypes: []string{"authorization_code"}, CreatedAt: t0, UpdatedAt: t0,
			BackchannelLogoutURI: "https://s.example/logout", AccessTokenTTL: 90 * time.Second}
		plain := store.App{ClientID: "app_2", PracticeID: p.ID, Name: "Tablet", RedirectURIs: []string{"https://t.example/cb"},
			GrantTypes: []string{"authorization_code"}, CreatedAt: t0, UpdatedAt: t0}
		for _, a := range []store.App{withBoth, plain} {
			if err := s.CreateApp(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct {
			id  string
			uri string
			ttl time.Duration
		}{
			{"app_1", "https://s.example/logout", 90 * time.Second},
			{"app_2", "", 0},
		} {
			got, err := s.AppByClientID(ctx, tc.id)
			if err != nil || got.BackchannelLogoutURI != tc.uri || got.AccessTokenTTL != tc.ttl {
				t.Errorf("AppByClientID(%s) = uri %q ttl %v, %v; want %q %v", tc.id, got.BackchannelLogoutURI, got.AccessTokenTTL, err, tc.uri, tc.ttl)
			}
		}
		at := t0.Add(time.Minute)
		if err := s.SetAppBackchannelLogoutURI(ctx, p.ID, "app_2", "https://t.example/bcl", at); err != nil {
			t.Fatal(err)
		}
		if err := s.SetAppAccessTokenTTL(ctx, p.ID, "app_2", time.Hour, at); err != nil {
			t.Fatal(err)
		}
		if err := s.SetAppBackchannelLogoutURI(ctx, q.ID, "app_2", "https://evil.example/", at); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("setting another practice's app's URI: %v", err)
		}
		if err := s.SetAppAccessTokenTTL(ctx, q.ID, "app_2", time.Minute, at); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("setting another practice's app's TTL: %v", err)
		}
		if got, err := s.PracticeApp(ctx, p.ID, "app_2"); err != nil || got.BackchannelLogoutURI != "https://t.example/bcl" ||
			got.AccessTokenTTL != time.Hour || !got.UpdatedAt.Equal(at) {
			t.Errorf("after setters: %+v, %v", got, err)
		}
		if err := s.SetAppBackchannelLogoutURI(ctx, p.ID, "app_2", "", at); err != nil {
			t.Fatal(err)
		}
		if err := s.SetAppAccessTokenTTL(ctx, p.ID, "app_2", 0, at); err != nil {
			t.Fatal(err)
		}
		if list, err := s.ListApps(ctx, p.ID); err != nil || len(list) != 2 || list[1].BackchannelLogoutURI != "" || list[1].AccessTokenTTL != 0 ||
			list[0].AccessTokenTTL != 90*time.Second {
			t.Errorf("ListApps after clearing = %+v, %v", list, err)
		}
		if _, err := s.RemoveApp(ctx, p.ID, "app_1", at); err != nil {
			t.Fatal(err)
		}
		if err := s.SetAppAccessTokenTTL(ctx, p.ID, "app_1", time.Minute, at); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("setting a removed app's TTL: %v", err)
		}
	})
}

// Only public, registered apps' redirect URIs are listed (CORS origins).
func TestPublicAppRedirectURIs(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		p := seedPractice(t, s, "sunrise")
		q := seedPractice(t, s, "moonrise")
		m := seedMember(t, s, p, "m1", "a@example.org")
		for i, a := range []store.App{
			{ClientID: "conf", PracticeID: p.ID, RedirectURIs: []string{"https://conf.example/cb"}, Confidential: true, SecretHash: []byte{1}},
			{ClientID: "spa", PracticeID: p.ID, RedirectURIs: []string{"https://spa.example/cb", "https://spa2.example/cb"}},
			{ClientID: "gone", PracticeID: q.ID, RedirectURIs: []string{"https://gone.example/cb"}},
			{ClientID: "moon", PracticeID: q.ID, RedirectURIs: []string{"https://moon.example/cb"}},
		} {
			a.Name, a.GrantTypes, a.CreatedBy = a.ClientID, []string{"authorization_code"}, m.ID
			a.CreatedAt, a.UpdatedAt = t0.Add(time.Duration(i)*time.Second), t0
			if err := s.CreateApp(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.RemoveApp(ctx, q.ID, "gone", t0); err != nil {
			t.Fatal(err)
		}
		got, err := s.PublicAppRedirectURIs(ctx)
		slices.Sort(got)
		if err != nil || !slices.Equal(got, []string{"https://moon.example/cb", "https://spa.example/cb", "https://spa2.example/cb"}) {
			t.Errorf("PublicAppRedirectURIs = %v, %v", got, err)
		}
	})
}

// A registered app's signing algorithms default to RS256 (ID tokens) and
// ES256 (access tokens) on creation, survive a round trip on both engines
// and change only in the app's practice.
func TestPracticeAppSigningAlgs(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		p := seedPractice(t, s, "sunrise")
		q := seedPractice(t, s, "moonrise")
		for _, a := range []store.App{
			{ClientID: "app_1", PracticeID: p.ID, Name: "Default", RedirectURIs: []string{"https://s.example/cb"},
				GrantTypes: []string{"authorization_code"}, CreatedAt: t0, UpdatedAt: t0},
			{ClientID: "app_2", PracticeID: p.ID, Name: "Chosen", RedirectURIs: []string{"https://t.example/cb"},
				GrantTypes: []string{"authorization_code"}, CreatedAt: t0, UpdatedAt: t0, IDTokenAlg: "ES256", AccessTokenAlg: "RS256"},
		} {
			if err := s.CreateApp(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct{ id, idAlg, atAlg string }{{"app_1", "RS256", "ES256"}, {"app_2", "ES256", "RS256"}} {
			got, err := s.AppByClientID(ctx, tc.id)
			if err != nil || got.IDTokenAlg != tc.idAlg || got.AccessTokenAlg != tc.atAlg {
				t.Errorf("AppByClientID(%s) = %s/%s, %v; want %s/%s", tc.id, got.IDTokenAlg, got.AccessTokenAlg, err, tc.idAlg, tc.atAlg)
			}
		}
		// An app inserted as before migration 00015 (no algorithm columns)
		// keeps ES256 for both, which signed its tokens until then.
		if _, err := s.ExecRawForTest(ctx, `INSERT INTO practice_apps (client_id, practice_id, name, redirect_uris, grant_types,
			confidential, created_by, created_at, updated_at, require_permission) VALUES ($1, $2, $3, $4, $5, 0, '', $6, $6, '')`,
			"app_old", p.ID, "Old", `["https://o.example/cb"]`, `["authorization_code"]`, t0.UnixMicro()); err != nil {
			t.Fatal(err)
		}
		if got, err := s.AppByClientID(ctx, "app_old"); err != nil || got.IDTokenAlg != "ES256" || got.AccessTokenAlg != "ES256" {
			t.Errorf("app from before the migration = %s/%s, %v; want ES256/ES256", got.IDTokenAlg, got.AccessTokenAlg, err)
		}
		at := t0.Add(time.Minute)
		if err := s.SetAppSigningAlgs(ctx, q.ID, "app_1", "ES256", "ES256", at); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("setting another practice's app's algorithms: %v", err)
		}
		if err := s.SetAppSigningAlgs(ctx, p.ID, "app_1", "ES256", "RS256", at); err != nil {
			t.Fatal(err)
		}
		if got, err := s.PracticeApp(ctx, p.ID, "app_1"); err != nil || got.IDTokenAlg != "ES256" || got.AccessTokenAlg != "RS256" ||
			!got.UpdatedAt.Equal(at) {
			t.Errorf("after SetAppSigningAlgs: %+v, %v", got, err)
		}
	})
}
