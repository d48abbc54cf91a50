package issue

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// MaxBodyLen caps every management request body.
const MaxBodyLen = 64 << 10

// decode reads r's JSON body into dst strictly: one object, no unknown fields,
// nothing after it, at most MaxBodyLen bytes. With optional set, an empty body
// is accepted and leaves dst as it is. Errors are *FieldError naming the problem.
func decode(r *http.Request, dst any, optional bool) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyLen+1))
	if err != nil {
		return invalid("", "the request body could not be read")
	}
	if len(body) > MaxBodyLen {
		return invalid("", fmt.Sprintf("the request body is larger than %d bytes", MaxBodyLen))
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if optional {
			return nil
		}
		return invalid("", "the request body is empty; send a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return invalid("", "unexpected data after the JSON object")
	}
	return nil
}

// jsonError turns encoding/json's errors into messages a client can act on.
func jsonError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return invalid("", fmt.Sprintf("malformed JSON at byte %d", syntax.Offset))
	case errors.As(err, &typ):
		if typ.Field == "" {
			return invalid("", "the request body must be a JSON object")
		}
		return invalid(typ.Field, "must be "+jsonKind(typ.Type.Kind().String()))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return invalid("", "the JSON body ends too early")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// encoding/json has no typed error for this one.
		return invalid(strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`), "unknown field")
	}
	// Errors from a field's own UnmarshalJSON (time.Time, say).
	return invalid("", "invalid JSON value: "+err.Error())
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "slice", "array":
		return "an array"
	case "int", "int16", "int32", "int64", "uint", "uint16", "uint32", "uint64":
		return "an integer"
	case "float32", "float64":
		return "a number"
	case "bool":
		return "true or false"
	case "struct", "map":
		return "an object"
	}
	return "of another type"
}
