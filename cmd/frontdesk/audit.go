package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/frontdeskhq/frontdesk/identity/auditexport"
	"github.com/frontdeskhq/frontdesk/identity/store"
)

// cmdAudit runs the audit-trail commands: verify and export.
func cmdAudit(ctx context.Context, args []string, stdout, stderr io.Writer, env []string) error {
	if len(args) == 0 {
		return usageError{msg: "audit: expected a subcommand: verify, export"}
	}
	switch args[0] {
	case "verify":
		return cmdAuditVerify(ctx, args[1:], stdout, stderr, env)
	case "export":
		return cmdAuditExport(ctx, args[1:], stdout, stderr, env)
	default:
		return usageError{msg: fmt.Sprintf("audit: unknown subcommand %q; expected: verify, export", args[0])}
	}
}

// errAuditBroken makes `frontdesk audit verify` exit non-zero after it has
// printed what it found.
var errAuditBroken = errors.New("audit verify: the audit trail does not verify (see above); " +
	"restore the database from a backup taken before the break and investigate who had write access")

// cmdAuditVerify walks one practice's audit chain (or every chain) and reports
// the first broken row of each.
func cmdAuditVerify(ctx context.Context, args []string, stdout, stderr io.Writer, env []string) error {
	fs, path := newFlags("audit verify", stderr)
	practice := fs.String("practice", "", "the practice's slug (default: every practice)")
	keptFlag := fs.String("head", "", "a head `SEQ:HASH` of the practice's chain kept outside the database "+
		"(from the \"audit chain head\" log line, the metric, or an earlier verify); the chain must still contain it. "+
		"Needs --practice")
	if err := parse(fs, args); err != nil {
		return err
	}
	var kept *store.AuditChainHead
	if *keptFlag != "" {
		if *practice == "" {
			return usageError{msg: "audit verify: --head needs --practice (a head belongs to one practice's chain)"}
		}
		h, err := parseKeptHead(*keptFlag)
		if err != nil {
			return usageError{msg: "audit verify: --head: " + err.Error()}
		}
		kept = &h
	}
	st, err := openStore(ctx, *path, env, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	var chains []string
	if *practice != "" {
		p, err := st.PracticeBySlug(ctx, *practice)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("audit verify: no practice has the slug %q; check --practice", *practice)
		} else if err != nil {
			return fmt.Errorf("audit verify: %w", err)
		}
		chains = []string{p.ID}
	} else if chains, err = st.AuditChains(ctx); err != nil {
		return fmt.Errorf("audit verify: %w", err)
	}
	if len(chains) == 0 {
		fmt.Fprintln(stdout, "no audit events yet; nothing to verify")
		return nil
	}
	broken := false
	for _, id := range chains {
		name := "events outside any practice"
		if id != "" {
			name = "practice " + id
			if p, err := st.PracticeByID(ctx, id); err == nil {
				name = fmt.Sprintf("practice %q (%s)", p.Slug, id)
			}
		}
		var head store.AuditChainHead
		if kept != nil {
			head, err = st.VerifyAuditChainAgainst(ctx, id, *kept)
		} else {
			head, err = st.VerifyAuditChain(ctx, id)
		}
		var brk *store.AuditBreak
		switch {
		case errors.As(err, &brk):
			broken = true
			if brk.EventID == 0 {
				fmt.Fprintf(stdout, "BROKEN %s: at sequence %d: %s\n", name, brk.Seq, brk.Reason)
			} else {
				fmt.Fprintf(stdout, "BROKEN %s: first bad row: event id %d, sequence %d: %s\n",
					name, brk.EventID, brk.Seq, brk.Reason)
			}
		case err != nil:
			return fmt.Errorf("audit verify: %w", err)
		case head.Unchained > 0:
			fmt.Fprintf(stdout, "WARN   %s: %d events written before the chain existed and not chained yet "+
				"(they join it with the practice's next event); if this practice had chained events before, "+
				"the chain was stripped: compare with your recorded head hashes\n", name, head.Unchained)
		case kept != nil:
			fmt.Fprintf(stdout, "ok     %s: %d chained events, head hash %s; contains the kept head %d:%s\n",
				name, head.Seq, head.Hash, kept.Seq, kept.Hash)
		default:
			fmt.Fprintf(stdout, "ok     %s: %d chained events, head hash %s (keep --head %d:%s)\n",
				name, head.Seq, head.Hash, head.Seq, head.Hash)
		}
	}
	if broken {
		return errAuditBroken
	}
	return nil
}

// parseKeptHead parses SEQ:HASH (HASH: 64 hex digits, as logged).
func parseKeptHead(v string) (store.AuditChainHead, error) {
	seqText, hash, ok := strings.Cut(strings.TrimSpace(v), ":")
	seq, err := strconv.ParseInt(seqText, 10, 64)
	if !ok || err != nil || seq < 1 {
		return store.AuditChainHead{}, fmt.Errorf("%q is not SEQ:HASH (e.g. 42:9f86d0…, as logged)", v)
	}
	hash = strings.ToLower(hash)
	if len(hash) != 64 || strings.Trim(hash, "0123456789abcdef") != "" {
		return store.AuditChainHead{}, fmt.Errorf("the hash in %q is not 64 hexadecimal digits", v)
	}
	return store.AuditChainHead{Seq: seq, Hash: hash}, nil
}

// cmdAuditExport writes a practice's audit events as JSON Lines or CSV.
func cmdAuditExport(ctx context.Context, args []string, stdout, stderr io.Writer, env []string) error {
	fs, path := newFlags("audit export", stderr)
	practice := fs.String("practice", "", "the practice's slug (required)")
	format := fs.String("format", "jsonl", "output format: jsonl or csv")
	since := fs.String("since", "", "only events at or after this time (2026-11-24 or RFC 3339)")
	until := fs.String("until", "", "only events before this time (2026-11-24 or RFC 3339)")
	action := fs.String("action", "", `only this action, or a prefix ending in "." (e.g. "member.")`)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *practice == "" {
		return usageError{msg: "audit export: --practice is required"}
	}
	f, err := auditexport.ParseFormat(*format)
	if err != nil {
		return usageError{msg: "audit export: --format: " + err.Error()}
	}
	filter := store.AuditFilter{Action: *action}
	for _, tv := range []struct {
		flag, value string
		dst         *store.AuditFilter
		until       bool
	}{{"since", *since, &filter, false}, {"until", *until, &filter, true}} {
		if tv.value == "" {
			continue
		}
		t, err := auditexport.ParseTime(tv.value)
		if err != nil {
			return usageError{msg: "audit export: --" + tv.flag + ": " + err.Error()}
		}
		if tv.until {
			tv.dst.Until = t
		} else {
			tv.dst.Since = t
		}
	}
	st, err := openStore(ctx, *path, env, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	p, err := st.PracticeBySlug(ctx, *practice)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("audit export: no practice has the slug %q; check --practice", *practice)
	} else if err != nil {
		return fmt.Errorf("audit export: %w", err)
	}
	filter.PracticeID = p.ID
	n, err := auditexport.Write(ctx, st, filter, f, stdout)
	if err != nil {
		return fmt.Errorf("audit export: %w", err)
	}
	fmt.Fprintf(stderr, "exported %d audit events of practice %q\n", n, *practice)
	return nil
}
