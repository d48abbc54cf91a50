package issue

import "fmt"

// Pages of every list: DefaultPageLimit rows unless asked, at most MaxPageLimit.
const (
	DefaultPageLimit = 50
	MaxPageLimit     = 200
)

// Audit pages follow the same bounds.
const (
	DefaultAuditLimit = DefaultPageLimit
	MaxAuditLimit     = MaxPageLimit
)

// pageLimit returns the number of rows a page asks for: DefaultPageLimit for
// 0, else limit itself. Returns a *FieldError for a limit outside 1 to
// MaxPageLimit.
func pageLimit(limit int) (int, error) {
	if limit == 0 {
		return DefaultPageLimit, nil
	}
	if limit < 1 || limit > MaxPageLimit {
		return 0, invalid("limit", fmt.Sprintf("must be between 1 and %d", MaxPageLimit))
	}
	return limit, nil
}

// cutPage cuts rows, fetched with one more than limit, to limit and returns
// the last row kept when there is a next page. Lists fetch limit+1 rows so
// that the extra one tells whether another page follows.
func cutPage[T any](rows []T, limit int) (page []T, last *T) {
	if len(rows) <= limit {
		return rows, nil
	}
	rows = rows[:limit]
	return rows, &rows[limit-1]
}
