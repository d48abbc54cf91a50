package issue

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
)

type auditPage struct {
	Entries    []AuditEntry `json:"entries"`
	NextCursor *string      `json:"next_cursor"`
}

var auditParams = map[string]bool{"actor": true, "action": true, "resource_type": true, "resource_id": true,
	"since": true, "until": true, "cursor": true, "limit": true}

// listAudit serves GET /v1/audit: rows newest first, filtered by exact actor,
// action, resource_type and resource_id, and by time (since ≤ at < until). A
// query string that does not parse is a 400, never a page without the filter.
func (a *API) listAudit(c echo.Context) error {
	q, err := queryParams(c)
	if err != nil {
		return err
	}
	for name, vs := range q {
		if !auditParams[name] {
			return invalid(name, "unknown query parameter; use actor, action, resource_type, resource_id, since, until, cursor and limit")
		}
		if len(vs) > 1 {
			return invalid(name, "must be given once")
		}
	}
	for _, name := range []string{"actor", "action", "resource_type", "resource_id"} {
		if !plainText(q.Get(name), maxParamLen) {
			return invalid(name, fmt.Sprintf("must be UTF-8 text without control characters, at most %d bytes", maxParamLen))
		}
	}
	f := AuditFilter{Actor: q.Get("actor"), Action: q.Get("action"), ResourceType: q.Get("resource_type"),
		ResourceID: q.Get("resource_id")}
	if f.Since, err = queryTime(q.Get("since"), "since"); err != nil {
		return err
	}
	if f.Until, err = queryTime(q.Get("until"), "until"); err != nil {
		return err
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxAuditLimit {
			return invalid("limit", "must be an integer between 1 and "+strconv.Itoa(MaxAuditLimit))
		}
		f.Limit = n
	}
	if s := q.Get("cursor"); s != "" {
		if f.AfterID, err = decodeAuditCursor(s); err != nil {
			return err
		}
	}
	entries, next, err := a.svc.ListAudit(c.Request().Context(), f)
	if err != nil {
		return err
	}
	page := auditPage{Entries: entries}
	if page.Entries == nil {
		page.Entries = []AuditEntry{}
	}
	if next != 0 {
		s := base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(next, 10)))
		page.NextCursor = &s
	}
	return c.JSON(http.StatusOK, page)
}

func queryTime(s, name string) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil, invalid(name, "must be an RFC 3339 time such as 2030-01-01T00:00:00Z")
	}
	return &t, nil
}

func decodeAuditCursor(s string) (int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		if id, err := strconv.ParseInt(string(b), 10, 64); err == nil && id > 0 {
			return id, nil
		}
	}
	return 0, invalid("cursor", "is not a cursor this API returned")
}
