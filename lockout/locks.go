package lockout

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/frontdeskhq/frontdesk/identity/problem"
	"github.com/frontdeskhq/frontdesk/invites"
	"github.com/frontdeskhq/frontdesk/templates"
)

// This file is the durable half of the lockout feature: the lock written when
// an account's failures reach the threshold (status, lock record and audit
// event in one transaction, then notices to the member and to those who may
// unlock), the unlock with its permission check, and which login methods a
// lock blocks. The counting half is lockout.go; the storage is LockStore,
// which identity/store implements.

// Errors of Unlock and UnlockMember, as problems each surface maps by kind.
var (
	// ErrMemberNotFound: the practice has no member with that email or ID.
	ErrMemberNotFound = problem.New(problem.NotFound, "not_found", "lockout: no such member in this practice",
		"There is no such member in this practice.")
	// ErrForbidden: the acting member may not unlock accounts.
	ErrForbidden = problem.New(problem.Forbidden, "forbidden", "lockout: not allowed to unlock", "not allowed")
)

// Practice is what the lock feature needs of a practice.
type Practice struct {
	ID   string
	Slug string
	Name string
	// Settings are the practice's settings; the object under "lockout"
	// overrides the default policy (Policy.WithSettings).
	Settings map[string]any
	// TimeZone is the practice's IANA time zone, for the times in the
	// notices; "" means UTC.
	TimeZone string
}

// Member is what the lock feature needs of a member.
type Member struct {
	ID    string
	Email string
	// AccountKey is the email's counter key (store.EmailKey).
	AccountKey string
	// Active: the member may log in; Locked: the member is locked. A member
	// invited or deactivated is neither.
	Active bool
	Locked bool
	// Name is the member's name for the notices (display or legal name);
	// "" when the practice has none.
	Name string
}

// Lock is the durable record of one lock.
type Lock struct {
	ID         string
	PracticeID string
	MemberID   string
	LockedAt   time.Time
	Attempts   int
	Addresses  []string
}

// AuditEvent is an audit event the lock feature records; LockStore appends it
// to the practice's audit trail.
type AuditEvent struct {
	PracticeID string
	At         time.Time
	Action     string
	Outcome    string
	ActorID    string
	SubjectID  string
	ClientAddr string
	UserAgent  string
	RequestID  string
	Details    map[string]string
}

// LockStore is the durable storage of locks; *store.Store implements it. Each
// of Lock and Unlock is one transaction that includes its audit event.
type LockStore interface {
	// LockoutMember returns the practice's member with that ID, or when id
	// is empty with that email; found is false when there is none.
	LockoutMember(ctx context.Context, practiceID, id, email string) (m Member, found bool, err error)
	// RecentFailureAddrs returns up to limit distinct client addresses of the
	// member's failed logins since their last successful login or unlock.
	RecentFailureAddrs(ctx context.Context, practiceID, memberID string, limit int) ([]string, error)
	// LockAndAudit locks an active member: the status becomes locked, l is
	// recorded and e appended, in one transaction. It reports false (and
	// records nothing) when the member was not active.
	LockAndAudit(ctx context.Context, l Lock, e AuditEvent) (bool, error)
	// UnlockAndAudit lifts the member's lock (a locked member becomes active,
	// the open lock record is closed with at and by) and appends the event
	// audit returns for whether the member was locked, in one transaction.
	UnlockAndAudit(ctx context.Context, practiceID, memberID, by string, at time.Time,
		audit func(wasLocked bool) AuditEvent) (bool, error)
	// AppendLockoutAudit appends e on its own (a refused unlock).
	AppendLockoutAudit(ctx context.Context, e AuditEvent) error
}

// Permissions answers who may unlock; identity/account answers it from the
// role model's unlock permission.
type Permissions interface {
	// MayUnlock reports whether the member's permissions include unlocking.
	MayUnlock(ctx context.Context, practiceID, memberID string) (bool, error)
	// Unlockers lists the IDs of the practice's members who may unlock.
	Unlockers(ctx context.Context, practiceID string) ([]string, error)
}

// OperatorActorID is the actor recorded for an unlock by the operator CLI.
const OperatorActorID = "operator"

// Actor is who unlocks: a member of the practice, or the operator.
type Actor struct {
	MemberID string
	Operator bool
}

func (a Actor) id() string {
	if a.Operator {
		return OperatorActorID
	}
	return a.MemberID
}

// Meta describes where a request came from, for the audit trail.
type Meta struct {
	ClientAddr string
	UserAgent  string
	RequestID  string
}

// LockDeps are what Locks needs.
type LockDeps struct {
	Store LockStore
	// Guard is the counter an unlock clears; nil means Nop.
	Guard Guard
	// Permissions says who may unlock; required.
	Permissions Permissions
	Mail        invites.Sender
	Mails       *templates.Mails
	Logger      *slog.Logger
	// Registry, when set, gets the lock and unlock counters.
	Registry prometheus.Registerer
	Now      func() time.Time
	NewID    func() string
	// Describe names a member who acted by name and role ("Dana Reyes
	// (Practice Administrator)") for the unlock notice; nil, or "", words
	// the notice without a name.
	Describe func(ctx context.Context, practiceID, memberID string) string
}

// LockSettings are Locks' tunables.
type LockSettings struct {
	// PublicURL is the externally visible base URL of the login links in
	// the notices.
	PublicURL string
	// Default is the lockout policy a practice's settings override; the
	// zero value means DefaultPolicy().
	Default Policy
}

// Locks is the durable lockout: locking, unlocking and the notices. It is
// safe for concurrent use.
type Locks struct {
	d       LockDeps
	set     LockSettings
	locks   prometheus.Counter
	unlocks prometheus.Counter
}

// NewLocks returns Locks.
func NewLocks(d LockDeps, set LockSettings) (*Locks, error) {
	if d.Guard == nil {
		d.Guard = Nop{}
	}
	if d.Permissions == nil {
		return nil, errors.New("lockout: locks need a permission model")
	}
	if set.Default == (Policy{}) {
		set.Default = DefaultPolicy()
	}
	set.PublicURL = strings.TrimRight(set.PublicURL, "/")
	l := &Locks{d: d, set: set,
		locks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "frontdesk_lockouts_total",
			Help: "Accounts locked after too many failed attempts.",
		}),
		unlocks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "frontdesk_unlocks_total",
			Help: "Locked accounts unlocked by an administrator or the operator.",
		}),
	}
	if d.Registry != nil {
		for _, c := range []prometheus.Collector{l.locks, l.unlocks} {
			if err := d.Registry.Register(c); err != nil {
				return nil, fmt.Errorf("lockout: metrics: %w", err)
			}
		}
	}
	return l, nil
}

// Policy returns the practice's lockout policy: the configured default
// overridden by the practice's settings (invalid settings are logged and
// ignored).
func (l *Locks) Policy(ctx context.Context, p Practice) Policy {
	pol, err := l.set.Default.WithSettings(p.Settings)
	if err != nil {
		l.d.Logger.WarnContext(ctx, "practice lockout settings ignored", "practice", p.Slug, "err", err)
	}
	return pol
}

// LockBlocks reports whether m is locked for a login by method (an amr value):
// password login always honours a lock; other methods only when the practice's
// policy says lockout.blocks: all. Passkey and SSO login call it.
func (l *Locks) LockBlocks(ctx context.Context, p Practice, m Member, method string) bool {
	return m.Locked && l.Policy(ctx, p).BlocksMethod(method)
}

// LockIfActive writes the durable lock of the practice's member with that
// email when the member is active (for counts rebuilt after Redis lost them:
// the failure that reached the threshold may have been counted only in the
// lost counts).
func (l *Locks) LockIfActive(ctx context.Context, p Practice, email string, attempts int64, meta Meta) {
	ctx = context.WithoutCancel(ctx)
	m, found, err := l.d.Store.LockoutMember(ctx, p.ID, "", email)
	if err != nil {
		l.d.Logger.ErrorContext(ctx, "lock after rebuilt counts: member unavailable", "err", err)
		return
	}
	if found && m.Active {
		l.Lock(ctx, p, m, attempts, meta)
	}
}

// Lock writes the durable lock of an active member whose failures reached the
// threshold (status and record in one transaction, with its audit event),
// counts it and notifies the member and the practice's members who may
// unlock. A member no longer active is left alone. Failures are logged: the
// counter still refuses every further attempt.
func (l *Locks) Lock(ctx context.Context, p Practice, m Member, attempts int64, meta Meta) {
	// The lock must be written even if the client went away.
	ctx = context.WithoutCancel(ctx)
	addrs, err := l.d.Store.RecentFailureAddrs(ctx, p.ID, m.ID, 20)
	if err != nil {
		l.d.Logger.WarnContext(ctx, "lock: failure addresses unavailable", "err", err)
	}
	if meta.ClientAddr != "" && !slices.Contains(addrs, meta.ClientAddr) {
		addrs = append(addrs, meta.ClientAddr)
	}
	slices.Sort(addrs)
	rec := Lock{ID: l.d.NewID(), PracticeID: p.ID, MemberID: m.ID, LockedAt: l.d.Now(),
		Attempts: int(attempts), Addresses: addrs}
	locked, err := l.d.Store.LockAndAudit(ctx, rec, l.event(AuditEvent{PracticeID: p.ID, Action: "member.lock",
		Outcome: "success", SubjectID: m.ID, Details: map[string]string{"lock": rec.ID,
			"attempts": strconv.Itoa(rec.Attempts), "addresses": strings.Join(addrs, ",")}}, meta))
	if err != nil {
		l.d.Logger.ErrorContext(ctx, "lock not recorded", "member", m.ID, "err", err)
		return
	}
	if !locked {
		return
	}
	l.locks.Inc()
	l.d.Logger.WarnContext(ctx, "member locked after failed logins", "practice", p.Slug, "member", m.ID,
		"attempts", rec.Attempts)
	l.sendLockMails(ctx, p, m, rec)
}

func (l *Locks) sendLockMails(ctx context.Context, p Practice, m Member, rec Lock) {
	name := m.Name
	if name == "" {
		name = m.Email
	}
	data := templates.LockoutMail{PracticeName: p.Name, RecipientName: m.Name, MemberName: name, MemberEmail: m.Email,
		Attempts: rec.Attempts, LockedAt: formatIn(rec.LockedAt, p), Addresses: rec.Addresses,
		LoginURL: l.loginURL(p), ToAdmin: false}
	l.sendMail(ctx, "lockout-"+rec.ID, m.Email, data)
	// Those who may unlock get a link straight to this member's Unlock.
	data.UnlockURL = l.set.PublicURL + "/p/" + p.Slug + "/admin/members/" + url.PathEscape(m.ID) + "/unlock"
	admins, err := l.Unlockers(ctx, p.ID)
	if err != nil {
		l.d.Logger.ErrorContext(ctx, "lock notice: administrators unavailable", "err", err)
		return
	}
	data.ToAdmin = true
	for _, a := range admins {
		if a.ID == m.ID {
			continue
		}
		data.RecipientName = a.Name
		l.sendMail(ctx, "lockout-"+rec.ID+"-"+a.ID, a.Email, data)
	}
}

// Unlockers are the practice's active members who may unlock accounts.
func (l *Locks) Unlockers(ctx context.Context, practiceID string) ([]Member, error) {
	ids, err := l.d.Permissions.Unlockers(ctx, practiceID)
	if err != nil {
		return nil, fmt.Errorf("lockout: who may unlock: %w", err)
	}
	var out []Member
	for _, id := range ids {
		m, found, err := l.d.Store.LockoutMember(ctx, practiceID, id, "")
		if err == nil && !found {
			err = fmt.Errorf("member %s not found", id)
		}
		if err != nil {
			return nil, fmt.Errorf("lockout: who may unlock: %w", err)
		}
		if m.Active {
			out = append(out, m)
		}
	}
	return out, nil
}

// mayUnlock reports whether m may unlock accounts: an active member holding
// the unlock permission (seed 001: only the main administrator).
func (l *Locks) mayUnlock(ctx context.Context, practiceID string, m Member) bool {
	if !m.Active {
		return false
	}
	ok, err := l.d.Permissions.MayUnlock(ctx, practiceID, m.ID)
	if err != nil {
		l.d.Logger.ErrorContext(ctx, "unlock permission check failed; treating as not allowed", "member", m.ID, "err", err)
		return false
	}
	return ok
}

func (l *Locks) sendMail(ctx context.Context, id, to string, data templates.MailData) {
	r, err := l.d.Mails.Render(data)
	if err == nil {
		err = l.d.Mail.Send(ctx, invites.Message{ID: id, To: to, Subject: r.Subject, Text: r.Text, HTML: r.HTML})
	}
	if err != nil {
		l.d.Logger.ErrorContext(ctx, "mail not delivered", "template", data.MailName(), "err", err)
	}
}

// UnlockResult says what Unlock did.
type UnlockResult struct {
	MemberID string
	// WasLocked is false when the member was not locked; the failed-attempt
	// count was cleared anyway.
	WasLocked bool
}

// Unlock lifts the lock of the practice's member with that email (the caller
// checks its form): it clears the failed-attempt count, makes the member
// active again, closes the lock record, audits the action with the actor and
// emails the member. Only the operator and members holding the unlock
// permission (seed 001: the main administrator) may.
func (l *Locks) Unlock(ctx context.Context, p Practice, email string, actor Actor, meta Meta) (UnlockResult, error) {
	return l.unlockFound(ctx, p, actor, meta)(l.d.Store.LockoutMember(ctx, p.ID, "", email))
}

// UnlockMember is Unlock by member ID, for the admin API and console.
func (l *Locks) UnlockMember(ctx context.Context, p Practice, memberID string, actor Actor, meta Meta) (UnlockResult, error) {
	if memberID == "" {
		return UnlockResult{}, ErrMemberNotFound
	}
	return l.unlockFound(ctx, p, actor, meta)(l.d.Store.LockoutMember(ctx, p.ID, memberID, ""))
}

func (l *Locks) unlockFound(ctx context.Context, p Practice, actor Actor, meta Meta) func(Member, bool, error) (UnlockResult, error) {
	return func(m Member, found bool, err error) (UnlockResult, error) {
		if err != nil {
			return UnlockResult{}, fmt.Errorf("lockout: unlock: %w", err)
		}
		if !found {
			return UnlockResult{}, ErrMemberNotFound
		}
		return l.unlock(ctx, p, m, actor, meta)
	}
}

func (l *Locks) unlock(ctx context.Context, p Practice, m Member, actor Actor, meta Meta) (UnlockResult, error) {
	if !actor.Operator {
		a, found, err := l.d.Store.LockoutMember(ctx, p.ID, actor.MemberID, "")
		if actor.MemberID == "" || err != nil || !found || !l.mayUnlock(ctx, p.ID, a) {
			if err := l.d.Store.AppendLockoutAudit(ctx, l.event(AuditEvent{PracticeID: p.ID, Action: "member.unlock",
				Outcome: "failure", ActorID: actor.MemberID, SubjectID: m.ID,
				Details: map[string]string{"reason": "forbidden"}}, meta)); err != nil {
				l.d.Logger.ErrorContext(ctx, "audit write failed", "action", "member.unlock", "err", err)
			}
			return UnlockResult{}, ErrForbidden
		}
	}
	ctx = context.WithoutCancel(ctx)
	key := m.AccountKey
	// Clear the count before and after lifting the lock, so an attempt
	// counted in between cannot leave the account refused.
	if err := l.d.Guard.Reset(ctx, p.ID, key); err != nil {
		return UnlockResult{}, fmt.Errorf("lockout: unlock: %w", err)
	}
	was, err := l.d.Store.UnlockAndAudit(ctx, p.ID, m.ID, actor.id(), l.d.Now(), func(was bool) AuditEvent {
		return l.event(AuditEvent{PracticeID: p.ID, Action: "member.unlock", Outcome: "success",
			ActorID: actor.id(), SubjectID: m.ID, Details: map[string]string{"was_locked": strconv.FormatBool(was)}}, meta)
	})
	if err != nil {
		return UnlockResult{}, fmt.Errorf("lockout: unlock: %w", err)
	}
	if err := l.d.Guard.Reset(ctx, p.ID, key); err != nil {
		return UnlockResult{}, fmt.Errorf("lockout: unlock: %w", err)
	}
	if was {
		l.unlocks.Inc()
		actorName := ""
		if l.d.Describe != nil && !actor.Operator {
			actorName = l.d.Describe(ctx, p.ID, actor.MemberID)
		}
		l.sendMail(ctx, "unlock-"+l.d.NewID(), m.Email, templates.UnlockMail{PracticeName: p.Name,
			RecipientName: m.Name, MemberEmail: m.Email, ActorName: actorName, UnlockedAt: formatIn(l.d.Now(), p),
			LoginURL: l.loginURL(p)})
	}
	return UnlockResult{MemberID: m.ID, WasLocked: was}, nil
}

// event completes e with the time and the request's origin.
func (l *Locks) event(e AuditEvent, meta Meta) AuditEvent {
	e.At = l.d.Now()
	e.ClientAddr, e.UserAgent, e.RequestID = meta.ClientAddr, truncate(meta.UserAgent, 256), meta.RequestID
	return e
}

// formatIn formats t for people in the practice's time zone.
func formatIn(t time.Time, p Practice) string {
	loc := time.UTC
	if p.TimeZone != "" {
		if z, err := time.LoadLocation(p.TimeZone); err == nil {
			loc = z
		}
	}
	return t.In(loc).Format("Mon 2 Jan 2006, 15:04 MST")
}

func (l *Locks) loginURL(p Practice) string { return l.set.PublicURL + "/p/" + p.Slug + "/login" }

func truncate(v string, n int) string {
	if len(v) <= n {
		return v
	}
	for n > 0 && !utf8.RuneStart(v[n]) {
		n--
	}
	return v[:n]
}
