package invites

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	netmail "net/mail"
	"os"
	"path/filepath"
	"strings"
	"time"

	mail "github.com/wneessen/go-mail"
)

// Message is one outgoing email. Every message has a text part and an HTML part.
type Message struct {
	// ID is a unique, stable key for the message; it becomes the Message-ID so a
	// retried delivery can be recognised as the same message.
	ID      string
	To      string
	Subject string
	Text    string
	HTML    string
	// Links lists the links the message carries; the file transport logs them so
	// a developer on the embedded default can follow them without a mail server.
	Links []string
	// FromName, when set, replaces the display name of the configured sender
	// (the practice's name), keeping its address.
	FromName string
}

// Sender delivers messages.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// ErrHeaderInjection reports a header value containing a line break.
var ErrHeaderInjection = errors.New("invites: line break in a mail header")

// build composes m. Files are written with 8-bit transfer encoding so a person
// reading the .eml sees each link whole; SMTP uses quoted-printable, which
// every server accepts.
func build(from string, m Message, domain string, enc mail.Encoding) (*mail.Msg, error) {
	for _, v := range []string{m.To, m.Subject, m.ID, m.FromName} {
		if strings.ContainsAny(v, "\r\n") {
			return nil, ErrHeaderInjection
		}
	}
	msg := mail.NewMsg(mail.WithEncoding(enc))
	if err := setFrom(msg, from, m.FromName); err != nil {
		return nil, err
	}
	if err := msg.To(m.To); err != nil {
		return nil, fmt.Errorf("invites: to: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	if m.ID != "" {
		msg.SetMessageIDWithValue(m.ID + "@" + domain)
	} else {
		msg.SetMessageID()
	}
	msg.SetBodyString(mail.TypeTextPlain, m.Text)
	msg.AddAlternativeString(mail.TypeTextHTML, m.HTML)
	return msg, nil
}

// setFrom sets the sender: the configured address, under name when given.
func setFrom(msg *mail.Msg, from, name string) error {
	if name != "" {
		if a, err := netmail.ParseAddress(from); err == nil {
			if err := msg.FromFormat(name, a.Address); err != nil {
				return fmt.Errorf("invites: from: %w", err)
			}
			return nil
		}
	}
	if err := msg.From(from); err != nil {
		return fmt.Errorf("invites: from: %w", err)
	}
	return nil
}

// FileSender writes each message as an .eml file into a directory and logs its
// links: the embedded default's transport, for a machine without a mail server.
type FileSender struct {
	dir    string
	from   string
	logger *slog.Logger
	now    func() time.Time
}

// NewFileSender returns a FileSender writing into dir (created if missing) with
// the given From address.
func NewFileSender(dir, from string, logger *slog.Logger, now func() time.Time) (*FileSender, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("invites: mail directory: %w", err)
	}
	return &FileSender{dir: dir, from: from, logger: logger, now: now}, nil
}

// Send writes m to <dir>/<time>-<id>.eml.
func (f *FileSender) Send(ctx context.Context, m Message) error {
	msg, err := build(f.from, m, "frontdesk.local", mail.NoEncoding)
	if err != nil {
		return err
	}
	name := fmt.Sprintf("%s-%s.eml", f.now().UTC().Format("20060102T150405.000000000Z"), safeName(m.ID))
	path := filepath.Join(f.dir, name)
	// Readable by this user only: the message carries a live link.
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("invites: create %s: %w", path, err)
	}
	if _, err := msg.WriteTo(file); err != nil {
		_ = file.Close()
		return fmt.Errorf("invites: write %s: %w", path, err)
	}
	if err := file.Close(); err != nil {
		return fmt.Errorf("invites: write %s: %w", path, err)
	}
	f.logger.InfoContext(ctx, "mail written to file", "to", m.To, "subject", m.Subject, "file", path, "links", m.Links)
	return nil
}

func safeName(id string) string {
	var b strings.Builder
	for _, r := range id {
		if r < 128 && (r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "message"
	}
	return b.String()
}

// SMTPConfig says how to reach the SMTP server.
type SMTPConfig struct {
	Host     string
	Port     int
	TLS      string // "starttls", "tls" or "none"
	Username string
	Password string
	From     string
	// RootCAs, when set, replaces the system roots for verifying the
	// server's certificate (a private CA; tests).
	RootCAs *x509.CertPool
}

// SMTPSender delivers messages straight to an SMTP server, one connection per
// message.
type SMTPSender struct {
	cfg    SMTPConfig
	domain string
}

// NewSMTPSender returns a sender for cfg.
func NewSMTPSender(cfg SMTPConfig) *SMTPSender {
	return &SMTPSender{cfg: cfg, domain: cfg.Host}
}

// Send delivers m, honouring ctx.
func (s *SMTPSender) Send(ctx context.Context, m Message) error {
	msg, err := build(s.cfg.From, m, s.domain, mail.EncodingQP)
	if err != nil {
		return err
	}
	opts := []mail.Option{
		mail.WithPort(s.cfg.Port),
		mail.WithTimeout(30 * time.Second),
		mail.WithTLSConfig(&tls.Config{ServerName: s.cfg.Host, MinVersion: tls.VersionTLS12, RootCAs: s.cfg.RootCAs}),
	}
	switch s.cfg.TLS {
	case "tls":
		opts = append(opts, mail.WithSSL())
	case "none":
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	if s.cfg.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover),
			mail.WithUsername(s.cfg.Username), mail.WithPassword(s.cfg.Password))
	}
	client, err := mail.NewClient(s.cfg.Host, opts...)
	if err != nil {
		return fmt.Errorf("invites: smtp client: %w", err)
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("invites: smtp send to %s: %w", s.cfg.Host, err)
	}
	return nil
}
