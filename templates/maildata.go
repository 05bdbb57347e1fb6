package templates

// MailData is the typed value one mail template renders: each mail under
// mail/ has its own struct here, and Mails.Render finds the template by the
// value's type. Only this package's types implement it, so a mail is always
// rendered with the fields its template uses (a misspelt field is a compile
// error at the call site, and an execution error in the template, which
// TestEveryMailRenders catches).
type MailData interface {
	// MailName is the mail's template: mail/NAME.txt.tmpl and
	// mail/NAME.html.tmpl.
	MailName() string
	// Practice is the practice name the mail carries (its PracticeName).
	Practice() string
	// ForAdministrator reports whether the mail goes to someone who
	// administers the practice (the first owner's setup link, an invitation
	// accepted, an account locked, emergency access granted): its footer
	// then does not tell them to ask their practice administrator.
	ForAdministrator() bool
	mailData()
}

// Every string and list field of a mail's data must be filled unless it is
// tagged `mail:"optional"` (Mails.Render refuses the mail otherwise), so a
// caller that forgets a value gets an error, never a mail with a hole in
// it; the templates word every optional field's absence.
//
// Every mail greets its recipient by name (RecipientName; "" greets with
// "Hello," alone), names who acted by name and role ("Dana Reyes (Practice
// Administrator)"; "" when the operator or frontdesk itself acted), and
// gives times already formatted in the practice's time zone.

// SetupMail is the setup link sent to a new practice's owner.
type SetupMail struct {
	PracticeName  string
	RecipientName string `mail:"optional"`
	Link          string // the setup link
	Expires       string // when the link expires, formatted for people
	LoginURL      string // the practice's permanent login address
}

// InvitationMail invites an email address to join a practice.
type InvitationMail struct {
	PracticeName  string
	RecipientName string   `mail:"optional"` // the invitee's name when the inviter gave one
	InviterName   string   `mail:"optional"` // "Dana Reyes (Practice Administrator)"; empty: the operator invited
	RoleNames     []string `mail:"optional"` // the roles' display names
	Link          string   // the invitation link
	Expires       string
	LoginURL      string // the practice's permanent login address, to bookmark (seed 002)
	// Updated is true when this invitation updates a pending one to the same
	// address: the mail says the earlier link no longer works.
	Updated bool
}

// AcceptedMail tells an inviter that their invitation was accepted.
type AcceptedMail struct {
	PracticeName  string
	RecipientName string `mail:"optional"` // the inviter
	MemberName    string // who accepted; their email when they have no name
	MemberEmail   string
	AcceptedAt    string
	MemberURL     string // the member's page in the console
}

// TemporaryPasswordMail carries a temporary password to a member. With
// NewAccess it is how a practice that onboards by temporary password (seed
// 004, Manager Module) gives a new member access: it then names their
// roles.
type TemporaryPasswordMail struct {
	PracticeName  string
	RecipientName string `mail:"optional"`
	ActorName     string `mail:"optional"` // who issued it, "Dana Reyes (Practice Administrator)"; "" for the operator
	Email         string // the member's address
	Password      string // the temporary password itself
	LoginURL      string
	Expires       string
	NewAccess     bool
	RoleNames     []string `mail:"optional"` // with NewAccess: the roles' display names
}

// ResetMail carries a password-reset link.
type ResetMail struct {
	PracticeName  string
	RecipientName string `mail:"optional"`
	Link          string // the reset link
	Expires       string
	RequestedAt   string
}

// LockoutMail tells a locked member, or (ToAdmin) a member who may unlock,
// that an account was locked after failed password attempts.
type LockoutMail struct {
	PracticeName  string
	RecipientName string `mail:"optional"`
	MemberName    string // the locked member; their email when they have no name
	MemberEmail   string // the locked account
	Attempts      int
	LockedAt      string
	Addresses     []string `mail:"optional"` // client addresses of the failed attempts; shown to administrators only
	LoginURL      string
	UnlockURL     string `mail:"optional"` // ToAdmin: the console page that unlocks this member
	ToAdmin       bool
}

// UnlockMail tells a member that their account was unlocked.
type UnlockMail struct {
	PracticeName  string
	RecipientName string `mail:"optional"`
	MemberEmail   string
	ActorName     string `mail:"optional"` // who unlocked it, "Dana Reyes (Practice Administrator)"; "" for the operator
	UnlockedAt    string
	LoginURL      string
}

// ElevationMail tells the audit trail's readers that emergency access was
// granted.
type ElevationMail struct {
	PracticeName  string
	RecipientName string `mail:"optional"`
	Member        string // who received it
	GrantedBy     string
	GrantedAt     string
	ExpiresAt     string
	Reason        string
	Permissions   []string
}

// MailName implements MailData.
func (SetupMail) MailName() string { return "setup" }

// MailName implements MailData.
func (InvitationMail) MailName() string { return "invitation" }

// MailName implements MailData.
func (AcceptedMail) MailName() string { return "accepted" }

// MailName implements MailData.
func (TemporaryPasswordMail) MailName() string { return "temporary_password" }

// MailName implements MailData.
func (ResetMail) MailName() string { return "reset" }

// MailName implements MailData.
func (LockoutMail) MailName() string { return "lockout" }

// MailName implements MailData.
func (UnlockMail) MailName() string { return "unlock" }

// MailName implements MailData.
func (ElevationMail) MailName() string { return "elevation" }

// Practice implements MailData.
func (d SetupMail) Practice() string { return d.PracticeName }

// Practice implements MailData.
func (d InvitationMail) Practice() string { return d.PracticeName }

// Practice implements MailData.
func (d AcceptedMail) Practice() string { return d.PracticeName }

// Practice implements MailData.
func (d TemporaryPasswordMail) Practice() string { return d.PracticeName }

// Practice implements MailData.
func (d ResetMail) Practice() string { return d.PracticeName }

// Practice implements MailData.
func (d LockoutMail) Practice() string { return d.PracticeName }

// Practice implements MailData.
func (d UnlockMail) Practice() string { return d.PracticeName }

// Practice implements MailData.
func (d ElevationMail) Practice() string { return d.PracticeName }

// ForAdministrator implements MailData: a new practice's owner.
func (SetupMail) ForAdministrator() bool { return true }

// ForAdministrator implements MailData: the invitee.
func (InvitationMail) ForAdministrator() bool { return false }

// ForAdministrator implements MailData: the inviter.
func (AcceptedMail) ForAdministrator() bool { return true }

// ForAdministrator implements MailData: the member.
func (TemporaryPasswordMail) ForAdministrator() bool { return false }

// ForAdministrator implements MailData: the member.
func (ResetMail) ForAdministrator() bool { return false }

// ForAdministrator implements MailData: the members who may unlock, or the
// locked member.
func (d LockoutMail) ForAdministrator() bool { return d.ToAdmin }

// ForAdministrator implements MailData: the member.
func (UnlockMail) ForAdministrator() bool { return false }

// ForAdministrator implements MailData: the members told of emergency
// access (its grantors and auditors).
func (ElevationMail) ForAdministrator() bool { return true }

func (SetupMail) mailData()             {}
func (InvitationMail) mailData()        {}
func (AcceptedMail) mailData()          {}
func (TemporaryPasswordMail) mailData() {}
func (ResetMail) mailData()             {}
func (LockoutMail) mailData()           {}
func (UnlockMail) mailData()            {}
func (ElevationMail) mailData()         {}
