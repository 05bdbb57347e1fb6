package store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

func oidcHash(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }

func TestAuthRequestBindingAndCodes(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		p := seedPractice(t, s, "sunrise")
		m := seedMember(t, s, p, "m1", "dana@example.com", "clinician")
		a := store.AuthRequest{ID: "ar1", ClientID: "ehr", PracticeID: p.ID, BindingHash: oidcHash("browser-a"),
			Params: `{"redirect_uri":"https://ehr.example/cb"}`, CreatedAt: t0, ExpiresAt: t0.Add(10 * time.Minute)}
		if err := s.CreateAuthRequest(ctx, a); err != nil {
			t.Fatal(err)
		}
		got, err := s.AuthRequestByID(ctx, "ar1", t0.Add(time.Minute))
		if err != nil || got.Params != a.Params || !bytes.Equal(got.BindingHash, a.BindingHash) || !got.DoneAt.IsZero() {
			t.Fatalf("AuthRequestByID = %+v, %v", got, err)
		}
		if _, err := s.AuthRequestByID(ctx, "ar1", t0.Add(10*time.Minute)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("expired auth request: err = %v, want ErrNotFound", err)
		}
		// No code before the login is complete.
		if err := s.SetAuthCode(ctx, "ar1", oidcHash("code"), t0.Add(2*time.Minute), t0); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("SetAuthCode before completion: err = %v, want ErrNotFound", err)
		}
		// Another browser cannot complete it.
		at := t0.Add(time.Minute)
		if err := s.CompleteAuthRequest(ctx, "ar1", oidcHash("browser-b"), m.ID, "sess1", at, []string{"pwd"}, at); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("complete from another browser: err = %v, want ErrNotFound", err)
		}
		if err := s.CompleteAuthRequest(ctx, "ar1", oidcHash("browser-a"), m.ID, "sess1", at, []string{"pwd"}, at); err != nil {
			t.Fatal(err)
		}
		if err := s.CompleteAuthRequest(ctx, "ar1", oidcHash("browser-a"), m.ID, "sess1", at, []string{"pwd"}, at); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("completing twice: err = %v, want ErrNotFound", err)
		}
		got, _ = s.AuthRequestByID(ctx, "ar1", at)
		if got.MemberID != m.ID || got.SessionID != "sess1" || !got.AuthTime.Equal(at) || len(got.AMR) != 1 || got.DoneAt.IsZero() {
			t.Fatalf("completed = %+v", got)
		}
		if err := s.SetAuthCode(ctx, "ar1", oidcHash("code"), at.Add(time.Minute), at); err != nil {
			t.Fatal(err)
		}
		if err := s.SetAuthCode(ctx, "ar1", oidcHash("code2"), at.Add(time.Minute), at); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("second code: err = %v, want ErrNotFound", err)
		}
		if _, err := s.ConsumeAuthCode(ctx, oidcHash("nope"), at); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown code: err = %v", err)
		}
		// A refresh family issued from the code is revoked when the code is replayed.
		c, err := s.ConsumeAuthCode(ctx, oidcHash("code"), at.Add(10*time.Second))
		if err != nil || c.ID != "ar1" || c.MemberID != m.ID {
			t.Fatalf("ConsumeAuthCode = %+v, %v", c, err)
		}
		rt := store.RefreshToken{ID: "rt1", FamilyID: "ar1", ClientID: "ehr", PracticeID: p.ID, MemberID: m.ID,
			SessionID: "sess1", Scopes: []string{"openid", "offline_access"}, AMR: []string{"pwd"}, AuthTime: at,
			CreatedAt: at, ExpiresAt: at.Add(time.Hour)}
		if err := s.CreateRefreshToken(ctx, rt, oidcHash("rt1")); err != nil {
			t.Fatal(err)
		}
		if ids, err := s.SessionClients(ctx, "sess1"); err != nil || len(ids) != 1 || ids[0] != "ehr" {
			t.Errorf("SessionClients = %v, %v", ids, err)
		}
		if ids, err := s.MemberClients(ctx, m.ID, at); err != nil || len(ids) != 1 || ids[0] != "ehr" {
			t.Errorf("MemberClients = %v, %v", ids, err)
		}
		if ids, err := s.MemberClients(ctx, "nobody", at); err != nil || len(ids) != 0 {
			t.Errorf("MemberClients(nobody) = %v, %v", ids, err)
		}
		if _, err := s.ConsumeAuthCode(ctx, oidcHash("code"), at.Add(20*time.Second)); !errors.Is(err, store.ErrCodeReplayed) {
			t.Fatalf("replayed code: err = %v, want ErrCodeReplayed", err)
		}
		if got, _ := s.RefreshTokenByHash(ctx, oidcHash("rt1")); got.RevokedAt.IsZero() {
			t.Error("code replay did not revoke the refresh family")
		}
	})
}

func TestAuthCodeExpiresAndIsSingleUseUnderRace(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		p := seedPractice(t, s, "sunrise")
		m := seedMember(t, s, p, "m1", "dana@example.com")
		for _, id := range []string{"late", "race"} {
			a := store.AuthRequest{ID: id, ClientID: "ehr", PracticeID: p.ID, BindingHash: oidcHash("b"),
				Params: "{}", CreatedAt: t0, ExpiresAt: t0.Add(10 * time.Minute)}
			if err := s.CreateAuthRequest(ctx, a); err != nil {
				t.Fatal(err)
			}
			if err := s.CompleteAuthRequest(ctx, id, oidcHash("b"), m.ID, "s", t0, []string{"pwd"}, t0); err != nil {
				t.Fatal(err)
			}
			if err := s.SetAuthCode(ctx, id, oidcHash("code-"+id), t0.Add(time.Minute), t0); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.ConsumeAuthCode(ctx, oidcHash("code-late"), t0.Add(time.Minute)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("expired code: err = %v, want ErrNotFound", err)
		}
		var (
			wg sync.WaitGroup
			mu sync.Mutex
			ok int
		)
		for range 8 {
			wg.Go(func() {
				if _, err := s.ConsumeAuthCode(ctx, oidcHash("code-race"), t0.Add(time.Second)); err == nil {
					mu.Lock()
					ok++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if ok != 1 {
			t.Errorf("%d concurrent redemptions succeeded, want 1", ok)
		}
	})
}

func TestRefreshRotationAndReplay(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		p := seedPractice(t, s, "sunrise")
		m := seedMember(t, s, p, "m1", "dana@example.com")
		base := store.RefreshToken{FamilyID: "fam", ClientID: "ehr", PracticeID: p.ID, MemberID: m.ID, SessionID: "sess",
			Scopes: []string{"openid", "offline_access"}, AMR: []string{"pwd"}, AuthTime: t0, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
		first := base
		first.ID = "r1"
		if err := s.CreateRefreshToken(ctx, first, oidcHash("tok1")); err != nil {
			t.Fatal(err)
		}
		got, err := s.UseRefreshToken(ctx, oidcHash("tok1"), t0.Add(time.Minute))
		if err != nil || got.ID != "r1" || got.FamilyID != "fam" || len(got.Scopes) != 2 || !got.AuthTime.Equal(t0) {
			t.Fatalf("UseRefreshToken = %+v, %v", got, err)
		}
		second := base
		second.ID = "r2"
		if err := s.CreateRefreshToken(ctx, second, oidcHash("tok2")); err != nil {
			t.Fatal(err)
		}
		// Replaying the rotated token revokes the family, including tok2.
		if _, err := s.UseRefreshToken(ctx, oidcHash("tok1"), t0.Add(2*time.Minute)); !errors.Is(err, store.ErrRefreshReplayed) {
			t.Fatalf("replay: err = %v, want ErrRefreshReplayed", err)
		}
		if _, err := s.UseRefreshToken(ctx, oidcHash("tok2"), t0.Add(3*time.Minute)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("token of a revoked family: err = %v, want ErrNotFound", err)
		}
		// Expiry, session and member revocation.
		third := base
		third.ID, third.FamilyID = "r3", "fam2"
		if err := s.CreateRefreshToken(ctx, third, oidcHash("tok3")); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UseRefreshToken(ctx, oidcHash("tok3"), t0.Add(time.Hour)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("expired: err = %v, want ErrNotFound", err)
		}
		if n, err := s.RevokeSessionRefreshTokens(ctx, "sess", t0); err != nil || n != 1 {
			t.Errorf("RevokeSessionRefreshTokens = %d, %v; want 1", n, err)
		}
		if n, err := s.RevokeMemberRefreshTokens(ctx, m.ID, t0); err != nil || n != 0 {
			t.Errorf("RevokeMemberRefreshTokens = %d, %v; want 0", n, err)
		}
		if _, err := s.UseRefreshToken(ctx, oidcHash("unknown"), t0); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown: err = %v", err)
		}
		if n, err := s.PurgeOIDC(ctx, t0.Add(2*time.Hour)); err != nil || n != 3 {
			t.Errorf("PurgeOIDC = %d, %v; want 3", n, err)
		}
	})
}

func TestRevokedAccessTokens(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if r, err := s.AccessTokenRevoked(ctx, "jti1"); err != nil || r {
			t.Fatalf("AccessTokenRevoked before = %v, %v", r, err)
		}
		for range 2 {
			if err := s.RevokeAccessToken(ctx, "jti1", t0.Add(5*time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		if r, err := s.AccessTokenRevoked(ctx, "jti1"); err != nil || !r {
			t.Fatalf("AccessTokenRevoked after = %v, %v", r, err)
		}
	})
}

func TestSigningKeyRotation(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		k1 := store.SigningKey{ID: "k1", Alg: "ES256", PublicJWK: `{"kty":"EC"}`, PrivateEnc: []byte{1, 2, 3},
			CreatedAt: t0, ActiveFrom: t0}
		if err := s.CreateSigningKey(ctx, k1); err != nil {
			t.Fatal(err)
		}
		rs := store.SigningKey{ID: "r1", Alg: "RS256", PublicJWK: `{"kty":"RSA"}`, PrivateEnc: []byte{4}, CreatedAt: t0, ActiveFrom: t0}
		if err := s.CreateSigningKey(ctx, rs); err != nil {
			t.Fatal(err)
		}
		k2 := store.SigningKey{ID: "k2", Alg: "ES256", PublicJWK: `{"kty":"EC"}`, PrivateEnc: []byte{5},
			CreatedAt: t0.Add(time.Hour), ActiveFrom: t0.Add(time.Hour + 10*time.Minute)}
		if err := s.RotateSigningKey(ctx, k2, t0.Add(3*time.Hour)); err != nil {
			t.Fatal(err)
		}
		keys, err := s.PublishedSigningKeys(ctx, t0.Add(2*time.Hour))
		if err != nil || len(keys) != 3 {
			t.Fatalf("published = %d keys, %v; want 3", len(keys), err)
		}
		if keys[2].ID != "k2" || !keys[0].ExpiresAt.Equal(t0.Add(3*time.Hour)) && keys[0].ID == "k1" ||
			!bytes.Equal(keys[2].PrivateEnc, []byte{5}) {
			t.Errorf("published = %+v", keys)
		}
		for _, k := range keys {
			if k.ID == "r1" && !k.ExpiresAt.IsZero() {
				t.Error("rotating ES256 retired the RS256 key")
			}
		}
		keys, _ = s.PublishedSigningKeys(ctx, t0.Add(3*time.Hour))
		if len(keys) != 2 {
			t.Errorf("after retirement %d keys published, want 2", len(keys))
		}
	})
}

// RefreshTokenWithMember reads a refresh token, its member (roles included)
// and the member's role data, as RefreshTokenByHash, MemberByID and
// MemberRoleData would.
func TestRefreshTokenWithMember(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		p := seedPractice(t, s, "sunrise")
		m := seedMember(t, s, p, "m1", "dana@example.com", "therapist", "biller")
		bare := seedMember(t, s, p, "m2", "ezra@example.com")
		sup := seedMember(t, s, p, "m3", "fran@example.com", "clinical_supervisor")
		now := t0.Add(time.Hour)
		if err := s.PutRoleModel(ctx, store.RoleModel{PracticeID: p.ID, Preset: "default", UpdatedAt: t0}); err != nil {
			t.Fatal(err)
		}
		if err := s.SetMemberOverrides(ctx, m.ID, []store.MemberOverride{{Permission: "billing.view:own", Grant: true},
			{Permission: "clients.view:all"}}); err != nil {
			t.Fatal(err)
		}
		if err := s.SetSupervisors(ctx, m.ID, []store.Supervision{{SupervisorID: sup.ID, CosignNotes: true, CreatedAt: t0},
			{SupervisorID: bare.ID, CosignPlans: true, CreatedAt: t0}}); err != nil {
			t.Fatal(err)
		}
		for i, e := range []store.Elevation{
			{Permissions: []string{"clients.view:all", "notes.view:all"}, CreatedAt: t0, ExpiresAt: now.Add(time.Hour)}, // active
			{Permissions: []string{"billing.view:all"}, CreatedAt: t0, ExpiresAt: now.Add(time.Minute)},                 // active
			{Permissions: []string{"billing.view:all"}, CreatedAt: t0, ExpiresAt: now},                                  // expired
			{Permissions: []string{"billing.view:all"}, CreatedAt: now.Add(time.Minute), ExpiresAt: now.Add(time.Hour)}, // not yet
			{Permissions: []string{"billing.view:all"}, CreatedAt: t0, ExpiresAt: now.Add(time.Hour), EndedAt: t0.Add(time.Minute), EndedBy: sup.ID},
		} {
			e.ID, e.PracticeID, e.MemberID, e.GrantedBy, e.Reason = fmt.Sprintf("el%d", i), p.ID, m.ID, sup.ID, "client in crisis"
			if err := s.CreateElevation(ctx, e); err != nil {
				t.Fatal(err)
			}
			if !e.EndedAt.IsZero() {
				if _, err := s.ExecRawForTest(ctx, `UPDATE elevations SET ended_at = $1 WHERE id = $2`,
					e.EndedAt.UnixMicro(), e.ID); err != nil {
					t.Fatal(err)
				}
			}
		}
		for i, member := range []store.Member{m, bare, sup} {
			id := fmt.Sprintf("rt%d", i)
			rt := store.RefreshToken{ID: id, FamilyID: "f" + id, ClientID: "ehr", PracticeID: p.ID, MemberID: member.ID,
				SessionID: "sess1", Scopes: []string{"openid", "offline_access"}, AMR: []string{"pwd"}, AuthTime: t0,
				CreatedAt: t0, ExpiresAt: t0.Add(2 * time.Hour)}
			if err := s.CreateRefreshToken(ctx, rt, oidcHash(id)); err != nil {
				t.Fatal(err)
			}
			wantTok, _ := s.RefreshTokenByHash(ctx, oidcHash(id))
			wantMember, _ := s.MemberByID(ctx, p.ID, member.ID)
			wantData, err := s.MemberRoleData(ctx, p.ID, member.ID, now)
			if err != nil {
				t.Fatal(err)
			}
			gotTok, gotMember, gotData, err := s.RefreshTokenWithMember(ctx, oidcHash(id), now)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(gotTok, wantTok) {
				t.Errorf("token = %+v\nwant %+v", gotTok, wantTok)
			}
			if !reflect.DeepEqual(gotMember, wantMember) {
				t.Errorf("member = %+v\nwant %+v", gotMember, wantMember)
			}
			if !reflect.DeepEqual(gotData, wantData) {
				t.Errorf("%s: role data = %+v\nwant %+v", member.ID, gotData, wantData)
			}
		}
		d, _ := s.MemberRoleData(ctx, p.ID, m.ID, now)
		if !d.HasModel || len(d.Overrides) != 2 || len(d.Supervisors) != 2 || len(d.CosignNotes) != 1 ||
			len(d.CosignPlans) != 1 || len(d.Elevations) != 2 {
			t.Errorf("fixture: role data of m1 = %+v, want a model, 2 overrides, 2 supervisors (1 co-signing each), 2 elevations", d)
		}
		if m, _ := s.MemberByID(ctx, p.ID, m.ID); !slices.Equal(m.Roles, []string{"biller", "therapist"}) {
			t.Errorf("roles = %v, want sorted [biller therapist]", m.Roles)
		}
		if _, _, _, err := s.RefreshTokenWithMember(ctx, oidcHash("nope"), now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown token: %v, want ErrNotFound", err)
		}
	})
}
