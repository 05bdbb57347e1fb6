package config

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func secretConfig() *Config {
	c := Default()
	c.Mail.SMTPUsername = "mailer"
	c.Mail.SMTPPassword = "smtp-hunter2"
	c.Database.URL = "postgres://fd:db-hunter2@db/fd?sslmode=require&password=q-hunter2"
	c.Redis.URL = "rediss://:redis-hunter2@cache:6380/0"
	c.Clients = []Client{{ID: "app", Secret: "client-hunter2", RedirectURIs: []string{"https://app.example/cb"}}}
	return c
}

func TestRedaction(t *testing.T) {
	c := secretConfig()
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "config", c)
	var text bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("config", "config", *c)

	outputs := map[string]string{
		"String":     c.String(),
		"%v pointer": fmt.Sprintf("%v", c),
		"%+v value":  fmt.Sprintf("%+v", *c),
		"%#v":        fmt.Sprintf("%#v", c),
		//lint:ignore S1025 the test checks what %s formatting prints
		"%s":           fmt.Sprintf("%s", *c),
		"slog json":    logged.String(),
		"slog text":    text.String(),
		"LogValue any": fmt.Sprint(c.LogValue().Resolve().Any()),
	}
	for name, out := range outputs {
		if strings.Contains(out, "hunter2") {
			t.Errorf("%s leaks a secret:\n%s", name, out)
		}
		for _, want := range []string{Redacted, "mailer", "app", "db"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s lacks %q:\n%s", name, want, out)
			}
		}
	}
	// The original is untouched.
	if c.Mail.SMTPPassword != "smtp-hunter2" || c.Clients[0].Secret != "client-hunter2" ||
		!strings.Contains(c.Database.URL, "db-hunter2") {
		t.Errorf("redaction modified the original: %+v", c.redacted())
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"sqlite:/x.db", "sqlite:/x.db"},
		{"postgres://db/fd", "postgres://db/fd"},
		{"postgres://fd:secret@db/fd", "postgres://fd:" + "%5BREDACTED%5D" + "@db/fd"},
		{"postgres://fd@db/fd?password=secret", "postgres://fd@db/fd?password=%5BREDACTED%5D"},
		{"redis://:secret@h:1", "redis://:%5BREDACTED%5D@h:1"},
		{"postgres://u:secret@h:port x/", Redacted},
	}
	for _, tc := range tests {
		if got := redactURL(tc.in); got != tc.want {
			t.Errorf("redactURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestErrorsDoNotLeakSecrets(t *testing.T) {
	env := []string{
		"FRONTDESK_MAIL_SMTP_PASSWORD=smtp-hunter2",
		"FRONTDESK_DATABASE_URL=mysql://fd:db-hunter2@db/fd",
		"FRONTDESK_REDIS_URL=http://:redis-hunter2@cache",
		"FRONTDESK_SERVER_MAX_BODY_BYTES=1",
	}
	path := writeConfig(t, "clients:\n  - id: a\n    secret: client-hunter2\n  - id: a\n    secret: client-hunter2\n")
	_, err := Load(path, env)
	if err == nil {
		t.Fatal("want error")
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error leaks a secret: %v", err)
	}
}
