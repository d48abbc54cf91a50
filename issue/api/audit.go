package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/authgate/authgate/issue"
)

// AuditEntry is one row of the audit log as the API shows it.
type AuditEntry struct {
	ID           int64           `json:"id"`
	At           time.Time       `json:"at"`
	Actor        string          `json:"actor"`
	Action       string          `json:"action"` // one of issue.Actions
	ResourceType string          `json:"resource_type"`
	ResourceID   string          `json:"resource_id"`
	IP           string          `json:"ip"`
	UserAgent    string          `json:"user_agent"`
	RequestID    string          `json:"request_id"`
	Outcome      string          `json:"outcome"` // success or failure
	Metadata     json.RawMessage `json:"metadata"`
}

func auditEntryOf(e issue.AuditEntry) AuditEntry {
	return AuditEntry{ID: e.ID, At: e.At, Actor: e.Actor, Action: string(e.Action), ResourceType: e.ResourceType,
		ResourceID: e.ResourceID, IP: e.IP, UserAgent: e.UserAgent, RequestID: e.RequestID, Outcome: e.Outcome,
		Metadata: e.Metadata}
}

// AuditPage is a page of audit rows, newest first.
type AuditPage struct {
	Entries    []AuditEntry `json:"entries"`
	NextCursor *string      `json:"next_cursor"`
}

// auditFilters are the query parameters of GET /v1/audit besides paging.
var auditFilters = []string{"actor", "action", "resource_type", "resource_id", "since", "until"}

// listAudit serves GET /v1/audit: rows newest first, filtered by exact actor,
// action (one of issue.Actions, else a 400 naming them), resource_type and resource_id, and by time
// (since ≤ at < until). A query string that does not parse is a 400, never a
// page without the filter.
func (a *API) listAudit(c echo.Context) error {
	q, limit, cursor, err := pageParams(c, auditFilters...)
	if err != nil {
		return err
	}
	for name, vs := range q {
		if len(vs) > 1 {
			return invalid(name, "must be given once")
		}
	}
	for _, name := range []string{"actor", "action", "resource_type", "resource_id"} {
		if !issue.PlainText(q.Get(name), issue.MaxParamLen) {
			return invalid(name, fmt.Sprintf("must be UTF-8 text without control characters, at most %d bytes", issue.MaxParamLen))
		}
	}
	f := issue.AuditFilter{Actor: q.Get("actor"), Action: issue.Action(q.Get("action")),
		ResourceType: q.Get("resource_type"), ResourceID: q.Get("resource_id"), Limit: limit}
	if f.Since, err = queryTime(q.Get("since"), "since"); err != nil {
		return err
	}
	if f.Until, err = queryTime(q.Get("until"), "until"); err != nil {
		return err
	}
	if f.AfterID, err = afterAuditID(cursor); err != nil {
		return err
	}
	entries, next, err := a.svc.ListAudit(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, AuditPage{Entries: listOf(entries, auditEntryOf), NextCursor: nextAuditCursor(next)})
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
