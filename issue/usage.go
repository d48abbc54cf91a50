package issue

import (
	"context"
	"fmt"
	"time"

	"github.com/authgate/authgate/verify"
)

// UsageCount is how many verify answers one credential got in one hour with
// one outcome: a row of the usage counts that the usage counter writes.
type UsageCount struct {
	CredentialID string    // an API key's id (key_…) or a personal token's (tok_…)
	Hour         time.Time // the start of the hour, UTC
	Reason       string    // verify.Reason's name for a deny (wrong_secret, …); "" for an allow
	Count        int64
}

// UsageStore keeps the usage counts.
type UsageStore interface {
	// UsageAdd adds counts to the stored ones, in one statement. No two counts
	// may share credential, hour and reason.
	UsageAdd(ctx context.Context, counts []UsageCount) error
	// UsageList returns the credential's counts in [since, until) for the
	// newest maxHours hours that have any, newest first.
	UsageList(ctx context.Context, credentialID string, since, until time.Time, maxHours int) ([]UsageCount, error)
	// UsageTotals returns the sum of each credential's allowed and denied
	// answers since since; a credential without any is absent.
	UsageTotals(ctx context.Context, credentialIDs []string, since time.Time) (map[string]UsageTotal, error)
	// UsagePrune deletes the counts of the hours before before and returns how many rows.
	UsagePrune(ctx context.Context, before time.Time) (int64, error)
}

// UsageHour is one hour of a credential's verify answers.
type UsageHour struct {
	Hour    time.Time        // the start of the hour, UTC
	Allowed int64            // answers that let the request through
	Denied  map[string]int64 // refusals by verify.Reason name; nil when none
}

// UsageTotal is a credential's allowed and denied answers over a span.
type UsageTotal struct {
	Allowed, Denied int64
}

// UsageRange selects the hours of a usage read. A zero Since means
// DefaultUsageSpan ago (or the retention, when shorter); a zero Until means no upper end.
type UsageRange struct {
	Since, Until time.Time
}

// Usage is a page of a credential's usage: the hours in the range that had
// any answer, newest first, at most MaxUsageHours of them.
type Usage struct {
	Since time.Time   // the range's start in force (the default filled in)
	Hours []UsageHour // newest first
	// Next is the Until that continues with older hours when the page was
	// cut at MaxUsageHours; nil otherwise.
	Next *time.Time
}

// Bounds of a usage read.
const (
	DefaultUsageSpan = 7 * 24 * time.Hour
	MaxUsageHours    = 31 * 24
)

// KeyUsage returns the usage of API key id in r (keys:read, like Key).
// Returns a *NotFoundError (verify.ErrNotFound) if no key has this id, and a
// *FieldError (ErrInvalid) for a range starting before the retention
// (Options.AuditRetention) or ending before it starts.
func (s *Service) KeyUsage(ctx context.Context, id string, r UsageRange) (Usage, error) {
	if _, err := s.store.KeyByID(ctx, id); err != nil {
		return Usage{}, fmt.Errorf("usage of key %s: %w", id, missing(err, "key", id))
	}
	u, err := s.usage(ctx, id, r)
	if err != nil {
		return Usage{}, fmt.Errorf("usage of key %s: %w", id, err)
	}
	return u, nil
}

// TokenUsage returns the usage of personal token tokenID of user userID in r.
// The route decides who may read it (the owner, or users:read), as for
// ListTokens. Returns verify.ErrNotFound if the user has no such token
// (another user's token is as if it did not exist), and a *FieldError as
// KeyUsage does.
func (s *Service) TokenUsage(ctx context.Context, userID, tokenID string, r UsageRange) (Usage, error) {
	t, err := s.store.PersonalTokenByID(ctx, tokenID)
	if err == nil && t.UserID != userID {
		err = verify.ErrNotFound
	}
	if err != nil {
		return Usage{}, fmt.Errorf("usage of token %s: %w", tokenID, missing(err, "token", tokenID))
	}
	u, err := s.usage(ctx, tokenID, r)
	if err != nil {
		return Usage{}, fmt.Errorf("usage of token %s: %w", tokenID, err)
	}
	return u, nil
}

// TokenUsageTotals returns, for each personal token of user userID that was
// presented since since, its allowed and denied answers since then, by token
// id: what the account page shows beside each token. Returns
// verify.ErrNotFound if the user does not exist.
func (s *Service) TokenUsageTotals(ctx context.Context, userID string, since time.Time) (map[string]UsageTotal, error) {
	tokens, err := s.ListTokens(ctx, userID)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(tokens))
	for i, t := range tokens {
		ids[i] = t.ID
	}
	totals, err := s.store.UsageTotals(ctx, ids, since)
	if err != nil {
		return nil, fmt.Errorf("usage of the tokens of user %s: %w", userID, err)
	}
	return totals, nil
}

func (s *Service) usage(ctx context.Context, id string, r UsageRange) (Usage, error) {
	now := s.now()
	if r.Since.IsZero() {
		r.Since = now.Add(-min(DefaultUsageSpan, s.opts.AuditRetention))
	}
	// Counts are kept per hour: the hour holding since is counted whole.
	r.Since = r.Since.UTC().Truncate(time.Hour)
	if r.Since.Before(now.Add(-s.opts.AuditRetention).Truncate(time.Hour)) {
		return Usage{}, invalid("since", fmt.Sprintf("must be within the retention of %s", s.opts.AuditRetention))
	}
	if r.Until.IsZero() {
		r.Until = now.Add(time.Hour) // the hour under way starts before now
	} else if !r.Until.After(r.Since) {
		return Usage{}, invalid("until", "must be after since")
	}
	rows, err := s.store.UsageList(ctx, id, r.Since, r.Until, MaxUsageHours+1)
	if err != nil {
		return Usage{}, err
	}
	u := Usage{Since: r.Since, Hours: hoursOf(rows)}
	if len(u.Hours) > MaxUsageHours {
		u.Hours = u.Hours[:MaxUsageHours]
		next := u.Hours[MaxUsageHours-1].Hour
		u.Next = &next
	}
	return u, nil
}

// hoursOf groups rows, newest hour first, by hour.
func hoursOf(rows []UsageCount) []UsageHour {
	var out []UsageHour
	for _, r := range rows {
		if n := len(out); n == 0 || !out[n-1].Hour.Equal(r.Hour) {
			out = append(out, UsageHour{Hour: r.Hour.UTC()})
		}
		h := &out[len(out)-1]
		if r.Reason == "" {
			h.Allowed += r.Count
			continue
		}
		if h.Denied == nil {
			h.Denied = make(map[string]int64)
		}
		h.Denied[r.Reason] += r.Count
	}
	return out
}

// PruneUsage deletes the usage counts of the hours older than
// Options.AuditRetention (the audit log's retention) and returns how many
// rows. RunPrune runs it with PruneAudit.
func (s *Service) PruneUsage(ctx context.Context) (int64, error) {
	n, err := s.store.UsagePrune(ctx, s.now().Add(-s.opts.AuditRetention))
	if err != nil {
		return 0, fmt.Errorf("prune usage counts: %w", err)
	}
	return n, nil
}
