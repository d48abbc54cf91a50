package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/verify"
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

// invalid is a *issue.FieldError: a 400 naming field.
func invalid(field, msg string) error { return &issue.FieldError{Field: field, Msg: msg} }

// noBody accepts an empty body or {} and refuses anything else.
func noBody(c echo.Context) error {
	var empty struct{}
	return decode(c.Request(), &empty, true)
}

// rawObject keeps a JSON value as it came, for fields stored verbatim.
type rawObject struct{ raw []byte }

func (o *rawObject) UnmarshalJSON(b []byte) error {
	o.raw = append([]byte(nil), b...)
	return nil
}

// pathParam returns path parameter name, percent-decoded: Echo leaves parameters
// as sent when the path has escapes, and clients may encode the colon of a
// permission. A bad escape leaves the value as sent, which matches nothing.
func pathParam(c echo.Context, name string) string {
	v := c.Param(name)
	if u, err := url.PathUnescape(v); err == nil {
		return u
	}
	return v
}

// noStore keeps credentials in an answer out of every cache (RFC 6749 5.1).
func noStore(c echo.Context) {
	h := c.Response().Header()
	h.Set(echo.HeaderCacheControl, "no-store")
	h.Set("Pragma", "no-cache")
}

// validPathParams answers verify.ErrNotFound (404) when a path parameter of
// the matched route is a value no resource can have: invalid UTF-8, a control
// character, or more than issue.MaxParamLen bytes, as sent or percent-decoded (Echo
// leaves a parameter as sent when the path holds escapes). Ids then reach the
// store only as text Postgres accepts.
func validPathParams(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		for _, v := range c.ParamValues() {
			if !issue.PlainText(v, issue.MaxParamLen) {
				return verify.ErrNotFound
			}
			if u, err := url.PathUnescape(v); err == nil && !issue.PlainText(u, issue.MaxParamLen) {
				return verify.ErrNotFound
			}
		}
		return next(c)
	}
}

// queryParams returns the request's query parameters, or a *FieldError
// (ErrInvalid) naming the first pair that cannot be parsed: a ';' separator or
// a bad percent-escape. Echo's QueryParams drops such pairs silently, which
// turns a filter the client asked for into no filter at all.
func queryParams(c echo.Context) (url.Values, error) {
	raw := c.QueryString()
	q, err := url.ParseQuery(raw)
	if err == nil {
		return q, nil
	}
	bad := func(name, msg string) error {
		if name == "" {
			return invalid("", "a query parameter "+msg)
		}
		return invalid(name, msg)
	}
	for pair := range strings.SplitSeq(raw, "&") {
		key, _, _ := strings.Cut(pair, "=")
		key, _, _ = strings.Cut(key, ";")
		name, nameErr := url.QueryUnescape(key)
		if nameErr != nil || !issue.PlainText(name, issue.MaxParamLen) {
			name = ""
		}
		switch _, valueErr := url.QueryUnescape(pair); {
		case strings.Contains(pair, ";"):
			return nil, bad(name, "holds a ';': separate parameters with '&', and send a ';' as %3B")
		case nameErr != nil || valueErr != nil:
			return nil, bad(name, "has a bad percent-escape: send a '%' as %25")
		}
	}
	return nil, invalid("", "the query string cannot be parsed: "+err.Error())
}
