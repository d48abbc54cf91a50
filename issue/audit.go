package issue

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// AuditEntry is one row of the audit log. Metadata never holds a secret.
type AuditEntry struct {
	ID           int64
	At           time.Time
	Actor        string
	Action       Action
	ResourceType string // Action.ResourceType
	ResourceID   string
	IP           string
	UserAgent    string
	RequestID    string
	Outcome      string // OutcomeSuccess or OutcomeFailure
	Metadata     json.RawMessage
}

// Audit outcomes.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
)

// AuditFilter selects a page of audit rows, newest first. Empty fields match all.
type AuditFilter struct {
	Actor        string
	Action       Action // one of Actions, else ListAudit refuses
	ResourceType string
	ResourceID   string
	Since, Until *time.Time
	AfterID      int64 // continue after this row (ids decrease down the page); 0 for the first page
	Limit        int
}

// record appends one audit row through st, which should be the transaction of
// the change it records, so the row exists exactly when the change does.
// meta must never hold a secret or a password.
func (s *Service) record(ctx context.Context, st Store, by Actor, action Action, resourceID, outcome string, meta map[string]any) error {
	if err := appendAudit(ctx, st, s.now(), by, action, resourceID, outcome, meta); err != nil {
		return err
	}
	if s.opts.AuditObserver != nil {
		s.opts.AuditObserver.ObserveAudit(action, outcome)
	}
	return nil
}

// appendAudit is record for writers that are not the Service (the SigningKeys).
// Whatever bytes a client put in by or meta, the row is written: its text is
// made valid UTF-8 without control characters and cut to the bounds below,
// and each NUL in meta becomes U+FFFD, since Postgres refuses them in text and
// jsonb and a change must not fail because its audit row cannot be stored.
// The row's resource_type is the action's (Action.ResourceType).
func appendAudit(ctx context.Context, st AuditStore, at time.Time, by Actor, action Action, resourceID, outcome string, meta map[string]any) error {
	raw := json.RawMessage(`{}`)
	if len(meta) > 0 {
		b, err := json.Marshal(meta)
		if err != nil {
			return fmt.Errorf("audit %s: %w", action, err)
		}
		raw = nulFree(b)
	}
	err := st.AuditInsert(ctx, AuditEntry{
		At: at, Actor: auditText(by.ID, MaxParamLen), Action: action,
		ResourceType: action.ResourceType(), ResourceID: auditText(resourceID, MaxParamLen),
		IP: auditText(by.IP, maxAuditIPLen), UserAgent: CleanUserAgent(by.UserAgent),
		RequestID: auditText(by.RequestID, maxAuditRequestIDLen), Outcome: outcome, Metadata: raw,
	})
	if err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// Bounds of an audit row's client-supplied text, in bytes; ids and names are
// bounded by MaxParamLen, the user agent by CleanUserAgent.
const (
	maxAuditIPLen        = 64
	maxAuditRequestIDLen = 64
)

// auditText is s fit for an audit row: cleanText bounded to maxLen bytes.
func auditText(s string, maxLen int) string { return cleanText(s, maxLen, maxLen) }

// ListAudit returns a page of audit rows matching f, newest first, and the
// AfterID of the next page (0 on the last page). A zero f.Limit means
// DefaultAuditLimit. Returns a *FieldError (ErrInvalid) for a limit outside 1
// to MaxAuditLimit, a negative AfterID, or Until not after Since.
func (s *Service) ListAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, int64, error) {
	limit, err := pageLimit(f.Limit)
	if err != nil {
		return nil, 0, err
	}
	if f.Action != "" && !f.Action.Known() {
		names := make([]string, 0, len(actionTable))
		for _, a := range Actions() {
			names = append(names, string(a))
		}
		return nil, 0, invalid("action", "must be one of "+strings.Join(names, ", "))
	}
	if f.AfterID < 0 {
		return nil, 0, invalid("cursor", "is not a cursor this API returned")
	}
	if f.Since != nil && f.Until != nil && !f.Until.After(*f.Since) {
		return nil, 0, invalid("until", "must be after since")
	}
	f.Limit = limit + 1
	rows, err := s.store.AuditList(ctx, f)
	if err != nil {
		return nil, 0, fmt.Errorf("list audit log: %w", err)
	}
	rows, last := cutPage(rows, limit)
	if last == nil {
		return rows, 0, nil
	}
	return rows, last.ID, nil
}

// PruneAudit deletes the audit rows older than Options.AuditRetention and
// returns how many. When it deletes any, it records that it did (audit.prune),
// in the same transaction.
func (s *Service) PruneAudit(ctx context.Context) (int64, error) {
	now := s.now()
	before := now.Add(-s.opts.AuditRetention)
	var n int64
	err := s.store.InTx(ctx, func(tx Store) error {
		var err error
		if n, err = tx.AuditPrune(ctx, before); err != nil || n == 0 {
			return err
		}
		return appendAudit(ctx, tx, now, Actor{ID: ActorSystem}, ActionAuditPrune, "", OutcomeSuccess,
			map[string]any{"rows": n, "before": before})
	})
	if err != nil {
		return 0, fmt.Errorf("prune audit log: %w", err)
	}
	return n, nil
}

// ActorSystem is the actor of changes authgate makes by itself: the first
// signing key, retention prunes.
const ActorSystem = "system"

// RunPrune runs PruneAudit and PruneUsage now and then every interval (default an hour)
// until ctx ends; errors are logged, not fatal. Every instance may run it:
// prunes by different instances delete each row once.
func (s *Service) RunPrune(ctx context.Context, every time.Duration, log *slog.Logger) {
	if every <= 0 {
		every = time.Hour
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := s.PruneAudit(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("audit prune failed", "err", err.Error())
		case n > 0:
			log.Info("audit log pruned", "rows", n, "retention", s.opts.AuditRetention.String())
		}
		// The usage counts keep the audit log's retention.
		switch n, err := s.PruneUsage(ctx); {
		case err != nil && ctx.Err() == nil:
			log.Error("usage prune failed", "err", err.Error())
		case n > 0:
			log.Info("usage counts pruned", "rows", n, "retention", s.opts.AuditRetention.String())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
