package api

import (
	"encoding/base64"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/authgate/authgate/issue"
)

// list is xs for a JSON answer: an empty list is [], never null.
func list[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}

// listOf converts each domain value with conv, for a JSON answer ([] when empty).
func listOf[T, W any](xs []T, conv func(T) W) []W {
	out := make([]W, len(xs))
	for i, x := range xs {
		out[i] = conv(x)
	}
	return out
}

// pageParams reads the paging parameters of a list route, limit (an integer
// from 1 to issue.MaxPageLimit; 0, the service's default, when absent) and
// cursor (as the raw string, decoded by the caller), refusing a query string
// that does not parse and any query parameter other than those and extra.
func pageParams(c echo.Context, extra ...string) (q url.Values, limit int, cursor string, err error) {
	values, err := queryParams(c)
	if err != nil {
		return nil, 0, "", err
	}
	allowed := append(slices.Clone(extra), "limit", "cursor")
	for name := range values {
		if !slices.Contains(allowed, name) {
			return nil, 0, "", invalid(name, "unknown query parameter; use "+strings.Join(allowed, ", "))
		}
	}
	if s := values.Get("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil {
			return nil, 0, "", invalid("limit", "must be an integer")
		}
		if limit < 1 || limit > issue.MaxPageLimit {
			return nil, 0, "", invalid("limit", "must be between 1 and "+strconv.Itoa(issue.MaxPageLimit))
		}
	}
	return values, limit, values.Get("cursor"), nil
}

// nextCursor is the next_cursor of a page: nil on the last one.
func nextCursor(c *issue.Cursor) *string {
	if c == nil {
		return nil
	}
	s := base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.CreatedAt.UnixMicro(), 10) + "." + c.ID))
	return &s
}

// Bounds of a cursor: ids are about 20 bytes, and times lie where Go's time
// and Postgres' timestamptz agree (years 1 to 9999, in Unix microseconds).
const (
	maxCursorIDLen = 64
	minCursorTime  = -62135596800_000000
	maxCursorTime  = 253402300799_999999
)

func errBadCursor() error { return invalid("cursor", "is not a cursor this API returned") }

// afterCursor reverses nextCursor: nil for "". Returns a *issue.FieldError for
// anything nextCursor cannot have made: bad base64, a time outside years 1 to
// 9999, an id that is not 1 to maxCursorIDLen bytes of visible ASCII.
func afterCursor(s string) (*issue.Cursor, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, errBadCursor()
	}
	ts, id, ok := strings.Cut(string(b), ".")
	micros, err := strconv.ParseInt(ts, 10, 64)
	if !ok || err != nil || micros < minCursorTime || micros > maxCursorTime || !visibleASCII(id, maxCursorIDLen) {
		return nil, errBadCursor()
	}
	return &issue.Cursor{CreatedAt: time.UnixMicro(micros).UTC(), ID: id}, nil
}

// nextAuditCursor is the next_cursor of an audit page, whose rows are ordered
// by id: nil on the last page (id 0).
func nextAuditCursor(id int64) *string {
	if id == 0 {
		return nil
	}
	s := base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(id, 10)))
	return &s
}

// afterAuditID reverses nextAuditCursor: 0 for "".
func afterAuditID(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		if id, err := strconv.ParseInt(string(b), 10, 64); err == nil && id > 0 {
			return id, nil
		}
	}
	return 0, errBadCursor()
}

// visibleASCII reports whether s is 1 to maxLen bytes of printable ASCII
// other than space.
func visibleASCII(s string, maxLen int) bool {
	if s == "" || len(s) > maxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
