package records

import (
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Patterns of the identifiers used in records. They are anchored and ASCII
// only, so a valid identifier is also a valid composite key attribute.
const (
	NodeIDPattern     = `^[a-z0-9][a-z0-9-]{0,62}$`
	ZonePattern       = `^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`
	ObjectNamePattern = `^[A-Za-z0-9][A-Za-z0-9._~/-]{0,254}$`
	VersionPattern    = `^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`
	SchemePattern     = `^[a-z0-9][a-z0-9._/-]{0,63}$`
)

// Limits on free-text and numeric fields.
const (
	MaxReasonLength      = 512 // characters of a purge or deactivation reason
	MaxContentTypeLength = 255 // bytes of a manifest content type
	MaxMSPIDLength       = 128 // bytes of an MSP ID
	MaxPublicKeyLength   = 4096
	MaxK                 = 128 // data shards
	MaxM                 = 128 // parity shards
	MaxShards            = 256 // k+m
	// MaxObjectBytes bounds a manifest's size (1 TiB), MaxStripeUnit its
	// stripe unit (64 MiB) and MaxShardBytes each shard: what a gateway or
	// agent may be asked to hold or stream for one object is bounded by the
	// ledger, whatever a publisher declares.
	MaxObjectBytes = 1 << 40
	MaxStripeUnit  = 64 << 20
	MaxShardBytes  = 1 << 40
)

var (
	nodeIDRe     = regexp.MustCompile(NodeIDPattern)
	zoneRe       = regexp.MustCompile(ZonePattern)
	objectNameRe = regexp.MustCompile(ObjectNamePattern)
	versionRe    = regexp.MustCompile(VersionPattern)
	schemeRe     = regexp.MustCompile(SchemePattern)
	sha256HexRe  = regexp.MustCompile(`^[0-9a-f]{64}$`)
	hostLabelRe  = regexp.MustCompile(`^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$`)
)

// TimestampLayout is the layout of every timestamp in records: RFC 3339 with
// nanoseconds, always in UTC.
const TimestampLayout = time.RFC3339Nano

// FormatTimestamp formats t in UTC with TimestampLayout.
func FormatTimestamp(t time.Time) string {
	return t.UTC().Format(TimestampLayout)
}

// ValidateNodeID checks a node id against NodeIDPattern.
func ValidateNodeID(id string) error {
	return matchField("id", id, nodeIDRe, NodeIDPattern)
}

// ValidateObjectName checks an object name: ObjectNamePattern, and no empty,
// "." or ".." path segment (so no "//" and no trailing "/").
func ValidateObjectName(name string) error {
	if err := matchField("name", name, objectNameRe, ObjectNamePattern); err != nil {
		return err
	}
	for seg := range strings.SplitSeq(name, "/") {
		switch seg {
		case "":
			return invalidf("name %s must not contain an empty path segment (\"//\" or a trailing \"/\")", quote(name))
		case ".", "..":
			return invalidf("name %s must not contain a %q path segment", quote(name), seg)
		}
	}
	return nil
}

// ValidateVersion checks an object version against VersionPattern.
func ValidateVersion(version string) error {
	return matchField("version", version, versionRe, VersionPattern)
}

// ValidateMSPID checks that id looks like an MSP ID: 1 to MaxMSPIDLength
// printable, non-space characters.
func ValidateMSPID(field, id string) error {
	if id == "" {
		return invalidf("%s must not be empty", field)
	}
	if len(id) > MaxMSPIDLength {
		return invalidf("%s must be at most %d bytes", field, MaxMSPIDLength)
	}
	if !utf8.ValidString(id) {
		return invalidf("%s must be valid UTF-8", field)
	}
	for _, r := range id {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return invalidf("%s %s must not contain spaces or control characters", field, quote(id))
		}
	}
	return nil
}

// ValidatePurgeReason checks a purge reason: 1 to MaxReasonLength characters
// of single-line text.
func ValidatePurgeReason(reason string) error {
	return validatePurgeReason("reason", reason)
}

func validatePurgeReason(field, reason string) error {
	if strings.TrimSpace(reason) == "" {
		return invalidf("%s must not be empty", field)
	}
	return validateText(field, reason)
}

// ValidateDeactivationReason checks an optional node deactivation reason: at
// most MaxReasonLength characters of single-line text.
func ValidateDeactivationReason(reason string) error {
	if reason == "" {
		return nil
	}
	return validateText("deactivationReason", reason)
}

func validateText(field, s string) error {
	if !utf8.ValidString(s) {
		return invalidf("%s must be valid UTF-8", field)
	}
	if n := utf8.RuneCountInString(s); n > MaxReasonLength {
		return invalidf("%s must be at most %d characters, got %d", field, MaxReasonLength, n)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return invalidf("%s must be a single line without control characters", field)
		}
	}
	return nil
}

// ValidateEndpoint checks a "host:port" endpoint: the host is an IP address
// or a DNS name (underscores tolerated), the port is 1..65535.
func ValidateEndpoint(endpoint string) error {
	host, port, err := net.SplitHostPort(endpoint)
	if err != nil {
		return invalidf("endpoint %s must be host:port", quote(endpoint))
	}
	if host == "" {
		return invalidf("endpoint %s must name a host", quote(endpoint))
	}
	if net.ParseIP(host) == nil && !validHostname(host) {
		return invalidf("endpoint %s has an invalid host", quote(endpoint))
	}
	if !allDigits(port) {
		return invalidf("endpoint %s must have a numeric port", quote(endpoint))
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return invalidf("endpoint %s port must be in 1..65535", quote(endpoint))
	}
	return nil
}

func validHostname(host string) bool {
	host = strings.TrimSuffix(host, ".")
	if host == "" || len(host) > 253 {
		return false
	}
	for label := range strings.SplitSeq(host, ".") {
		if !hostLabelRe.MatchString(label) {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	if s == "" || len(s) > 5 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func matchField(field, value string, re *regexp.Regexp, pattern string) error {
	if value == "" {
		return invalidf("%s must not be empty", field)
	}
	if !re.MatchString(value) {
		return invalidf("%s %s must match %s", field, quote(value), pattern)
	}
	return nil
}

func validateSHA256Hex(field, value string) error {
	if !sha256HexRe.MatchString(value) {
		return invalidf("%s must be a SHA-256 digest as 64 lowercase hex characters, got %s", field, quote(value))
	}
	return nil
}

// quote renders a caller supplied value for an error message: quoted, and cut
// to 64 characters so that messages stay short.
func quote(s string) string {
	const maxRunes = 64
	if utf8.RuneCountInString(s) > maxRunes {
		r := []rune(s)
		return strconv.Quote(string(r[:maxRunes])) + "..."
	}
	return strconv.Quote(s)
}
