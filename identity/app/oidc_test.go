package app

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/frontdeskhq/frontdesk/identity/config"
	"github.com/frontdeskhq/frontdesk/identity/oidc"
)

func TestMasterKey(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir := t.TempDir()
	cfg := config.Default()
	cfg.Data.Dir = dir

	// Embedded default: generated once, mode 0600, then reused.
	k1, err := masterKey(cfg, logger)
	if err != nil || len(k1) != 32 {
		t.Fatalf("generate: %d bytes, %v", len(k1), err)
	}
	fi, err := os.Stat(filepath.Join(dir, MasterKeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("master.key: %v, mode %v", err, fi.Mode())
	}
	k2, err := masterKey(cfg, logger)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("second start read another key (%v)", err)
	}

	// Configured key wins; a malformed one is refused.
	cfg.OIDC.MasterKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	if k, err := masterKey(cfg, logger); err != nil || string(k) != "0123456789abcdef0123456789abcdef" {
		t.Fatalf("configured key: %q, %v", k, err)
	}
	cfg.OIDC.MasterKey = "c2hvcnQ="
	if _, err := masterKey(cfg, logger); err == nil {
		t.Error("a 5-byte master key was accepted")
	}

	// PostgreSQL without a key stops start-up, naming the key.
	cfg.OIDC.MasterKey = ""
	cfg.Database.URL = "postgres://localhost/x"
	if _, err := masterKey(cfg, logger); err == nil || !strings.Contains(err.Error(), "oidc.master_key") ||
		!strings.Contains(err.Error(), "FRONTDESK_OIDC_MASTER_KEY") {
		t.Errorf("postgres without key: %v", err)
	}
}

// TestClientConfigsMapsPKCEAndAlgorithms: require_pkce and the two
// algorithm keys reach the provider's client configuration.
func TestClientConfigsMapsPKCEAndAlgorithms(t *testing.T) {
	no, yes := false, true
	got := ClientConfigs([]config.Client{
		{ID: "unset"},
		{ID: "exempt", Secret: "s", RequirePKCE: &no, IDTokenSignedResponseAlg: "ES256", AccessTokenSigningAlg: "RS256"},
		{ID: "required", RequirePKCE: &yes, SigningAlg: "RS256"},
	})
	want := []oidc.ClientConfig{
		{ID: "unset"},
		{ID: "exempt", Secret: "s", PKCEOptional: true, IDTokenAlg: "ES256", AccessTokenAlg: "RS256"},
		{ID: "required", SigningAlg: "RS256"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ClientConfigs = %+v, want %+v", got, want)
	}
}
