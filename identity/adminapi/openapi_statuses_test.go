package adminapi_test

import (
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// Every operation of the admin API can be refused for a bad token (401) and
// can meet a database that cannot be reached or cannot save (503, Retry-After,
// nothing changed); the document says so for each, so a client generated from
// it handles both.
func TestEveryOperationDocumentsAuthAndUnavailable(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromFile("../../docs/openapi.yaml")
	if err != nil {
		t.Fatalf("load docs/openapi.yaml: %v", err)
	}
	n := 0
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			n++
			for _, status := range []string{"401", "503"} {
				if op.Responses.Value(status) == nil {
					t.Errorf("%s %s (%s) does not document %s", method, path, op.OperationID, status)
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("docs/openapi.yaml has no operations")
	}
	unavailable := doc.Components.Responses["Unavailable"]
	if unavailable == nil || unavailable.Value.Headers["Retry-After"] == nil {
		t.Error("components.responses.Unavailable must document the Retry-After header")
	}
}
