package issue

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Input from clients reaches Postgres only through these checks, or through a
// field's own stricter rule: Postgres refuses NUL and invalid UTF-8 in text,
// \u0000 and lone surrogates in jsonb, and numbers beyond numeric's range,
// and a refusal there would be a 500 for what is the client's mistake.

// MaxMetadataDepth bounds the nesting of a key's metadata: the object itself
// is depth 1, each object or array inside it one more.
const MaxMetadataDepth = 8

// MaxParamLen bounds a path parameter and a text filter: every id and name
// authgate stores is shorter.
const MaxParamLen = 200

// PlainText reports whether s is valid UTF-8 of at most maxLen bytes without
// control characters (Unicode Cc: C0, DEL and C1).
func PlainText(s string, maxLen int) bool {
	return len(s) <= maxLen && utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl)
}

// cleanText returns s as valid UTF-8 (each run of bad bytes becomes U+FFFD)
// without control characters, cut on a character boundary to at most
// maxRunes characters and maxBytes bytes. It never fails: it is for text that
// must be stored whatever the client sent, such as audit rows.
func cleanText(s string, maxRunes, maxBytes int) string {
	if len(s) <= min(maxRunes, maxBytes) && PlainText(s, maxBytes) {
		return s
	}
	var b strings.Builder
	n := 0
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if unicode.IsControl(r) {
			continue
		}
		if n == maxRunes || b.Len()+utf8.RuneLen(r) > maxBytes {
			break
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// CleanUserAgent returns a client's User-Agent fit to store: valid UTF-8,
// without control characters, at most maxUserAgentLen (512) characters.
func CleanUserAgent(s string) string { return cleanText(s, maxUserAgentLen, 4*maxUserAgentLen) }

// validMetadata checks a key's metadata and returns it re-encoded canonically
// (no insignificant space, keys sorted, duplicate keys resolved to the last,
// strings in UTF-8), "{}" when raw is empty. It accepts only a JSON object of
// at most MaxMetadataLen bytes, valid UTF-8, nested at most MaxMetadataDepth
// deep, without NUL (\u0000 included) or a lone UTF-16 surrogate escape in any
// string or key, and whose numbers are finite as a float64 with an exponent of
// at most three digits, so that Postgres' jsonb stores it as it is. Errors are
// a *FieldError (ErrInvalid) for field metadata.
func validMetadata(raw json.RawMessage) (json.RawMessage, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return json.RawMessage(`{}`), nil
	}
	if len(raw) > MaxMetadataLen {
		return nil, invalid("metadata", fmt.Sprintf("must be at most %d bytes of JSON", MaxMetadataLen))
	}
	if !utf8.Valid(raw) {
		return nil, invalid("metadata", "must be UTF-8 text")
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if !json.Valid(raw) || d.Decode(&v) != nil {
		return nil, invalid("metadata", "must be a JSON object")
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, invalid("metadata", "must be a JSON object")
	}
	if err := lonelySurrogate(raw); err != nil {
		return nil, err
	}
	if err := storable(v, 1); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, invalid("metadata", "cannot be encoded: "+err.Error())
	}
	if out.Len()-1 > MaxMetadataLen {
		return nil, invalid("metadata", fmt.Sprintf("must be at most %d bytes of JSON", MaxMetadataLen))
	}
	return bytes.TrimSuffix(out.Bytes(), []byte("\n")), nil
}

// storable checks a decoded metadata value at depth (the top object is 1).
func storable(v any, depth int) error {
	switch v := v.(type) {
	case map[string]any:
		if depth > MaxMetadataDepth {
			return invalid("metadata", fmt.Sprintf("must be nested at most %d deep", MaxMetadataDepth))
		}
		for k, e := range v {
			if strings.ContainsRune(k, 0) {
				return invalid("metadata", `must not hold a NUL character (\u0000)`)
			}
			if err := storable(e, depth+1); err != nil {
				return err
			}
		}
	case []any:
		if depth > MaxMetadataDepth {
			return invalid("metadata", fmt.Sprintf("must be nested at most %d deep", MaxMetadataDepth))
		}
		for _, e := range v {
			if err := storable(e, depth+1); err != nil {
				return err
			}
		}
	case string:
		if strings.ContainsRune(v, 0) {
			return invalid("metadata", `must not hold a NUL character (\u0000)`)
		}
	case json.Number:
		_, err := strconv.ParseFloat(string(v), 64)
		if _, exp, _ := strings.Cut(strings.ToLower(string(v)), "e"); err != nil || len(strings.TrimLeft(exp, "+-")) > 3 {
			return invalid("metadata", fmt.Sprintf("number %.20s is out of range", v))
		}
	}
	return nil
}

// lonelySurrogate refuses a \uD800-\uDFFF escape that is not a high surrogate
// followed by a low one, which encoding/json would quietly turn into U+FFFD.
// raw is valid JSON, so every backslash in it starts an escape in a string.
func lonelySurrogate(raw []byte) error {
	bad := invalid("metadata", `must not hold a lone UTF-16 surrogate escape (\uD800 to \uDFFF)`)
	surrogate := func(i int) rune { // the escape \uXXXX at raw[i:], or -1
		if i+6 > len(raw) || raw[i] != '\\' || raw[i+1] != 'u' {
			return -1
		}
		r, err := strconv.ParseUint(string(raw[i+2:i+6]), 16, 16)
		if err != nil || r < 0xD800 || r > 0xDFFF {
			return -1
		}
		return rune(r)
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		switch r := surrogate(i); {
		case r >= 0xDC00: // a low surrogate with no high one before it
			return bad
		case r >= 0xD800:
			if next := surrogate(i + 6); next < 0xDC00 {
				return bad
			}
			i += 11
		default:
			i++ // the escaped character, which may be a backslash
		}
	}
	return nil
}

// nulFree replaces each \u0000 escape in b, JSON as encoding/json writes it,
// with \ufffd: jsonb refuses NUL, and an audit row must not fail on the bytes
// a client chose. An escaped backslash followed by u0000 is left as it is.
func nulFree(b []byte) []byte {
	if !bytes.Contains(b, []byte(`\u0000`)) {
		return b
	}
	out := bytes.Clone(b)
	for i := 0; i+1 < len(out); i++ {
		if out[i] != '\\' {
			continue
		}
		if bytes.HasPrefix(out[i:], []byte(`\u0000`)) {
			copy(out[i:], `\ufffd`)
		}
		i++ // skip the escaped character
	}
	return out
}
