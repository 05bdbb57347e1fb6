// Package invites holds the mechanisms that bring mail to people: single-use
// link tokens (NewToken, HashToken: only the hash is stored), the mail
// transports (file, SMTP) and the outbox worker that delivers queued messages
// with retries. The features built on them — invitations, temporary
// passwords and password-reset links — live in identity/onboarding; setup
// links in identity/account.
//
// It sits below identity in the import graph: it knows nothing of practices or
// members beyond what a Message says.
package invites
