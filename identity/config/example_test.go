package config

import (
	"os"
	"reflect"
	"regexp"
	"testing"

	"go.yaml.in/yaml/v3"
)

const examplePath = "../../config.example.yaml"

// TestExampleEqualsDefault keeps config.example.yaml and Default in sync.
func TestExampleEqualsDefault(t *testing.T) {
	got, err := Load(examplePath, nil)
	if err != nil {
		t.Fatalf("loading %s: %v", examplePath, err)
	}
	if !reflect.DeepEqual(got, Default()) {
		t.Errorf("%s does not match Default():\n got: %s\nwant: %s", examplePath, got, Default())
	}
}

// TestExampleDocumentsEveryKey walks the Config struct and checks that every
// key appears in config.example.yaml: section keys as active settings with a
// comment, client keys in the commented example.
func TestExampleDocumentsEveryKey(t *testing.T) {
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	active := map[string]*yaml.Node{} // dotted key -> key node
	var collect func(n *yaml.Node, prefix string)
	collect = func(n *yaml.Node, prefix string) {
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := joinKey(prefix, n.Content[i].Value)
			active[key] = n.Content[i]
			collect(n.Content[i+1], key)
		}
	}
	collect(doc.Content[0], "")

	ct := reflect.TypeFor[Config]()
	for top := range ct.Fields() {
		name := yamlName(top)
		if _, ok := active[name]; !ok {
			t.Errorf("top-level key %q missing from %s", name, examplePath)
		}
		switch {
		case top.Type.Kind() == reflect.Struct:
			for f := range top.Type.Fields() {
				key := name + "." + yamlName(f)
				n, ok := active[key]
				switch {
				case !ok:
					t.Errorf("key %q missing from %s", key, examplePath)
				case n.HeadComment == "":
					t.Errorf("key %q in %s has no comment", key, examplePath)
				}
			}
		case top.Type.Kind() == reflect.Slice && top.Type.Elem().Kind() == reflect.Struct:
			for f := range top.Type.Elem().Fields() {
				re := regexp.MustCompile(`(?m)^#\s+(- )?` + regexp.QuoteMeta(yamlName(f)) + `:`)
				if !re.Match(data) {
					t.Errorf("client key %q is not documented in %s", yamlName(f), examplePath)
				}
			}
		}
	}
	// And nothing in the example is unknown (Load would also catch this).
	for _, s := range settings() {
		if _, ok := active[s.key]; !ok {
			t.Errorf("setting %s missing from %s", s.key, examplePath)
		}
	}
}
