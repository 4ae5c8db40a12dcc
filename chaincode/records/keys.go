package records

import (
	"strings"
	"unicode/utf8"
)

// Composite key object types of the records. The attributes are [id] for
// nodes, [name, version] for manifests and [name] for object heads.
const (
	NodeKeyType     = "dct.node"
	ManifestKeyType = "dct.manifest"
	ObjectKeyType   = "dct.object"
)

// Fabric's composite key encoding: a U+0000 namespace byte, then the object
// type and each attribute, each followed by U+0000.
const (
	keyNamespace = "\x00"
	keySeparator = "\x00"
)

// CompositeKey builds the ledger key of objectType and attributes with
// Fabric's composite key encoding, as shim.CreateCompositeKey does. Every
// part must be valid UTF-8 without U+0000 or U+10FFFF.
func CompositeKey(objectType string, attributes ...string) (string, error) {
	var b strings.Builder
	b.WriteString(keyNamespace)
	for i, part := range append([]string{objectType}, attributes...) {
		if !utf8.ValidString(part) {
			return "", invalidf("composite key part %d is not valid UTF-8", i)
		}
		if strings.ContainsRune(part, 0) || strings.ContainsRune(part, utf8.MaxRune) {
			return "", invalidf("composite key part %d contains U+0000 or U+10FFFF", i)
		}
		b.WriteString(part)
		b.WriteString(keySeparator)
	}
	return b.String(), nil
}

// SplitCompositeKey splits a key built by CompositeKey into its object type
// and attributes.
func SplitCompositeKey(key string) (string, []string, error) {
	rest, ok := strings.CutPrefix(key, keyNamespace)
	if !ok || !strings.HasSuffix(rest, keySeparator) || rest == keySeparator {
		return "", nil, invalidf("%s is not a composite key", quote(key))
	}
	parts := strings.Split(strings.TrimSuffix(rest, keySeparator), keySeparator)
	return parts[0], parts[1:], nil
}

// NodeKey returns the ledger key of a node, after checking the id.
func NodeKey(id string) (string, error) {
	if err := ValidateNodeID(id); err != nil {
		return "", err
	}
	return CompositeKey(NodeKeyType, id)
}

// ManifestKey returns the ledger key of a manifest, after checking the name
// and version.
func ManifestKey(name, version string) (string, error) {
	if err := ValidateObjectName(name); err != nil {
		return "", err
	}
	if err := ValidateVersion(version); err != nil {
		return "", err
	}
	return CompositeKey(ManifestKeyType, name, version)
}

// ObjectKey returns the ledger key of an object head, after checking the
// name.
func ObjectKey(name string) (string, error) {
	if err := ValidateObjectName(name); err != nil {
		return "", err
	}
	return CompositeKey(ObjectKeyType, name)
}
