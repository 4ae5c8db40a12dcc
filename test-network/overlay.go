package testnetwork

import (
	"fmt"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// overlayYAML merges overlay onto the YAML file at basePath and returns the
// result. Maps merge recursively, keys match case-insensitively (Fabric reads
// its configuration through viper, which ignores case) and keep the base's
// spelling; any other value in the overlay replaces the base's.
func overlayYAML(basePath string, overlay []byte) ([]byte, error) {
	baseBytes, err := os.ReadFile(basePath)
	if err != nil {
		return nil, err
	}
	var base, over map[string]any
	if err := yaml.Unmarshal(baseBytes, &base); err != nil {
		return nil, fmt.Errorf("parse %s: %w", basePath, err)
	}
	if err := yaml.Unmarshal(overlay, &over); err != nil {
		return nil, fmt.Errorf("parse overlay: %w", err)
	}
	if base == nil {
		base = map[string]any{}
	}
	mergeMaps(base, over)
	return yaml.Marshal(base)
}

func mergeMaps(dst, src map[string]any) {
	for k, v := range src {
		key := k
		for dk := range dst {
			if strings.EqualFold(dk, k) {
				key = dk
				break
			}
		}
		sm, sIsMap := v.(map[string]any)
		dm, dIsMap := dst[key].(map[string]any)
		if sIsMap && dIsMap {
			mergeMaps(dm, sm)
			continue
		}
		dst[key] = v
	}
}
