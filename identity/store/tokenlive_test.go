package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

// TestCheckAccessToken runs each way an access token stops being live
// through the one check every token consumer uses; a token of another
// grant, session and member is untouched by each.
func TestCheckAccessToken(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		p := seedPractice(t, s, "sunrise")
		iat := t0.Truncate(time.Second)
		now := t0.Add(time.Minute)
		n := 0
		// freshKind makes a member with an open session and a token issued
		// under it in a grant of its own: from the code exchange, or
		// (refreshed) from a refresh grant.
		freshKind := func(elevated, refreshed bool) store.AccessTokenRef {
			n++
			id := string(rune('a'+n-1)) + "-member"
			m := seedMember(t, s, p, id, id+"@example.com", "clinician")
			if err := s.SetMemberStatus(ctx, m.ID, store.StatusActive, t0); err != nil {
				t.Fatal(err)
			}
			sess := store.Session{ID: "sess-" + id, PracticeID: p.ID, MemberID: m.ID, AMR: []string{"pwd"},
				AuthTime: t0, CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0.Add(12 * time.Hour)}
			if err := s.CreateSession(ctx, sess, hashOf(sess.ID)); err != nil {
				t.Fatal(err)
			}
			if err := s.CreateRefreshToken(ctx, store.RefreshToken{ID: "rt-" + id, FamilyID: "fam-" + id, ClientID: "ehr",
				PracticeID: p.ID, MemberID: m.ID, SessionID: sess.ID, AuthTime: t0, CreatedAt: t0,
				ExpiresAt: t0.Add(time.Hour)}, hashOf("rt-"+id)); err != nil {
				t.Fatal(err)
			}
			jti := store.GrantJTI("fam-"+id, "jti-"+id)
			if refreshed {
				jti = store.RefreshedJTI("fam-"+id, "jti-"+id)
			}
			return store.AccessTokenRef{JTI: jti, SessionID: sess.ID, PracticeID: p.ID,
				Subject: m.ID, ClientID: "ehr", IssuedAt: iat, Elevated: elevated}
		}
		fresh := func(elevated bool) store.AccessTokenRef { return freshKind(elevated, false) }
		elevate := func(r store.AccessTokenRef) string {
			id := "el-" + r.Subject
			if err := s.CreateElevation(ctx, store.Elevation{ID: id, PracticeID: p.ID, MemberID: r.Subject, GrantedBy: "x",
				Permissions: []string{"clinical_notes.view:all"}, Reason: "crisis", CreatedAt: t0.Add(-time.Minute),
				ExpiresAt: t0.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			return id
		}
		for _, tc := range []struct {
			name     string
			elevated bool
			end      func(r store.AccessTokenRef)
		}{
			{"access token revoked", false, func(r store.AccessTokenRef) {
				if err := s.RevokeAccessToken(ctx, r.JTI, now.Add(5*time.Minute)); err != nil {
					t.Fatal(err)
				}
			}},
			{"grant revoked", false, func(r store.AccessTokenRef) {
				if n, err := s.RevokeRefreshFamily(ctx, "fam-"+r.Subject, now); err != nil || n != 1 {
					t.Fatalf("RevokeRefreshFamily = %d, %v", n, err)
				}
			}},
			{"logout: session ended, its refresh tokens revoked", false, func(r store.AccessTokenRef) {
				if _, err := s.RevokeSessionRefreshTokens(ctx, r.SessionID, now); err != nil {
					t.Fatal(err)
				}
				if err := s.EndSession(ctx, r.SessionID, now); err != nil {
					t.Fatal(err)
				}
			}},
			{"member's refresh tokens revoked", false, func(r store.AccessTokenRef) {
				if _, err := s.RevokeMemberRefreshTokens(ctx, r.Subject, now); err != nil {
					t.Fatal(err)
				}
			}},
			{"all member sessions ended", false, func(r store.AccessTokenRef) {
				if n, err := s.EndMemberSessions(ctx, r.Subject, "", now); err != nil || n != 1 {
					t.Fatalf("EndMemberSessions = %d, %v", n, err)
				}
				// The ended session's refresh tokens go with it.
				if rt, err := s.RefreshTokenByHash(ctx, hashOf("rt-"+r.Subject)); err != nil || rt.RevokedAt.IsZero() {
					t.Errorf("refresh token of the ended session: %+v, %v; want revoked", rt, err)
				}
			}},
			{"member deactivated", false, func(r store.AccessTokenRef) {
				if err := s.SetMemberStatus(ctx, r.Subject, store.StatusDeactivated, now); err != nil {
					t.Fatal(err)
				}
			}},
			{"emergency access ended", true, func(r store.AccessTokenRef) {
				if err := s.EndElevation(ctx, p.ID, "el-"+r.Subject, "owner", now); err != nil {
					t.Fatal(err)
				}
			}},
		} {
			for _, kind := range []struct {
				name      string
				refreshed bool
			}{{"code exchange", false}, {"refresh grant", true}} {
				t.Run(tc.name+"/"+kind.name, func(t *testing.T) {
					r, bystander := freshKind(tc.elevated, kind.refreshed), freshKind(tc.elevated, kind.refreshed)
					if tc.elevated {
						elevate(r)
						elevate(bystander)
					}
					if err := s.CheckAccessToken(ctx, r, now); err != nil {
						t.Fatalf("before: %v", err)
					}
					tc.end(r)
					if err := s.CheckAccessToken(ctx, r, now); !errors.Is(err, store.ErrTokenNotLive) {
						t.Errorf("after: %v, want ErrTokenNotLive", err)
					}
					if err := s.CheckAccessToken(ctx, bystander, now); err != nil {
						t.Errorf("another member's token: %v", err)
					}
				})
			}
		}

		t.Run("locked member and client token stay live", func(t *testing.T) {
			r := fresh(false)
			if err := s.SetMemberStatus(ctx, r.Subject, store.StatusLocked, now); err != nil {
				t.Fatal(err)
			}
			if err := s.CheckAccessToken(ctx, r, now); err != nil {
				t.Errorf("locked member: %v (a lock blocks password sign-in, not tokens)", err)
			}
			client := store.AccessTokenRef{JTI: "cc-1", PracticeID: p.ID, Subject: "ehr", ClientID: "ehr", IssuedAt: iat}
			if err := s.CheckAccessToken(ctx, client, now); err != nil {
				t.Errorf("client-credentials token: %v", err)
			}
			if err := s.RevokeAccessToken(ctx, "cc-1", now.Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
			if err := s.CheckAccessToken(ctx, client, now); !errors.Is(err, store.ErrTokenNotLive) {
				t.Errorf("revoked client-credentials token: %v", err)
			}
		})

		t.Run("a superseded session ends its code token, not offline access", func(t *testing.T) {
			// A new login in the same browser ends the old session without
			// revoking its refresh tokens: what they mint stays live.
			code, refreshed := freshKind(false, false), freshKind(false, true)
			for _, r := range []store.AccessTokenRef{code, refreshed} {
				if err := s.EndSession(ctx, r.SessionID, now); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.CheckAccessToken(ctx, code, now); !errors.Is(err, store.ErrTokenNotLive) {
				t.Errorf("code-exchange token of the ended session: %v", err)
			}
			if err := s.CheckAccessToken(ctx, refreshed, now); err != nil {
				t.Errorf("refreshed token of the ended session: %v", err)
			}
		})

		t.Run("unknown session or member is not live", func(t *testing.T) {
			r := fresh(false)
			r.SessionID = "no-such-session"
			if err := s.CheckAccessToken(ctx, r, now); !errors.Is(err, store.ErrTokenNotLive) {
				t.Errorf("unknown session: %v", err)
			}
			r = fresh(false)
			r.Subject = "no-such-member"
			if err := s.CheckAccessToken(ctx, r, now); !errors.Is(err, store.ErrTokenNotLive) {
				t.Errorf("unknown member: %v", err)
			}
		})

		t.Run("grant markers are purged after the longest token", func(t *testing.T) {
			r := fresh(false)
			if _, err := s.RevokeRefreshFamily(ctx, "fam-"+r.Subject, now); err != nil {
				t.Fatal(err)
			}
			if _, err := s.PurgeOIDC(ctx, now.Add(2*time.Hour)); err != nil {
				t.Fatal(err)
			}
			if err := s.CheckAccessToken(ctx, r, now); !errors.Is(err, store.ErrTokenNotLive) {
				t.Errorf("marker purged two hours after (tokens live at most one): %v", err)
			}
		})
	})
}
