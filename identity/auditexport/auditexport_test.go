package auditexport_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/frontdeskhq/frontdesk/identity/auditexport"
	"github.com/frontdeskhq/frontdesk/identity/store"
	"github.com/frontdeskhq/frontdesk/identity/store/storetest"
)

func TestWrite(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		t0 := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
		const n = 1203 // more than two pages
		err := s.InTx(ctx, func(tx *store.Store) error {
			for i := range n {
				if err := tx.AppendAudit(ctx, store.AuditEvent{PracticeID: "p-a", At: t0.Add(time.Duration(i) * time.Second),
					Action: "login", Outcome: "success", ActorID: fmt.Sprint(i),
					UserAgent: "=HYPERLINK(\"x\")", Details: map[string]string{"line": "a\nb"}}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			format auditexport.Format
			since  time.Time
			want   int
		}{
			{auditexport.JSONL, time.Time{}, n},
			{auditexport.CSV, time.Time{}, n},
			{auditexport.JSONL, t0.Add(1000 * time.Second), n - 1000},
		} {
			var buf bytes.Buffer
			got, err := auditexport.Write(ctx, s, store.AuditFilter{PracticeID: "p-a", Since: tc.since}, tc.format, &buf)
			if err != nil || got != tc.want {
				t.Fatalf("%s: wrote %d, %v; want %d", tc.format, got, err, tc.want)
			}
			switch tc.format {
			case auditexport.JSONL:
				sc := bufio.NewScanner(&buf)
				var prev auditexport.Event
				lines := 0
				for sc.Scan() {
					var e auditexport.Event
					if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
						t.Fatalf("line %d: %v", lines, err)
					}
					if lines > 0 && (e.Seq != prev.Seq+1 || e.PrevHash != prev.Hash) {
						t.Fatalf("line %d does not follow the previous one", lines)
					}
					if e.Details["line"] != "a\nb" || e.UserAgent != "=HYPERLINK(\"x\")" {
						t.Fatalf("line %d lost data: %+v", lines, e)
					}
					prev = e
					lines++
				}
				if lines != tc.want {
					t.Errorf("%d lines, want %d", lines, tc.want)
				}
			case auditexport.CSV:
				rows, err := csv.NewReader(&buf).ReadAll()
				if err != nil || len(rows) != n+1 {
					t.Fatalf("csv: %d rows, %v", len(rows), err)
				}
				if rows[1][8] != "'=HYPERLINK(\"x\")" {
					t.Errorf("formula not defused: %q", rows[1][8])
				}
			}
		}
	})
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{{"2026-11-24", true}, {"2026-11-24T09:00:00Z", true}, {"yesterday", false}} {
		if _, err := auditexport.ParseTime(tc.in); (err == nil) != tc.ok {
			t.Errorf("ParseTime(%q) = %v", tc.in, err)
		}
	}
	for _, tc := range []struct {
		in   string
		want auditexport.Format
		ok   bool
	}{{"jsonl", auditexport.JSONL, true}, {"CSV", auditexport.CSV, true}, {"xml", "", false}} {
		if got, err := auditexport.ParseFormat(tc.in); got != tc.want || (err == nil) != tc.ok {
			t.Errorf("ParseFormat(%q) = %q, %v", tc.in, got, err)
		}
	}
}
