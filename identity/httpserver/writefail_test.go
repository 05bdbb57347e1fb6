package httpserver_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/account/accounttest"
	"github.com/frontdeskhq/frontdesk/identity/httpserver"
	"github.com/frontdeskhq/frontdesk/identity/password"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
	"github.com/frontdeskhq/frontdesk/invites"
)

// serveStore serves frontdesk from st and returns the site.
func serveStore(t *testing.T, st *store.Store) *site {
	t.Helper()
	srv := newTestServer(t)
	env := accounttest.New(t, st, accounttest.Options{PublicURL: srv.URL})
	srv.serve(t, httpserver.Deps{Accounts: env.Service, Onboarding: env.Onboard, DB: env.Store, Registry: env.Registry})
	return &site{t: t, srv: srv.Server, env: env, client: newBrowser(t, srv.Server)}
}

// seedOwner creates the practice and gives its owner goodPassword.
func seedOwner(t *testing.T, st *store.Store) {
	t.Helper()
	seedOwnerWith(t, accounttest.New(t, st, accounttest.Options{}))
}

// seedOwnerWith creates the practice sunrise through env's service and
// gives its owner, olive@example.org, goodPassword (as of env's clock).
func seedOwnerWith(t *testing.T, env *accounttest.Env) {
	t.Helper()
	ctx := context.Background()
	created, err := env.Service.CreatePractice(ctx, account.NewPractice{Slug: "sunrise", Name: "Sunrise Therapy",
		OwnerEmail: "olive@example.org"}, account.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	hash, err := password.NewHasher(accounttest.FastParams, 1).Hash(ctx, goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Store.SetPassword(ctx, created.OwnerID, hash, env.Clock.Now(), true); err != nil {
		t.Fatal(err)
	}
}

func openSQLite(t *testing.T, dsn string, migrate bool) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), store.SQLite, dsn, store.Options{MaxOpenConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if migrate {
		if err := st.Migrate(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

// TestReadOnlyDatabaseAnswers503 is issue 21 point 3: while the database
// refuses writes, a page that must save answers 503 with Retry-After and a
// message saying frontdesk cannot save for now (not a bare 500), and /readyz
// is not ready so a load balancer stops sending traffic.
func TestReadOnlyDatabaseAnswers503(t *testing.T) {
	_, path := storetest.DSN(t, store.SQLite)
	seedOwner(t, openSQLite(t, path, true))
	// The same database, now read-only (every write is refused with
	// SQLITE_READONLY, as on a read-only file system).
	s := serveStore(t, openSQLite(t, path+"?_pragma=query_only(1)", false))

	if r := s.get("/readyz"); r.status != http.StatusOK {
		t.Fatalf("readyz before any write failed: %d %s", r.status, r.body)
	}
	r := s.post("/p/sunrise/login", url.Values{"email": {"olive@example.org"}, "password": {goodPassword}})
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" ||
		!strings.Contains(r.body, "temporarily unable to save") {
		t.Fatalf("login on a read-only database: %d Retry-After=%q\n%s", r.status, r.header.Get("Retry-After"), r.body)
	}
	if r := s.get("/readyz"); r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, "cannot save") {
		t.Errorf("readyz while writes fail: %d %q", r.status, r.body)
	}
	if r := s.get("/healthz"); r.status != http.StatusOK {
		t.Errorf("healthz while writes fail: %d", r.status)
	}
}

// TestFullDiskReadiness is issue 21 point 3: a full database makes /readyz
// not ready once a write failed, it stays not ready while the probe write
// fails, and it is ready again as soon as space is freed, without a restart.
func TestFullDiskReadiness(t *testing.T) {
	_, path := storetest.DSN(t, store.SQLite)
	openSQLite(t, path, true).Close()
	// max_page_count makes SQLite answer SQLITE_FULL exactly as on a full disk.
	st := openSQLite(t, path+"?_pragma=max_page_count(400)", false)
	s := serveStore(t, st)
	ctx := context.Background()
	for i := 0; ; i++ {
		if i > 10000 {
			t.Fatal("the database never filled up")
		}
		err := st.EnqueueMail(ctx, store.OutboxMail{ID: fmt.Sprint("fill", i), PracticeID: "p", Kind: "x", RefID: "r",
			CreatedAt: time.Now(), Message: invites.Message{To: "x@example.org", Text: strings.Repeat("x", 4000)}})
		if err != nil {
			if !store.IsWriteUnavailable(err) {
				t.Fatalf("fill: %v", err)
			}
			break
		}
	}
	for range 2 {
		if r := s.get("/readyz"); r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, "cannot save") {
			t.Fatalf("readyz with a full disk: %d %q", r.status, r.body)
		}
	}
	// The operator frees space.
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `DELETE FROM mail_outbox`); err != nil {
		t.Fatal(err)
	}
	if r := s.get("/readyz"); r.status != http.StatusOK {
		t.Errorf("readyz once space was freed: %d %q", r.status, r.body)
	}
}
