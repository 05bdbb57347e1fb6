package main

// The parts of TestReplicas that need mail and keys: an invitation sent
// through one replica and accepted through another, signing keys rotated
// once and used by all, and the shared outbox delivering each message once.

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/internal/benchclient"
	"github.com/frontdeskhq/frontdesk/internal/servetest"
	"github.com/frontdeskhq/frontdesk/internal/testwait"
	"github.com/frontdeskhq/frontdesk/invites/smtptest"
)

// replicaMailEnv is the configuration that makes every replica deliver
// through the SMTP sink, retrying quickly.
func replicaMailEnv(smtp *smtptest.Server) []string {
	return []string{"FRONTDESK_MAIL_TRANSPORT=smtp", "FRONTDESK_MAIL_SMTP_HOST=127.0.0.1",
		fmt.Sprintf("FRONTDESK_MAIL_SMTP_PORT=%d", smtp.Port()), "FRONTDESK_MAIL_SMTP_TLS=none",
		"FRONTDESK_MAIL_RETRY_BACKOFF=1s", "FRONTDESK_MAIL_RETRY_BACKOFF_MAX=2s", "FRONTDESK_MAIL_POLL_INTERVAL=200ms"}
}

// createdDemo reports whether p created the demo practice (whatever the
// mail transport).
func createdDemo(p *servetest.Process) bool {
	return p.Logged("created the demo practice; open the setup link to choose the owner's password") != nil ||
		p.Logged("created the demo practice; the setup link was emailed to the owner") != nil
}

// setUpOwnerByMail follows the setup link mailed to the demo owner, chooses
// the password and logs out.
func setUpOwnerByMail(t *testing.T, smtp *smtptest.Server, base string) {
	t.Helper()
	link := lineWithPrefix(t, mailText(t, smtp, "owner@demo.example", 1), base+"/p/demo/setup?token=")
	b := newBrowser(t, base)
	status, page := b.get(link)
	if status != http.StatusOK {
		t.Fatalf("setup page: %d", status)
	}
	status, page = b.submit(page, "/p/demo/setup", url.Values{"new_password": {ownerPassword}, "confirm_password": {ownerPassword}})
	if status != http.StatusOK || !strings.Contains(page, "You have been signed in") {
		t.Fatalf("after setup: %d\n%s", status, page)
	}
	if status, _ = b.submit(page, "/p/demo/logout", nil); status != http.StatusOK {
		t.Fatalf("logout: %d", status)
	}
}

// rotateKeysEarly runs `frontdesk keys rotate` and returns the new ES256
// key's ID. A rotated key signs only after a 10-minute publish-ahead; the
// test moves its activation time to now, as if those minutes had passed, so
// that every replica both publishes it and signs with it at its next key
// refresh (within 30 s). TestReplicas rotates first and checks last, so the
// refresh happens while the rest of it runs.
func rotateKeysEarly(t *testing.T, bin, dir string, env []string, cfgFile, dsn string) string {
	t.Helper()
	code, out := servetest.RunCLI(t, bin, dir, env, "keys", "rotate", "--json", "--config", cfgFile)
	if code != 0 {
		t.Fatalf("keys rotate: %d\n%s", code, out)
	}
	var keys []rotatedKey
	if err := json.Unmarshal([]byte(out[strings.Index(out, "["):]), &keys); err != nil {
		t.Fatalf("keys rotate --json: %v\n%s", err, out)
	}
	kid := ""
	for _, k := range keys {
		if k.Alg == "ES256" {
			kid = k.KeyID
			if time.Until(k.ActiveFrom) < 5*time.Minute {
				t.Errorf("the new key signs from %s: not published ahead", k.ActiveFrom)
			}
		}
	}
	if kid == "" {
		t.Fatalf("keys rotate made no ES256 key:\n%s", out)
	}
	db := openDB(t, dsn)
	if _, err := db.ExecContext(context.Background(), `UPDATE oidc_signing_keys SET active_from = $1 WHERE id = $2`,
		time.Now().UnixMicro(), kid); err != nil {
		t.Fatal(err)
	}
	return kid
}

// publishedKeyID is the ID of the (only) key of alg backend publishes.
func publishedKeyID(t *testing.T, backend *url.URL, alg string) string {
	t.Helper()
	st, body := plainGet(t, backend.String()+"/oauth2/keys")
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
			Alg string `json:"alg"`
		} `json:"keys"`
	}
	if err := json.Unmarshal([]byte(body), &set); st != http.StatusOK || err != nil {
		t.Fatalf("JWKS: %d %v", st, err)
	}
	kid := ""
	for _, k := range set.Keys {
		if k.Alg == alg {
			if kid != "" {
				t.Fatalf("two %s keys published before any rotation: %s", alg, body)
			}
			kid = k.Kid
		}
	}
	if kid == "" {
		t.Fatalf("no %s key published: %s", alg, body)
	}
	return kid
}

func openDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// lastHit is the replica that served the latest request to path.
func (rr *roundRobin) lastHit(path string) int {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	h := rr.hits[path]
	if len(h) == 0 {
		return -1
	}
	return h[len(h)-1]
}

// replicaInvitation: the signed-in owner invites through one replica; the
// invitee, reading the real mail, accepts through another and is signed in.
func replicaInvitation(t *testing.T, rr *roundRobin, smtp *smtptest.Server, base string, owner *browser) {
	t.Helper()
	_, page := owner.get("/p/demo/admin/invite")
	if status, _ := owner.submit(page, "/p/demo/admin/invite", url.Values{"email": {"rita@example.org"}, "role": {"practitioner"}}); status != http.StatusOK {
		t.Fatalf("invite through the console: %d", status)
	}
	sentVia := rr.lastHit("/p/demo/admin/invite")
	link := lineWithPrefix(t, mailText(t, smtp, "rita@example.org", 1), base+"/p/demo/invite?token=")
	rita := newBrowser(t, base)
	status, page := rita.get(link)
	if status != http.StatusOK || !strings.Contains(page, "rita@example.org") {
		t.Fatalf("invitation page: %d", status)
	}
	const ritaPassword = "copper meadow lantern ninety"
	// Round-robin would bring the form post back to the replica that sent
	// the invitation; one page load moves it on.
	for int(rr.next.Load())%len(rr.backends) == sentVia {
		if st, _ := rita.get("/healthz"); st != http.StatusOK {
			t.Fatalf("/healthz: %d", st)
		}
	}
	status, page = rita.submit(page, "/p/demo/invite", url.Values{"new_password": {ritaPassword}, "confirm_password": {ritaPassword}})
	if status == http.StatusOK && strings.Contains(page, "/add-passkey/continue") {
		// A passkey is offered first; "Not now" continues without one.
		status, page = rita.submit(page, "/p/demo/add-passkey/continue", nil)
	}
	if status != http.StatusOK || !strings.Contains(page, "You have been signed in") || !strings.Contains(page, "rita@example.org") {
		t.Fatalf("accepting the invitation: %d\n%s", status, page)
	}
	if acceptedVia := rr.lastHit("/p/demo/invite"); acceptedVia == sentVia {
		t.Errorf("invitation sent and accepted on the same replica %d", sentVia)
	}
	// Her account works on every replica.
	for i := range 3 {
		if status, home := rita.get("/p/demo/"); status != http.StatusOK || !strings.Contains(home, "rita@example.org") {
			t.Errorf("rita's session, round %d: %d", i, status)
		}
	}
}

// replicaOutboxOnce queues a burst of invitations through all replicas while
// the SMTP server is down, then brings it back: the three outbox workers race
// for the backlog, and every message is delivered exactly once.
func replicaOutboxOnce(t *testing.T, smtp *smtptest.Server, owner *browser, dsn string, backends []*url.URL) {
	t.Helper()
	const burst = 9
	smtp.Stop()
	for i := range burst {
		_, page := owner.get("/p/demo/admin/invite")
		if status, _ := owner.submit(page, "/p/demo/admin/invite", url.Values{"email": {fmt.Sprintf("burst%d@example.org", i)},
			"role": {"practitioner"}}); status != http.StatusOK {
			t.Fatalf("invitation %d: %d", i, status)
		}
	}
	smtp.Restart()
	db := openDB(t, dsn)
	count := func(q string) int {
		var n int
		if err := db.QueryRowContext(context.Background(), q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	testwait.For(t, 30*time.Second, "the outbox to drain", func() bool {
		return count(`SELECT count(*) FROM mail_outbox WHERE status <> 'sent'`) == 0
	})
	for i := range burst {
		if n := len(smtp.To(fmt.Sprintf("burst%d@example.org", i))); n != 1 {
			t.Errorf("burst%d@example.org received %d messages, want 1", i, n)
		}
	}
	seen := map[string]int{}
	for _, m := range smtp.Messages() {
		seen[m.MessageID()]++
	}
	for id, n := range seen {
		if n > 1 {
			t.Errorf("Message-ID %s delivered %d times", id, n)
		}
	}
	sentRows := count(`SELECT count(*) FROM mail_outbox WHERE status = 'sent'`)
	var total float64
	var per []float64
	for _, b := range backends {
		v := metric(t, b, "frontdesk_mail_sent_total")
		per = append(per, v)
		total += v
	}
	if int(total) != sentRows {
		t.Errorf("replicas report %v messages sent (%v in all), the outbox has %d sent rows", per, total, sentRows)
	}
	t.Logf("outbox: %d messages sent once each; per replica %v", sentRows, per)
}

// replicaKeysEverywhere: every replica publishes the rotated-in key, signs
// with it, and accepts tokens signed by every other replica; the key it
// replaced stays published on every replica, so tokens it signed still
// verify. fresh is a token set from a login after the rotation.
func replicaKeysEverywhere(t *testing.T, kid, oldKid, host string, backends []*url.URL, fresh benchclient.Tokens) {
	t.Helper()
	for i, b := range backends {
		testwait.For(t, 45*time.Second, fmt.Sprintf("replica %d to publish key %s", i, kid), func() bool {
			st, body := plainGet(t, b.String()+"/oauth2/keys")
			return st == http.StatusOK && strings.Contains(body, `"`+kid+`"`)
		})
		if _, body := plainGet(t, b.String()+"/oauth2/keys"); !strings.Contains(body, `"`+oldKid+`"`) {
			t.Errorf("replica %d no longer publishes the replaced key %s", i, oldKid)
		}
	}
	t.Logf("every replica publishes %s", kid)
	refresh := fresh.RefreshToken
	for i, b := range backends {
		w := appWorker(b.String())
		var tok benchclient.Tokens
		testwait.For(t, 45*time.Second, fmt.Sprintf("replica %d to sign with key %s", i, kid), func() bool {
			st, next, err := w.Token(context.Background(), url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}})
			if err != nil {
				t.Fatalf("refresh on replica %d: %d %v", i, st, err)
			}
			refresh, tok = next.RefreshToken, next
			return jwtKeyID(t, next.AccessToken) == kid
		})
		for j, v := range backends {
			if st, body := userinfo(t, v, host, tok.AccessToken); st != http.StatusOK || !strings.Contains(body, "owner@demo.example") {
				t.Errorf("token signed by replica %d with the new key, on replica %d: %d %s", i, j, st, body)
			}
		}
	}
}
