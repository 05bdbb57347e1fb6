package httpserver

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/account"
	"github.com/frontdeskhq/frontdesk/identity/auditexport"
	"github.com/frontdeskhq/frontdesk/identity/roles"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// The console's audit trail, written for a compliance reviewer: people by
// name, email and role, actions in words, times in the practice's time zone
// (UTC on hover, and in exports, which identity/auditexport writes), and a
// filter by person.

type consoleAuditData struct {
	Practice                         *practiceView
	Events                           []auditRow
	Filter                           store.AuditFilter
	Since, Until, Person, Error      string
	PersonName                       string // the member the trail is narrowed to
	TimeZone                         string
	ExportCSV, ExportJSONL, OlderURL string
	Nav                              consoleNav
}

// auditRow is one event as the console shows it.
type auditRow struct {
	ID, Seq         int64
	Local, UTC, ISO string // the time in the practice's zone, in UTC for the title, and machine-readable
	Words           string
	Action, Outcome string
	Actor, Subject  *auditPerson
	ClientAddr      string
}

// maxPersonQuery bounds the person filter.
const maxPersonQuery = 200

// consoleAuditFilter reads the filter form. Dates (YYYY-MM-DD) are days in
// the practice's time zone; an RFC 3339 time is taken as written.
func (s *Server) consoleAuditFilter(r *http.Request, p store.Practice) (f store.AuditFilter, since, until, person, personName, msg string) {
	q := r.URL.Query()
	f = store.AuditFilter{PracticeID: p.ID, Action: trimTo(q.Get("action"), 200), Limit: 100}
	if o := q.Get("outcome"); o == "success" || o == "failure" {
		f.Outcome = o
	}
	loc := account.Location(p)
	since, until = trimTo(q.Get("since"), 40), trimTo(q.Get("until"), 40)
	parse := func(label, v string) time.Time {
		if v == "" {
			return time.Time{}
		}
		if t, err := time.ParseInLocation(time.DateOnly, v, loc); err == nil {
			return t
		}
		if t, err := auditexport.ParseTime(v); err == nil {
			return t
		}
		msg = label + ": “" + v + "” is not a date. Pick a day, or type it as 2026-11-24."
		return time.Time{}
	}
	f.Since, f.Until = parse("From", since), parse("Before", until)
	if b, err := strconv.ParseInt(q.Get("before"), 10, 64); err == nil && b > 0 {
		f.BeforeID = b
	}
	person = trimTo(q.Get("person"), maxPersonQuery)
	if person != "" {
		id, name, err := s.findPerson(r.Context(), p.ID, person)
		var perr errPerson
		switch {
		case errors.As(err, &perr):
			msg = perr.Error()
			f.Person = "(no member)" // show nothing rather than everything
		case err != nil:
			s.log(r).ErrorContext(r.Context(), "audit person filter", "err", err)
			msg = "The member search did not work just now. Please try again in a moment."
			f.Person = "(no member)"
		default:
			f.Person, personName = id, name
		}
	}
	return f, since, until, person, personName, msg
}

// errPerson explains a person filter that names no one, or several.
type errPerson string

func (e errPerson) Error() string { return string(e) }

// findPerson resolves the person filter: a member ID (the links in the
// table), or a part of one member's name or email.
func (s *Server) findPerson(ctx context.Context, practiceID, q string) (string, string, error) {
	if m, err := s.d.AdminStore.MemberByID(ctx, practiceID, q); err == nil {
		return m.ID, viewMember(m).Name, nil
	}
	ms, _, err := s.d.AdminStore.ListMembers(ctx, store.MemberFilter{PracticeID: practiceID, Query: q, Limit: 20})
	if err != nil {
		return "", "", err
	}
	if len(ms) > 1 {
		// An exact email or name wins over partial matches.
		for _, m := range ms {
			if strings.EqualFold(m.Email, q) || strings.EqualFold(viewMember(m).Name, q) {
				return m.ID, viewMember(m).Name, nil
			}
		}
		return "", "", errPerson("Several members match “" + q + "”. Type more of the name, or the whole email address.")
	}
	if len(ms) == 0 {
		return "", "", errPerson("No member of the practice matches “" + q + "”. Check the spelling, or search by email address.")
	}
	return ms[0].ID, viewMember(ms[0]).Name, nil
}

func (s *Server) consoleAudit(w http.ResponseWriter, r *http.Request) {
	pr, ok := s.consoleAllowed(w, r, roles.PermAudit)
	if !ok {
		return
	}
	f, since, until, person, personName, msg := s.consoleAuditFilter(r, pr.Practice)
	recs, err := s.d.AdminStore.QueryAudit(r.Context(), f)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	rows, err := s.auditRows(r.Context(), pr.Practice, recs)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	params := url.Values{"action": {f.Action}, "outcome": {f.Outcome}, "since": {since}, "until": {until}, "person": {person}}
	base := "/p/" + pr.Practice.Slug + "/admin/audit"
	data := consoleAuditData{Practice: viewPractice(pr.Practice), Events: rows, Filter: f, Since: since, Until: until,
		Person: person, PersonName: personName, Error: msg, Nav: s.nav(r, pr), TimeZone: account.Location(pr.Practice).String()}
	params.Set("format", "csv")
	data.ExportCSV = base + "/export?" + params.Encode()
	params.Set("format", "jsonl")
	data.ExportJSONL = base + "/export?" + params.Encode()
	params.Del("format")
	if len(recs) == f.Limit {
		params.Set("before", strconv.FormatInt(recs[len(recs)-1].ID, 10))
		data.OlderURL = base + "?" + params.Encode()
	}
	s.renderAny(w, r, http.StatusOK, "admin_audit", data)
}

// auditRows puts records in words with the names of the people in them.
func (s *Server) auditRows(ctx context.Context, p store.Practice, recs []store.AuditRecord) ([]auditRow, error) {
	seen := map[string]bool{}
	var ids []string
	for _, rec := range recs {
		for _, id := range []string{rec.ActorID, rec.SubjectID} {
			if id != "" && !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	names, err := s.d.AdminStore.MemberNames(ctx, p.ID, ids)
	if err != nil {
		return nil, err
	}
	roleNames := map[string]string{}
	if m, err := s.d.AdminRoles.Model(ctx, p.ID); err == nil {
		for _, r := range m.Roles {
			roleNames[r.Key] = r.Name
		}
	}
	person := func(id string) *auditPerson {
		if id == "" || id == account.OperatorActorID {
			return nil // the operator reads as "The operator"
		}
		n, ok := names[id]
		if !ok {
			return &auditPerson{ID: id, Name: "a former member (" + id + ")"}
		}
		v := viewMember(store.Member{Email: n.Email, DisplayName: n.DisplayName, LegalName: n.LegalName})
		ap := &auditPerson{ID: id, Name: v.Name}
		if v.Name != n.Email {
			ap.Email = n.Email
		}
		var rs []string
		for _, k := range n.Roles {
			if name := roleNames[k]; name != "" {
				rs = append(rs, name)
			} else {
				rs = append(rs, k)
			}
		}
		ap.Roles = strings.Join(rs, ", ")
		return ap
	}
	loc := account.Location(p)
	out := make([]auditRow, 0, len(recs))
	for _, rec := range recs {
		actor, subject := person(rec.ActorID), person(rec.SubjectID)
		out = append(out, auditRow{ID: rec.ID, Seq: rec.Seq, Action: rec.Action, Outcome: rec.Outcome,
			Local: rec.At.In(loc).Format("Mon 2 Jan 2006, 15:04:05 MST"),
			UTC:   rec.At.UTC().Format("2006-01-02 15:04:05 UTC"), ISO: rec.At.UTC().Format(time.RFC3339),
			Words: describeAudit(rec.Action, rec.Outcome, actor, subject, rec.DetailsJSON),
			Actor: actor, Subject: subject, ClientAddr: rec.ClientAddr})
	}
	return out, nil
}

func (s *Server) consoleAuditExport(w http.ResponseWriter, r *http.Request) {
	pr, ok := s.consoleAllowed(w, r, roles.PermAudit)
	if !ok {
		return
	}
	f, _, _, _, _, msg := s.consoleAuditFilter(r, pr.Practice)
	format, err := auditexport.ParseFormat(r.URL.Query().Get("format"))
	if err != nil || msg != "" {
		if msg == "" {
			msg = "Choose CSV or JSON Lines from the audit trail page."
		}
		s.message(w, r, http.StatusBadRequest, viewPractice(pr.Practice), "Export not possible", msg,
			&nextLink{URL: "/p/" + pr.Practice.Slug + "/admin/audit", Label: "Audit trail"})
		return
	}
	f.BeforeID, f.Limit = 0, 0
	w.Header().Set("Content-Type", format.ContentType())
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Disposition", `attachment; filename="audit-`+pr.Practice.Slug+"."+string(format)+`"`)
	if _, err := auditexport.Write(r.Context(), s.d.AdminStore, f, format, w); err != nil {
		s.log(r).ErrorContext(r.Context(), "console audit export failed", "err", err)
	}
}
