// Package settings is the one reader of command-line flags and environment
// variables shared by every DCT binary.
//
// A Set binds typed settings (string, bool, int, int64, float64, duration
// and string list) to a pflag.FlagSet and to an environment variable named
// <prefix><FLAG> (upper case, '-' as '_'): with prefix "DCT_", --repair-interval
// is also DCT_REPAIR_INTERVAL. Precedence is explicit flag, then environment,
// then the default the bound variable held. Call Apply after parsing the
// flags: it reads the environment for every setting not given as a flag and
// returns an error, wrapping ErrMalformed, for each malformed value, naming
// the variable and the form wanted:
//
//	DCT_REPAIR_INTERVAL="5x": want a duration such as 1.5s
//
// An empty variable counts as unset. String lists take comma-separated
// values in the environment and repeated or comma-separated flags; blanks
// around items and empty items are dropped.
//
// The package depends on pflag only, so every binary (the operator CLI
// included) may use it without linking anything else.
package settings
