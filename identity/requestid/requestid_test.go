package requestid_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/frontdeskhq/frontdesk/identity/requestid"
)

func TestHandlerAddsRequestID(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(requestid.Handler(slog.NewJSONHandler(&buf, nil))).With("component", "test")
	ctx := requestid.With(context.Background(), "abc123")
	logger.InfoContext(ctx, "with id")
	logger.Info("without id")

	dec := json.NewDecoder(&buf)
	var first, second map[string]any
	if err := dec.Decode(&first); err != nil {
		t.Fatal(err)
	}
	if err := dec.Decode(&second); err != nil {
		t.Fatal(err)
	}
	if first["request_id"] != "abc123" || first["component"] != "test" {
		t.Errorf("first line: %v", first)
	}
	if _, ok := second["request_id"]; ok {
		t.Errorf("second line has a request_id: %v", second)
	}
	if requestid.From(context.Background()) != "" {
		t.Error("From on an empty context")
	}
}
