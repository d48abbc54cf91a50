package issue

import (
	"encoding/json"
	"time"
)

// Actor is who asked for a change, and from where: every audit row records it.
type Actor struct {
	ID        string // key:<id>, user:<id>, cli, or anonymous
	IP        string
	UserAgent string
	RequestID string
}

// AuditEntry is one row of the audit log. Metadata never holds a secret.
type AuditEntry struct {
	ID           int64           `json:"id"`
	At           time.Time       `json:"at"`
	Actor        string          `json:"actor"`
	Action       string          `json:"action"` // key.create, user.login_failed, …
	ResourceType string          `json:"resource_type"`
	ResourceID   string          `json:"resource_id"`
	IP           string          `json:"ip"`
	UserAgent    string          `json:"user_agent"`
	RequestID    string          `json:"request_id"`
	Outcome      string          `json:"outcome"` // success or failure
	Metadata     json.RawMessage `json:"metadata"`
}

// Audit outcomes.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
)

// AuditFilter selects a page of audit rows, newest first. Empty fields match all.
type AuditFilter struct {
	Actor        string
	Action       string
	ResourceType string
	ResourceID   string
	Since, Until *time.Time
	AfterID      int64 // continue after this row (ids decrease down the page); 0 for the first page
	Limit        int
}
