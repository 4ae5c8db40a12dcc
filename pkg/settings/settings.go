package settings

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// ErrMalformed marks an environment variable whose value does not parse as
// its setting's type.
var ErrMalformed = errors.New("malformed setting")

// Set binds settings to flags of one FlagSet and to environment variables
// with one prefix.
type Set struct {
	fs       *pflag.FlagSet
	prefix   string
	lookup   func(string) (string, bool)
	bindings []binding
}

// binding is one setting: its flag and how to parse its variable.
type binding struct {
	flag  string
	parse func(string) error
	// want describes the accepted form in errors ("a duration such as 1.5s").
	want string
}

// Option configures a Set.
type Option func(*Set)

// WithLookupEnv replaces os.LookupEnv (for tests and embedding).
func WithLookupEnv(lookup func(string) (string, bool)) Option {
	return func(s *Set) { s.lookup = lookup }
}

// New returns a Set registering flags on fs whose variables start with
// prefix (for example "DCT_" or "DCT_AGENT_").
func New(fs *pflag.FlagSet, prefix string, opts ...Option) *Set {
	s := &Set{fs: fs, prefix: prefix, lookup: os.LookupEnv}
	for _, o := range opts {
		o(s)
	}
	return s
}

// FlagSet is the flag set settings are registered on.
func (s *Set) FlagSet() *pflag.FlagSet { return s.fs }

// EnvName is the environment variable of a flag: the prefix and the flag
// name in upper case with '-' as '_'.
func (s *Set) EnvName(flag string) string {
	return s.prefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

func (s *Set) usage(flag, usage string) string {
	return usage + " (" + s.EnvName(flag) + ")"
}

func (s *Set) bind(flag, want string, parse func(string) error) {
	s.bindings = append(s.bindings, binding{flag: flag, parse: parse, want: want})
}

// String binds a string setting; p holds the default.
func (s *Set) String(p *string, flag, usage string) {
	s.fs.StringVar(p, flag, *p, s.usage(flag, usage))
	s.bind(flag, "", func(v string) error { *p = v; return nil })
}

// Bool binds a boolean setting; p holds the default.
func (s *Set) Bool(p *bool, flag, usage string) {
	s.fs.BoolVar(p, flag, *p, s.usage(flag, usage))
	s.bind(flag, "true or false", func(v string) (err error) { *p, err = strconv.ParseBool(v); return })
}

// Int binds an int setting; p holds the default.
func (s *Set) Int(p *int, flag, usage string) {
	s.fs.IntVar(p, flag, *p, s.usage(flag, usage))
	s.bind(flag, "an integer such as 3", func(v string) (err error) { *p, err = strconv.Atoi(v); return })
}

// Int64 binds an int64 setting; p holds the default.
func (s *Set) Int64(p *int64, flag, usage string) {
	s.fs.Int64Var(p, flag, *p, s.usage(flag, usage))
	s.bind(flag, "an integer such as 1048576", func(v string) (err error) { *p, err = strconv.ParseInt(v, 10, 64); return })
}

// Float64 binds a float64 setting; p holds the default.
func (s *Set) Float64(p *float64, flag, usage string) {
	s.fs.Float64Var(p, flag, *p, s.usage(flag, usage))
	s.bind(flag, "a number such as 48.85", func(v string) (err error) { *p, err = strconv.ParseFloat(v, 64); return })
}

// Duration binds a duration setting; p holds the default.
func (s *Set) Duration(p *time.Duration, flag, usage string) {
	s.fs.DurationVar(p, flag, *p, s.usage(flag, usage))
	s.bind(flag, "a duration such as 1.5s", func(v string) (err error) { *p, err = time.ParseDuration(v); return })
}

// StringList binds a list setting; p holds the default. The flag may be
// repeated and each value may hold comma-separated items; the first flag
// replaces the default. The variable is comma-separated.
func (s *Set) StringList(p *[]string, flag, usage string) {
	s.fs.Var(&listValue{p: p}, flag, s.usage(flag, usage+" (comma-separated or repeated)"))
	s.bind(flag, "", func(v string) error { *p = SplitList(v); return nil })
}

// Apply reads the environment variable of every setting whose flag was not
// given on the command line. It returns every malformed value, each
// wrapping ErrMalformed; the well-formed ones are applied regardless.
func (s *Set) Apply() error {
	var errs []error
	for _, b := range s.bindings {
		if f := s.fs.Lookup(b.flag); f != nil && f.Changed {
			continue
		}
		name := s.EnvName(b.flag)
		v, ok := s.lookup(name)
		if !ok || v == "" {
			continue
		}
		if err := b.parse(v); err != nil {
			errs = append(errs, fmt.Errorf("%w: %s=%q: want %s", ErrMalformed, name, v, b.want))
		}
	}
	return errors.Join(errs...)
}

// SplitList splits a comma-separated list, trimming blanks and dropping
// empty items.
func SplitList(v string) []string {
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// listValue is a pflag.Value of a string list.
type listValue struct {
	p       *[]string
	changed bool
}

func (l *listValue) Set(v string) error {
	if !l.changed {
		*l.p, l.changed = nil, true
	}
	*l.p = append(*l.p, SplitList(v)...)
	return nil
}

func (l *listValue) Type() string { return "strings" }

func (l *listValue) String() string {
	if l.p == nil {
		return ""
	}
	return strings.Join(*l.p, ",")
}
