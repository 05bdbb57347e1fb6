package config

import (
	"os"
	"path/filepath"
	"testing"
)

func TestValidateTLSFiles(t *testing.T) {
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	for _, f := range []string{cert, key} {
		if err := os.WriteFile(f, []byte("pem"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name      string
		cert, key string
		want      []string // nil: valid
	}{
		{"neither", "", "", nil},
		{"both", cert, key, nil},
		{"cert only", cert, "", []string{"server.tls_key_file", "set both"}},
		{"key only", "", key, []string{"server.tls_cert_file", "set both"}},
		{"cert missing", filepath.Join(dir, "nope.pem"), key, []string{"server.tls_cert_file", "cannot read"}},
		{"key is a directory", cert, dir, []string{"server.tls_key_file", "not a regular file"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			c.Server.TLSCertFile, c.Server.TLSKeyFile = tc.cert, tc.key
			err := c.Validate()
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				if got := c.Server.TLSEnabled(); got != (tc.cert != "") {
					t.Errorf("TLSEnabled = %v", got)
				}
				return
			}
			wantErrContaining(t, err, tc.want...)
		})
	}
}
