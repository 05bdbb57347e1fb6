// Package templates holds frontdesk's embedded page and email templates and its
// static assets. Pages are html/template (contextual escaping of every value);
// email text parts are text/template, email HTML parts html/template.
package templates

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"path"
	"reflect"
	"slices"
	"strings"
	texttemplate "text/template"
	"text/template/parse"
)

//go:embed pages/*.html mail/*.tmpl static/*
var files embed.FS

// Static returns the static assets (stylesheet), served under /static/.
func Static() fs.FS {
	sub, err := fs.Sub(files, "static")
	if err != nil {
		panic(err) // the embedded directory is fixed at build time
	}
	return sub
}

// Pages is the set of parsed page templates, each rendered through the shared
// layout.
type Pages struct {
	pages map[string]*htmltemplate.Template
}

// ParsePages parses every page under pages/ together with the layout and
// the partials it uses (pages/partial_*.html: sections a page includes with
// {{template "name" .Field}}, each defining its own template).
//
// A partial is parsed only into the pages that include it (directly or
// through another partial), not into every page: parse trees are the
// largest part of the server's live heap, which every garbage collection
// marks, and a collection ends every password hash (issue 20, see
// docs/performance.md, "Logins, 2026-12-06 evening"). Parsing a partial
// into a page that never includes it changed nothing but that heap.
func ParsePages() (*Pages, error) {
	names, err := fs.Glob(files, "pages/*.html")
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	partialFiles, err := fs.Glob(files, "pages/partial_*.html")
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	// The templates each partial file defines.
	definedIn := map[string]string{}
	for _, f := range partialFiles {
		t, err := htmltemplate.New(path.Base(f)).Funcs(pageFuncs).ParseFS(files, f)
		if err != nil {
			return nil, fmt.Errorf("templates: parse %s: %w", f, err)
		}
		for _, d := range t.Templates() {
			if d.Tree != nil && d.Name() != path.Base(f) {
				definedIn[d.Name()] = f
			}
		}
	}
	p := &Pages{pages: map[string]*htmltemplate.Template{}}
	for _, name := range names {
		if name == "pages/layout.html" || strings.HasPrefix(name, "pages/partial_") {
			continue
		}
		t, err := htmltemplate.New("layout.html").Funcs(pageFuncs).ParseFS(files, "pages/layout.html", name)
		if err != nil {
			return nil, fmt.Errorf("templates: parse %s: %w", name, err)
		}
		if err := addPartials(t, definedIn); err != nil {
			return nil, fmt.Errorf("templates: parse %s: %w", name, err)
		}
		p.pages[strings.TrimSuffix(strings.TrimPrefix(name, "pages/"), ".html")] = t
	}
	return p, nil
}

// pageFuncs are the functions pages may call.
var pageFuncs = htmltemplate.FuncMap{"email": emailHTML}

// emailHTML is an email address that a narrow table cell breaks after its
// local part, before the "@", rather than anywhere in the middle of a name:
// "bo.biller<wbr>@demo.example", each part escaped.
func emailHTML(addr string) htmltemplate.HTML {
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 {
		return htmltemplate.HTML(htmltemplate.HTMLEscapeString(addr))
	}
	return htmltemplate.HTML(htmltemplate.HTMLEscapeString(addr[:at]) + "<wbr>" + htmltemplate.HTMLEscapeString(addr[at:]))
}

// addPartials parses into t every partial file that defines a template t
// includes but does not define, until nothing included is missing. A
// template defined nowhere is left for execution to report, as before.
func addPartials(t *htmltemplate.Template, definedIn map[string]string) error {
	added := map[string]bool{}
	for {
		var missing []string
		for name := range includedTemplates(t) {
			if t.Lookup(name) != nil {
				continue
			}
			if f, ok := definedIn[name]; ok && !added[f] {
				added[f] = true
				missing = append(missing, f)
			}
		}
		if len(missing) == 0 {
			return nil
		}
		slices.Sort(missing)
		if _, err := t.ParseFS(files, missing...); err != nil {
			return err
		}
	}
}

// includedTemplates are the names of the templates that t's templates
// include with {{template "name"}} (or {{block}}).
func includedTemplates(t *htmltemplate.Template) map[string]bool {
	out := map[string]bool{}
	var walk func(n parse.Node)
	walk = func(n parse.Node) {
		switch n := n.(type) {
		case *parse.ListNode:
			if n == nil {
				return
			}
			for _, c := range n.Nodes {
				walk(c)
			}
		case *parse.TemplateNode:
			out[n.Name] = true
		case *parse.IfNode:
			walk(n.List)
			walk(n.ElseList)
		case *parse.RangeNode:
			walk(n.List)
			walk(n.ElseList)
		case *parse.WithNode:
			walk(n.List)
			walk(n.ElseList)
		}
	}
	for _, d := range t.Templates() {
		if d.Tree != nil {
			walk(d.Tree.Root)
		}
	}
	return out
}

// Render renders the named page (file name without .html) with data into a
// buffer, so a template error never sends half a page.
func (p *Pages) Render(name string, data any) ([]byte, error) {
	t, ok := p.pages[name]
	if !ok {
		return nil, fmt.Errorf("templates: no page %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		return nil, fmt.Errorf("templates: render %s: %w", name, err)
	}
	return buf.Bytes(), nil
}

// Mail is one rendered email: subject, text part and HTML part.
type Mail struct {
	Subject string
	Text    string
	HTML    string
}

// Mails is the set of parsed email templates. Each message NAME has
// mail/NAME.txt.tmpl (which defines "subject" and "text") and
// mail/NAME.html.tmpl, and one MailData type whose MailName is NAME.
// Templates are parsed with missingkey=error: a value they cannot find is an
// error, never "<no value>" in a sent mail.
type Mails struct {
	text map[string]*texttemplate.Template
	html map[string]*htmltemplate.Template
}

// ParseMails parses every email template.
func ParseMails() (*Mails, error) {
	names, err := fs.Glob(files, "mail/*.txt.tmpl")
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	m := &Mails{text: map[string]*texttemplate.Template{}, html: map[string]*htmltemplate.Template{}}
	for _, name := range names {
		key := strings.TrimSuffix(strings.TrimPrefix(name, "mail/"), ".txt.tmpl")
		if key == mailLayout {
			continue
		}
		tt, err := texttemplate.New(path.Base(name)).Option("missingkey=error").
			ParseFS(files, name, "mail/"+mailLayout+".txt.tmpl")
		if err != nil {
			return nil, fmt.Errorf("templates: parse %s: %w", name, err)
		}
		ht, err := htmltemplate.New(key+".html.tmpl").Option("missingkey=error").Funcs(htmltemplate.FuncMap{"link": mailLink}).
			ParseFS(files, "mail/"+key+".html.tmpl", "mail/"+mailLayout+".html.tmpl")
		if err != nil {
			return nil, fmt.Errorf("templates: parse html for %s: %w", key, err)
		}
		m.text[key], m.html[key] = tt, ht
	}
	return m, nil
}

// checkFilled refuses mail data with an empty string or list field that is
// not tagged `mail:"optional"`: a value the caller forgot.
func checkFilled(data MailData) error {
	v := reflect.ValueOf(data)
	if v.Kind() != reflect.Struct {
		return fmt.Errorf("mail data is a %s, not a struct", v.Kind())
	}
	for i := range v.NumField() {
		f := v.Type().Field(i)
		if f.Tag.Get("mail") == "optional" {
			continue
		}
		switch fv := v.Field(i); fv.Kind() {
		case reflect.String, reflect.Slice:
			if fv.Len() == 0 {
				return fmt.Errorf("%s is empty", f.Name)
			}
		}
	}
	if l, ok := data.(LockoutMail); ok && l.ToAdmin && l.UnlockURL == "" {
		return fmt.Errorf("UnlockURL is empty in a notice to administrators")
	}
	return nil
}

// mailLayout is the shared part of every mail: mail/layout.txt.tmpl (the
// greeting and signature of text parts) and mail/layout.html.tmpl (the
// styled frame of HTML parts, inline CSS with a dark-mode stylesheet, and
// the "button" template).
const mailLayout = "layout"

// mailLink is the value of the layout's "button" template: a link and its
// label (html/template escapes and filters the URL in its href).
func mailLink(url, label string) map[string]string {
	return map[string]string{"URL": url, "Label": label}
}

// Render renders the mail whose data this is.
func (m *Mails) Render(data MailData) (Mail, error) {
	if data == nil {
		return Mail{}, fmt.Errorf("templates: no mail data")
	}
	name := data.MailName()
	if err := checkFilled(data); err != nil {
		return Mail{}, fmt.Errorf("templates: %s: %w", name, err)
	}
	tt, ok := m.text[name]
	if !ok {
		return Mail{}, fmt.Errorf("templates: no mail %q", name)
	}
	var subject, text, html bytes.Buffer
	if err := tt.ExecuteTemplate(&subject, "subject", data); err != nil {
		return Mail{}, fmt.Errorf("templates: %s subject: %w", name, err)
	}
	if err := tt.ExecuteTemplate(&text, "text", data); err != nil {
		return Mail{}, fmt.Errorf("templates: %s text: %w", name, err)
	}
	if err := m.html[name].Execute(&html, data); err != nil {
		return Mail{}, fmt.Errorf("templates: %s html: %w", name, err)
	}
	subj := strings.Join(strings.Fields(subject.String()), " ")
	return Mail{Subject: subj, Text: text.String(), HTML: html.String()}, nil
}
