package settings

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// all holds one setting of every type.
type all struct {
	S  string
	B  bool
	I  int
	I6 int64
	F  float64
	D  time.Duration
	L  []string
}

func defaults() all {
	return all{S: "def", B: true, I: 1, I6: 2, F: 3.5, D: time.Second, L: []string{"a", "b"}}
}

// parse registers every setting of v, parses args and applies env.
func parse(t *testing.T, env map[string]string, args ...string) (all, error) {
	t.Helper()
	v := defaults()
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	s := New(fs, "DCT_T_", WithLookupEnv(func(k string) (string, bool) { x, ok := env[k]; return x, ok }))
	s.String(&v.S, "str", "a string")
	s.Bool(&v.B, "flag", "a bool")
	s.Int(&v.I, "int", "an int")
	s.Int64(&v.I6, "big-int", "an int64")
	s.Float64(&v.F, "float", "a float")
	s.Duration(&v.D, "dur", "a duration")
	s.StringList(&v.L, "list", "a list")
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return v, s.Apply()
}

func TestPrecedence(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want func(v *all)
	}{
		{"defaults", nil, nil, func(v *all) {}},
		{"env", map[string]string{
			"DCT_T_STR": "e", "DCT_T_FLAG": "false", "DCT_T_INT": "7", "DCT_T_BIG_INT": "1099511627776",
			"DCT_T_FLOAT": "-1.25", "DCT_T_DUR": "1m30s", "DCT_T_LIST": " x, ,y ",
		}, nil, func(v *all) {
			*v = all{S: "e", B: false, I: 7, I6: 1 << 40, F: -1.25, D: 90 * time.Second, L: []string{"x", "y"}}
		}},
		{"flags win over env", map[string]string{
			"DCT_T_STR": "e", "DCT_T_FLAG": "false", "DCT_T_INT": "7", "DCT_T_DUR": "1m", "DCT_T_LIST": "x",
		}, []string{"--str", "f", "--flag", "--int", "9", "--dur", "2s", "--list", "p"}, func(v *all) {
			v.S, v.B, v.I, v.D, v.L = "f", true, 9, 2*time.Second, []string{"p"}
		}},
		{"empty env is unset", map[string]string{"DCT_T_STR": "", "DCT_T_INT": ""}, nil, func(v *all) {}},
		{"other prefix ignored", map[string]string{"DCT_STR": "x", "STR": "y"}, nil, func(v *all) {}},
		{"repeated and comma list flags", nil, []string{"--list", "p,q", "--list", " r ", "--list", ""}, func(v *all) {
			v.L = []string{"p", "q", "r"}
		}},
		{"explicit flag equal to default still wins", map[string]string{"DCT_T_STR": "e"}, []string{"--str", "def"}, func(v *all) {}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parse(t, tc.env, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			want := defaults()
			tc.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got %+v, want %+v", got, want)
			}
		})
	}
}

func TestMalformedEnv(t *testing.T) {
	tests := []struct{ env, value, want string }{
		{"DCT_T_FLAG", "yes please", `DCT_T_FLAG="yes please": want true or false`},
		{"DCT_T_INT", "3.5", `DCT_T_INT="3.5": want an integer such as 3`},
		{"DCT_T_BIG_INT", "1GiB", `DCT_T_BIG_INT="1GiB": want an integer such as 1048576`},
		{"DCT_T_FLOAT", "north", `DCT_T_FLOAT="north": want a number such as 48.85`},
		{"DCT_T_DUR", "5x", `DCT_T_DUR="5x": want a duration such as 1.5s`},
		{"DCT_T_DUR", "5", `DCT_T_DUR="5": want a duration such as 1.5s`},
	}
	for _, tc := range tests {
		t.Run(tc.env+"="+tc.value, func(t *testing.T) {
			_, err := parse(t, map[string]string{tc.env: tc.value})
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Apply: %v, want ErrMalformed with %q", err, tc.want)
			}
		})
	}
	t.Run("explicit flag hides a malformed variable", func(t *testing.T) {
		if _, err := parse(t, map[string]string{"DCT_T_DUR": "5x"}, "--dur", "1s"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("every malformed variable is reported, good ones applied", func(t *testing.T) {
		v, err := parse(t, map[string]string{"DCT_T_INT": "x", "DCT_T_DUR": "y", "DCT_T_STR": "ok"})
		if err == nil || !strings.Contains(err.Error(), "DCT_T_INT") || !strings.Contains(err.Error(), "DCT_T_DUR") || v.S != "ok" {
			t.Fatalf("Apply: %v (string %q)", err, v.S)
		}
	})
}

func TestEnvNameAndUsage(t *testing.T) {
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	s := New(fs, "DCT_AGENT_")
	var d time.Duration
	s.Duration(&d, "register-timeout", "how long")
	if got := s.EnvName("register-timeout"); got != "DCT_AGENT_REGISTER_TIMEOUT" {
		t.Fatalf("EnvName: %q", got)
	}
	if u := fs.Lookup("register-timeout").Usage; !strings.Contains(u, "(DCT_AGENT_REGISTER_TIMEOUT)") {
		t.Fatalf("usage %q does not name the variable", u)
	}
}

func TestRealEnvironment(t *testing.T) {
	t.Setenv("DCT_T_X", "from-env")
	var x string
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	s := New(fs, "DCT_T_")
	s.String(&x, "x", "x")
	if err := s.Apply(); err != nil || x != "from-env" {
		t.Fatalf("x %q, err %v", x, err)
	}
}

func TestSplitList(t *testing.T) {
	for in, want := range map[string][]string{"": nil, " , ": nil, "a": {"a"}, " a ,b,, c": {"a", "b", "c"}} {
		if got := SplitList(in); !reflect.DeepEqual(got, want) {
			t.Errorf("SplitList(%q) = %q, want %q", in, got, want)
		}
	}
}
