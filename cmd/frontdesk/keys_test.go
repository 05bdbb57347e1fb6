package main

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/internal/servetest"
)

func TestKeysRotate(t *testing.T) {
	env := servetest.CleanEnv("FRONTDESK_DATA_DIR="+t.TempDir(), "FRONTDESK_BOOTSTRAP_DEMO=false")
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"keys", "rotate", "--json"}, &out, &errb, env); code != 0 {
		t.Fatalf("keys rotate = %d: %s", code, errb.String())
	}
	var keys []rotatedKey
	if err := json.Unmarshal(out.Bytes(), &keys); err != nil || len(keys) != 2 {
		t.Fatalf("output %q: %v", out.String(), err)
	}
	for _, k := range keys {
		if k.KeyID == "" || !k.ActiveFrom.After(time.Now()) {
			t.Errorf("rotated key %+v must be published before it signs", k)
		}
	}
	out.Reset()
	if code := run(context.Background(), []string{"keys", "rotate", "--alg", "HS256"}, &out, &errb, env); code != exitUsage {
		t.Errorf("--alg HS256 = %d, want %d", code, exitUsage)
	}
}
