package config

import (
	"fmt"
	"log/slog"
	"net/url"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Redacted replaces secrets in String, GoString and LogValue output.
const Redacted = "[REDACTED]"

// String renders the configuration as YAML with secrets redacted. It has a
// value receiver so that printing a Config value (not only a pointer) is safe.
func (c Config) String() string {
	r := c.redacted()
	out, err := yaml.Marshal(&r)
	if err != nil {
		return fmt.Sprintf("config: cannot render: %v", err)
	}
	return string(out)
}

// GoString implements fmt.GoStringer so that %#v also redacts secrets.
func (c Config) GoString() string { return c.String() }

// LogValue implements slog.LogValuer: the configuration as nested groups
// with secrets redacted.
func (c Config) LogValue() slog.Value {
	r := c.redacted()
	return logValue(reflect.ValueOf(r))
}

// redacted returns a deep-enough copy of c with every field tagged
// secret:"true" replaced by Redacted (when set) and every field tagged
// secret:"url" stripped of passwords.
func (c Config) redacted() Config {
	redactValue(reflect.ValueOf(&c).Elem())
	return c
}

func redactValue(v reflect.Value) {
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			f, tag := v.Field(i), v.Type().Field(i).Tag.Get("secret")
			switch {
			case tag == "true" && f.Kind() == reflect.String && f.String() != "":
				f.SetString(Redacted)
			case tag == "url" && f.Kind() == reflect.String:
				f.SetString(redactURL(f.String()))
			default:
				redactValue(f)
			}
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() != reflect.Struct || v.Len() == 0 {
			return
		}
		// Copy before modifying so the caller's slice keeps its secrets.
		cp := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		reflect.Copy(cp, v)
		v.Set(cp)
		for i := range cp.Len() {
			redactValue(cp.Index(i))
		}
	}
}

// redactURL hides the password in a URL's user info and in password query
// parameters. Unparseable URLs are hidden entirely.
func redactURL(s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil {
		return Redacted
	}
	if u.Opaque != "" {
		return s // e.g. sqlite:PATH; no credentials
	}
	if q := u.Query(); len(q) > 0 {
		changed := false
		for k := range q {
			if strings.Contains(strings.ToLower(k), "password") {
				q.Set(k, Redacted)
				changed = true
			}
		}
		if changed {
			u.RawQuery = q.Encode()
		}
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), Redacted)
	}
	return u.String()
}

// logValue converts a (redacted) configuration value to a slog.Value.
func logValue(v reflect.Value) slog.Value {
	t := v.Type()
	switch {
	case isDuration(t):
		return slog.StringValue(v.Interface().(fmt.Stringer).String())
	case t.Kind() == reflect.Struct:
		attrs := make([]slog.Attr, 0, t.NumField())
		for i := range t.NumField() {
			if name := yamlName(t.Field(i)); name != "" {
				attrs = append(attrs, slog.Attr{Key: name, Value: logValue(v.Field(i))})
			}
		}
		return slog.GroupValue(attrs...)
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct:
		attrs := make([]slog.Attr, 0, v.Len())
		for i := range v.Len() {
			attrs = append(attrs, slog.Attr{Key: strconv.Itoa(i), Value: logValue(v.Index(i))})
		}
		return slog.GroupValue(attrs...)
	case t.Kind() == reflect.Slice:
		items := make([]string, v.Len())
		for i := range v.Len() {
			items[i] = fmt.Sprint(v.Index(i).Interface())
		}
		return slog.AnyValue(items)
	case t.Kind() == reflect.String:
		return slog.StringValue(v.String())
	case t.Kind() == reflect.Bool:
		return slog.BoolValue(v.Bool())
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64:
		return slog.Int64Value(v.Int())
	case t.Kind() >= reflect.Uint && t.Kind() <= reflect.Uint64:
		return slog.Uint64Value(v.Uint())
	default:
		return slog.AnyValue(v.Interface())
	}
}
