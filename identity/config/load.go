package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// EnvPrefix starts the name of every environment override.
const EnvPrefix = "FRONTDESK_"

var (
	// ErrUnknownKey reports a key in the YAML file that frontdesk does not know.
	ErrUnknownKey = errors.New("unknown key")
	// ErrUnknownSetting reports a FRONTDESK_* environment variable that
	// frontdesk does not know.
	ErrUnknownSetting = errors.New("unknown setting")
	// ErrMissingSecret reports a secret that is required but not set.
	ErrMissingSecret = errors.New("missing secret")
)

// FieldError is a problem with the value of one setting.
type FieldError struct {
	// Key is the dotted key, e.g. "server.listen" or "clients[0].id".
	Key string
	// Source says where the value came from, e.g. "FRONTDESK_SERVER_LISTEN"
	// or "config.yaml line 3"; "" for defaults or when unknown.
	Source string
	// Err describes what is wrong and what is allowed.
	Err error
}

// Error implements error.
func (e *FieldError) Error() string {
	msg := "config: " + e.Key + ": " + e.Err.Error()
	if e.Source != "" {
		msg += " (from " + e.Source + ")"
	}
	return msg
}

// Unwrap returns the underlying error.
func (e *FieldError) Unwrap() error { return e.Err }

// isDuration reports whether t is time.Duration, which is parsed from strings
// like "15m" rather than as a plain integer.
func isDuration(t reflect.Type) bool { return t == reflect.TypeFor[time.Duration]() }

// Load reads the YAML file at path (path may be "" for no file), applies
// overrides from env (a slice of "K=V" like os.Environ(); only names starting
// with FRONTDESK_ are considered), fills defaults, and validates. All problems
// found are returned together, joined with errors.Join.
func Load(path string, env []string) (*Config, error) {
	cfg := Default()
	origins := map[string]string{}
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("config: reading %w", err)
		}
		if err := decodeYAML(cfg, data, path, origins); err != nil {
			return nil, err
		}
	}
	envErr := applyEnv(cfg, env, origins)
	cfg.normalize()
	valErr := cfg.Validate()
	annotate(valErr, origins)
	if err := errors.Join(envErr, valErr); err != nil {
		return nil, err
	}
	return cfg, nil
}

// normalize canonicalises values that have several spellings.
func (c *Config) normalize() {
	if u := strings.TrimRight(c.Server.PublicURL, "/"); strings.Contains(u, "://") {
		c.Server.PublicURL = u
	}
	if len(c.Server.TrustedProxies) == 0 {
		c.Server.TrustedProxies = nil
	}
	if len(c.Clients) == 0 {
		c.Clients = nil
	}
	if len(c.Outbound.AllowedRanges) == 0 {
		c.Outbound.AllowedRanges = nil
	}
}

// annotate fills in FieldError.Source from where each key was set.
func annotate(err error, origins map[string]string) {
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else if err != nil {
		errs = []error{err}
	}
	for _, e := range errs {
		var fe *FieldError
		if !errors.As(e, &fe) || fe.Source != "" {
			continue
		}
		for key := fe.Key; key != ""; key = parentKey(key) {
			if src, ok := origins[key]; ok {
				fe.Source = src
				break
			}
		}
	}
}

// parentKey strips the last component from a dotted key
// ("clients[0].id" -> "clients[0]" -> "clients" -> "").
func parentKey(key string) string {
	i := strings.LastIndexAny(key, ".[")
	if i < 0 {
		return ""
	}
	return key[:i]
}

// decodeYAML checks the document for unknown keys and badly typed values,
// reporting them by dotted key and line, and then decodes it strictly into cfg.
func decodeYAML(cfg *Config, data []byte, path string, origins map[string]string) error {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // empty file: defaults only
		}
		return fmt.Errorf("config: %s: %w", path, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return fmt.Errorf("config: %s: must contain a single YAML document", path)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil
		}
		root = root.Content[0]
	}
	w := &yamlWalker{file: path, origins: origins}
	w.walk(root, reflect.TypeFor[Config](), "", false)
	if len(w.errs) > 0 {
		return errors.Join(w.errs...)
	}

	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	if err := strict.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("config: %s: %w", path, err)
	}
	return nil
}

// yamlWalker walks a YAML node tree alongside the Go type it decodes into.
type yamlWalker struct {
	file    string
	origins map[string]string
	errs    []error
}

func (w *yamlWalker) where(n *yaml.Node) string {
	return fmt.Sprintf("%s line %d", w.file, n.Line)
}

func (w *yamlWalker) walk(n *yaml.Node, t reflect.Type, path string, secret bool) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // null leaves the default in place
	}
	switch {
	case t.Kind() == reflect.Struct && !isDuration(t):
		if n.Kind != yaml.MappingNode {
			w.errs = append(w.errs, &FieldError{Key: orRoot(path), Source: w.where(n),
				Err: errors.New("must be a mapping of keys to values")})
			return
		}
		w.walkMapping(n, t, path, map[string]int{}, false)
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct:
		if n.Kind != yaml.SequenceNode {
			w.errs = append(w.errs, &FieldError{Key: path, Source: w.where(n),
				Err: errors.New("must be a list")})
			return
		}
		for i, item := range n.Content {
			key := fmt.Sprintf("%s[%d]", path, i)
			w.origins[key] = w.where(item)
			w.walk(item, t.Elem(), key, false)
		}
	default:
		v := reflect.New(t)
		if err := n.Decode(v.Interface()); err != nil {
			msg := "must be " + describeType(t)
			if !secret && n.Kind == yaml.ScalarNode {
				msg = fmt.Sprintf("%q is not valid; must be %s", n.Value, describeType(t))
			}
			w.errs = append(w.errs, &FieldError{Key: path, Source: w.where(n), Err: errors.New(msg)})
		}
	}
}

// walkMapping checks the keys of mapping n against struct type t. seen holds
// the keys set explicitly so far (for duplicate detection); keys pulled in by
// a YAML merge ("<<") may be overridden and are not recorded in it.
func (w *yamlWalker) walkMapping(n *yaml.Node, t reflect.Type, path string, seen map[string]int, merged bool) {
	fields := yamlFields(t)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Value == "<<" && k.Tag == "!!merge" {
			for v.Kind == yaml.AliasNode && v.Alias != nil {
				v = v.Alias
			}
			merged := []*yaml.Node{v}
			if v.Kind == yaml.SequenceNode {
				merged = v.Content
			}
			for _, m := range merged {
				for m.Kind == yaml.AliasNode && m.Alias != nil {
					m = m.Alias
				}
				if m.Kind == yaml.MappingNode {
					w.walkMapping(m, t, path, nil, true)
				}
			}
			continue
		}
		key := joinKey(path, k.Value)
		f, ok := fields[k.Value]
		if k.Kind != yaml.ScalarNode || !ok {
			msg := fmt.Errorf("config: %w %q (%s)", ErrUnknownKey, key, w.where(k))
			if s := suggest(k.Value, mapKeys(fields)); s != "" {
				msg = fmt.Errorf("%w; did you mean %q?", msg, joinKey(path, s))
			}
			w.errs = append(w.errs, msg)
			continue
		}
		if !merged {
			if first, dup := seen[k.Value]; dup {
				w.errs = append(w.errs, fmt.Errorf("config: duplicate key %q (%s; first set on line %d)", key, w.where(k), first))
				continue
			}
			seen[k.Value] = k.Line
		}
		if _, set := w.origins[key]; !set || !merged {
			w.origins[key] = w.where(k)
		}
		w.walk(v, f.Type, key, f.Tag.Get("secret") != "")
	}
}

func orRoot(path string) string {
	if path == "" {
		return "(top level)"
	}
	return path
}

func joinKey(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// yamlName returns the YAML key of a struct field ("" if it has none).
func yamlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" || !f.IsExported() {
		return ""
	}
	return name
}

// yamlFields maps the YAML keys of struct type t to their fields.
func yamlFields(t reflect.Type) map[string]reflect.StructField {
	fields := map[string]reflect.StructField{}
	for f := range t.Fields() {
		if name := yamlName(f); name != "" {
			fields[name] = f
		}
	}
	return fields
}

func mapKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}

// describeType says in words what values a Go type accepts.
func describeType(t reflect.Type) string {
	switch {
	case isDuration(t):
		return `a duration such as "90s", "15m" or "12h"`
	case t.Kind() == reflect.String:
		return "a string"
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64:
		return "a whole number"
	case t.Kind() >= reflect.Uint && t.Kind() <= reflect.Uint64:
		return fmt.Sprintf("a whole number from 0 to %d", uint64(1)<<t.Bits()-1)
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
		return "a list of strings"
	default:
		return "a " + t.String()
	}
}

// setting is one key that can be overridden from the environment.
type setting struct {
	key    string // dotted key, e.g. "server.listen"
	env    string // environment variable, e.g. "FRONTDESK_SERVER_LISTEN"
	index  []int  // field index path from Config
	typ    reflect.Type
	secret bool
	// fileOnly keys (tag env:"-") are refused from the environment.
	fileOnly bool
}

// settings lists every section key of Config, derived from the yaml tags so
// that new keys are picked up automatically. Top-level fields that are not
// sections (clients) are not included.
func settings() []setting {
	var out []setting
	for sec := range reflect.TypeFor[Config]().Fields() {
		secName := yamlName(sec)
		if secName == "" || sec.Type.Kind() != reflect.Struct {
			continue
		}
		for f := range sec.Type.Fields() {
			name := yamlName(f)
			if name == "" {
				continue
			}
			out = append(out, setting{
				key:      secName + "." + name,
				env:      EnvPrefix + strings.ToUpper(secName) + "_" + strings.ToUpper(name),
				index:    []int{sec.Index[0], f.Index[0]},
				typ:      f.Type,
				secret:   f.Tag.Get("secret") != "",
				fileOnly: f.Tag.Get("env") == "-",
			})
		}
	}
	return out
}

// applyEnv applies FRONTDESK_* overrides from env to cfg, recording where each
// key came from in origins.
func applyEnv(cfg *Config, env []string, origins map[string]string) error {
	byEnv := map[string]setting{}
	for _, s := range settings() {
		byEnv[s.env] = s
	}
	root := reflect.ValueOf(cfg).Elem()
	var errs []error
	for _, kv := range env {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, EnvPrefix) {
			continue
		}
		s, known := byEnv[name]
		if !known {
			err := fmt.Errorf("config: %w %s", ErrUnknownSetting, name)
			if strings.HasPrefix(name, EnvPrefix+"CLIENTS") {
				err = fmt.Errorf("%w; clients can only be configured in the config file", err)
			} else if sug := suggest(name, mapKeys(byEnv)); sug != "" {
				err = fmt.Errorf("%w; did you mean %s?", err, sug)
			}
			errs = append(errs, err)
			continue
		}
		if s.fileOnly {
			errs = append(errs, &FieldError{Key: s.key, Source: name,
				Err: errors.New("can only be set in the configuration file, not from the environment")})
			continue
		}
		if err := setFromString(root.FieldByIndex(s.index), value); err != nil {
			if s.secret {
				err = errors.New("invalid value")
			}
			errs = append(errs, &FieldError{Key: s.key, Source: name, Err: err})
			continue
		}
		origins[s.key] = name
	}
	return errors.Join(errs...)
}

// setFromString parses s according to v's type and stores it in v. Errors say
// what is allowed.
func setFromString(v reflect.Value, s string) error {
	t := v.Type()
	switch {
	case isDuration(t):
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("%q is not %s: %w", s, describeType(t), err)
		}
		v.SetInt(int64(d))
	case t.Kind() == reflect.String:
		v.SetString(s)
	case t.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("%q is not true or false: %w", s, numCause(err))
		}
		v.SetBool(b)
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, t.Bits())
		if err != nil {
			return fmt.Errorf("%q is not %s: %w", s, describeType(t), numCause(err))
		}
		v.SetInt(n)
	case t.Kind() >= reflect.Uint && t.Kind() <= reflect.Uint64:
		n, err := strconv.ParseUint(strings.TrimSpace(s), 10, t.Bits())
		if err != nil {
			return fmt.Errorf("%q is not %s: %w", s, describeType(t), numCause(err))
		}
		v.SetUint(n)
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
		var list []string
		for item := range strings.SplitSeq(s, ",") {
			if item = strings.TrimSpace(item); item != "" {
				list = append(list, item)
			}
		}
		v.Set(reflect.ValueOf(list).Convert(t))
	default:
		return fmt.Errorf("cannot be set from the environment (type %s)", t)
	}
	return nil
}

// numCause reduces a strconv error to its cause (strconv.ErrSyntax or
// strconv.ErrRange), which reads better after our own description.
func numCause(err error) error {
	if ne, ok := errors.AsType[*strconv.NumError](err); ok {
		return ne.Err
	}
	return err
}

// suggest returns the candidate closest to name if it is a plausible typo.
func suggest(name string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(name), strings.ToLower(c)); d < bestDist || d == bestDist && best != "" && c < best {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
