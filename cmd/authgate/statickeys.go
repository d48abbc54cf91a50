package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/authgate/authgate/verify"
)

// parseStaticKeys reads AUTHGATE_STATIC_KEYS: a JSON array, whose entries are
// keys or {"key", "name", "scopes"} objects, or a comma-separated list of keys
// (seed 000's API_KEYS). Errors name the entry by position, never the key.
func parseStaticKeys(raw string) ([]verify.StaticKey, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, nil
	}
	if !strings.HasPrefix(raw, "[") {
		var keys []verify.StaticKey
		for i, k := range strings.Split(raw, ",") {
			k = strings.TrimSpace(k)
			if k == "" {
				return nil, fmt.Errorf("AUTHGATE_STATIC_KEYS entry %d is empty; separate keys with single commas", i+1)
			}
			keys = append(keys, verify.StaticKey{Key: k})
		}
		return keys, nil
	}
	var entries []json.RawMessage
	if err := json.Unmarshal([]byte(raw), &entries); err != nil {
		return nil, fmt.Errorf("AUTHGATE_STATIC_KEYS is not a valid JSON array (%v); write [\"key1\", {\"key\": \"key2\", \"name\": \"kiosk\", \"scopes\": [\"events:read\"]}] or key1,key2", jsonProblem(err))
	}
	keys := make([]verify.StaticKey, 0, len(entries))
	for i, e := range entries {
		var k verify.StaticKey
		var s string
		if json.Unmarshal(e, &s) == nil {
			k.Key = s
		} else {
			var obj struct {
				Key    string   `json:"key"`
				Name   string   `json:"name"`
				Scopes []string `json:"scopes"`
			}
			dec := json.NewDecoder(strings.NewReader(string(e)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&obj); err != nil {
				return nil, fmt.Errorf("AUTHGATE_STATIC_KEYS entry %d must be a string or an object with key, name and scopes (%v)", i+1, jsonProblem(err))
			}
			k = verify.StaticKey{Key: obj.Key, Name: obj.Name, Scopes: obj.Scopes}
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// jsonProblem describes a JSON error without quoting the input, which may hold a key.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("%s where %s was expected", te.Value, te.Type)
	}
	if strings.HasPrefix(err.Error(), "json: unknown field") {
		return err.Error() // names the field, not a value
	}
	return "malformed JSON"
}
