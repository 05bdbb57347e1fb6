package passkeystest

import (
	"crypto/rand"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/passkeys"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// The relying party NewService serves: the software authenticator reports
// it whatever the test server's address is.
const (
	RPID   = "id.example.org"
	Origin = "https://id.example.org"
)

// NewService is a passkeys.Service for tests on st, signing in through
// accounts, with the clock now, random ids and the relying party
// RPID/Origin. edit may change the dependencies (Permissions, Ceremonies)
// and the configuration before the service is built.
func NewService(t testing.TB, st *store.Store, accounts *account.Service, now func() time.Time,
	edit ...func(*passkeys.Deps, *passkeys.Config)) *passkeys.Service {
	t.Helper()
	deps := passkeys.Deps{Store: st, Accounts: accounts, Logger: slog.New(slog.DiscardHandler), Now: now,
		NewID: uuid.NewString, Random: rand.Reader}
	cfg := passkeys.Config{RPID: RPID, RPName: "frontdesk", Origins: []string{Origin}}
	for _, e := range edit {
		e(&deps, &cfg)
	}
	svc, err := passkeys.New(deps, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}
