package issue

import (
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// pageParams reads the paging parameters of a list route, limit (default 50;
// the service checks its range) and cursor, refusing a query string that does
// not parse and any query parameter other than those and extra.
func pageParams(c echo.Context, extra ...string) (after *Cursor, limit int, err error) {
	q, err := queryParams(c)
	if err != nil {
		return nil, 0, err
	}
	for name := range q {
		if name != "limit" && name != "cursor" && !slices.Contains(extra, name) {
			return nil, 0, invalid(name, "unknown query parameter; use "+strings.Join(append(extra, "limit", "cursor"), ", "))
		}
	}
	limit = 50
	if s := q.Get("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil {
			return nil, 0, invalid("limit", "must be an integer")
		}
	}
	if s := q.Get("cursor"); s != "" {
		cur, err := decodeCursor(s)
		if err != nil {
			return nil, 0, err
		}
		after = &cur
	}
	return after, limit, nil
}

func encodeCursor(c Cursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.CreatedAt.UnixMicro(), 10) + "." + c.ID))
}

// Bounds of a cursor: ids are about 20 bytes, and times lie where Go's time
// and Postgres' timestamptz agree (years 1 to 9999, in Unix microseconds).
const (
	maxCursorIDLen = 64
	minCursorTime  = -62135596800_000000
	maxCursorTime  = 253402300799_999999
)

// decodeCursor reverses encodeCursor. Returns a *FieldError (ErrInvalid) for
// anything encodeCursor cannot have made: bad base64, a time outside years 1
// to 9999, an id that is not 1 to maxCursorIDLen bytes of visible ASCII.
func decodeCursor(s string) (Cursor, error) {
	bad := invalid("cursor", "is not a cursor this API returned")
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, bad
	}
	ts, id, ok := strings.Cut(string(b), ".")
	micros, err := strconv.ParseInt(ts, 10, 64)
	if !ok || err != nil || micros < minCursorTime || micros > maxCursorTime || !visibleASCII(id, maxCursorIDLen) {
		return Cursor{}, bad
	}
	return Cursor{CreatedAt: time.UnixMicro(micros).UTC(), ID: id}, nil
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
