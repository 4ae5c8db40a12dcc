package content

import (
	"encoding/base64"
	"errors"
)

func decodeSalt(s string) ([]byte, error) {
	if s == "" {
		return nil, errors.New("manifest has no key salt")
	}
	return base64.StdEncoding.DecodeString(s)
}
