package invites_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/invites"
	"github.com/frontdeskhq/frontdesk/invites/smtptest"
)

// TestSMTPSenderModes delivers to a real SMTP server: STARTTLS with
// authentication, and plain for a local relay. Authentication is never sent
// over an unencrypted connection, and a certificate that is not trusted
// stops delivery.
func TestSMTPSenderModes(t *testing.T) {
	secure := smtptest.Start(t, smtptest.Options{Username: "u", Password: "pw", STARTTLS: true})
	plain := smtptest.Start(t, smtptest.Options{})
	authPlain := smtptest.Start(t, smtptest.Options{Username: "u", Password: "pw"})
	msg := invites.Message{ID: "outbox-1", To: "b@example.org", Subject: "Hello", Text: "line one\n\nhttps://id.example.org/p/x/invite?token=" +
		strings.Repeat("A", 43) + "\n", HTML: "<p>hi</p>", FromName: "Sunrise Therapy"}
	tests := []struct {
		name    string
		srv     *smtptest.Server
		cfg     invites.SMTPConfig
		wantErr bool
	}{
		{"starttls with auth", secure, invites.SMTPConfig{TLS: "starttls", Username: "u", Password: "pw", RootCAs: secure.RootCAs()}, false},
		{"starttls, wrong password", secure, invites.SMTPConfig{TLS: "starttls", Username: "u", Password: "nope", RootCAs: secure.RootCAs()}, true},
		{"starttls, untrusted certificate", secure, invites.SMTPConfig{TLS: "starttls", Username: "u", Password: "pw"}, true},
		{"none, local relay", plain, invites.SMTPConfig{TLS: "none"}, false},
		{"none refuses to send credentials in the clear", authPlain, invites.SMTPConfig{TLS: "none", Username: "u", Password: "pw"}, true},
		{"starttls required but not offered", plain, invites.SMTPConfig{TLS: "starttls"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.Host, cfg.Port, cfg.From = tt.srv.Host(), tt.srv.Port(), "frontdesk <no-reply@example.org>"
			before := len(tt.srv.Messages())
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := invites.NewSMTPSender(cfg).Send(ctx, msg)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				if strings.Contains(err.Error(), "pw") && strings.Contains(err.Error(), cfg.Password) && cfg.Password != "" {
					t.Errorf("error carries the SMTP password: %v", err)
				}
				return
			}
			got := tt.srv.Messages()[before]
			if got.MessageID() != "outbox-1@127.0.0.1" || got.Subject() != "Hello" {
				t.Errorf("Message-ID %q, Subject %q", got.MessageID(), got.Subject())
			}
			if from := got.Header.Get("From"); !strings.Contains(from, "Sunrise Therapy") || !strings.Contains(from, "no-reply@example.org") {
				t.Errorf("From = %q", from)
			}
			text, err := got.Part("text/plain")
			if err != nil || !strings.Contains(text, "\nhttps://id.example.org/p/x/invite?token="+strings.Repeat("A", 43)+"\n") {
				t.Errorf("text part (link alone on its line):\n%s (%v)", text, err)
			}
		})
	}
}
