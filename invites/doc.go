// Package invites issues the single-use links and messages that bring people
// into a practice — setup links today; invitations, temporary passwords and
// password-reset links as they arrive — and delivers the mail that carries them.
//
// It sits below identity in the import graph: it knows nothing of practices or
// members beyond what a Message says.
package invites
