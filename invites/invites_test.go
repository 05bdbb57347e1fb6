package invites_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/invites"
)

func TestTokens(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		tok, hash, err := invites.NewToken(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if len(tok) != 43 || seen[tok] {
			t.Fatalf("token %q: wrong length or repeated", tok)
		}
		seen[tok] = true
		if !bytes.Equal(hash, invites.HashToken(tok)) || bytes.Contains(hash, []byte(tok)) {
			t.Fatal("hash does not match the token")
		}
	}
	if _, _, err := invites.NewToken(bytes.NewReader(nil)); err == nil {
		t.Error("NewToken succeeded without randomness")
	}
	// Overlong input hashes to one value no issued token has, without work
	// proportional to its length.
	long := strings.Repeat("A", 1000)
	if !bytes.Equal(invites.HashToken(long), invites.HashToken(long[:999])) {
		t.Error("overlong tokens are not neutralised")
	}
}

func TestFileSender(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mail")
	var logs bytes.Buffer
	now := func() time.Time { return time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC) }
	s, err := invites.NewFileSender(dir, "frontdesk <no-reply@localhost>", slog.New(slog.NewJSONHandler(&logs, nil)), now)
	if err != nil {
		t.Fatal(err)
	}
	link := "http://localhost:8080/p/demo/setup?token=abc_DEF-123"
	err = s.Send(context.Background(), invites.Message{ID: "setup-1", To: "olive@example.org", Subject: "Set up",
		Text: "Hello\n\n" + link + "\n", HTML: "<p>Hello</p>", Links: []string{link}})
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	if len(files) != 1 {
		t.Fatalf("files: %v", files)
	}
	if fi, err := os.Stat(files[0]); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf(".eml mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	raw, _ := os.ReadFile(files[0])
	text := strings.ReplaceAll(string(raw), "\r\n", "\n")
	for _, want := range []string{"To: <olive@example.org>", "Subject: Set up", "text/plain", "text/html", "\n" + link + "\n", "Message-ID: <setup-1@"} {
		if !strings.Contains(text, want) {
			t.Errorf(".eml lacks %q:\n%s", want, text)
		}
	}
	if !strings.Contains(logs.String(), link) {
		t.Error("link not logged")
	}

	tests := []invites.Message{
		{ID: "x", To: "olive@example.org\r\nBcc: eve@example.org", Subject: "s"},
		{ID: "x", To: "olive@example.org", Subject: "s\nBcc: eve@example.org"},
	}
	for _, m := range tests {
		if err := s.Send(context.Background(), m); !errors.Is(err, invites.ErrHeaderInjection) {
			t.Errorf("header injection %q: %v", m.To+m.Subject, err)
		}
	}
}

func TestSMTPSenderFailsCleanly(t *testing.T) {
	// Nothing listens on port 1: the error is returned, not swallowed.
	s := invites.NewSMTPSender(invites.SMTPConfig{Host: "127.0.0.1", Port: 1, TLS: "none", From: "a@example.org"})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.Send(ctx, invites.Message{ID: "m", To: "b@example.org", Subject: "s", Text: "t", HTML: "h"})
	if err == nil {
		t.Fatal("send to a closed port succeeded")
	}
}
