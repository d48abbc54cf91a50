package db

import (
	"context"
	"time"

	"github.com/authgate/authgate/db/internal/dbsqlc"
	"github.com/authgate/authgate/issue"
)

var _ issue.UsageStore = (*DB)(nil)

// The outcome column's values.
const (
	usageAllow = "allow"
	usageDeny  = "deny"
)

// UsageAdd implements issue.UsageStore: one statement for the batch. A count
// with a Reason is a deny, else an allow.
func (db *DB) UsageAdd(ctx context.Context, counts []issue.UsageCount) error {
	if len(counts) == 0 {
		return nil
	}
	p := dbsqlc.UsageAddParams{
		CredentialIds: make([]string, len(counts)), Hours: make([]time.Time, len(counts)),
		Outcomes: make([]string, len(counts)), Reasons: make([]string, len(counts)), Counts: make([]int64, len(counts)),
	}
	for i, c := range counts {
		p.CredentialIds[i], p.Hours[i], p.Reasons[i], p.Counts[i] = c.CredentialID, c.Hour, c.Reason, c.Count
		p.Outcomes[i] = usageAllow
		if c.Reason != "" {
			p.Outcomes[i] = usageDeny
		}
	}
	return interpretError(db.q.UsageAdd(ctx, p))
}

// UsageList implements issue.UsageStore.
func (db *DB) UsageList(ctx context.Context, credentialID string, since, until time.Time, maxHours int) ([]issue.UsageCount, error) {
	rows, err := db.q.UsageList(ctx, dbsqlc.UsageListParams{CredentialID: credentialID, Since: since, Until: until,
		MaxHours: int32(maxHours)})
	if err != nil {
		return nil, interpretError(err)
	}
	out := make([]issue.UsageCount, len(rows))
	for i, r := range rows {
		out[i] = issue.UsageCount{CredentialID: credentialID, Hour: r.Hour.UTC(), Reason: r.Reason, Count: r.Count}
	}
	return out, nil
}

// UsageTotals implements issue.UsageStore.
func (db *DB) UsageTotals(ctx context.Context, credentialIDs []string, since time.Time) (map[string]issue.UsageTotal, error) {
	rows, err := db.q.UsageTotals(ctx, dbsqlc.UsageTotalsParams{CredentialIds: credentialIDs, Since: since})
	if err != nil {
		return nil, interpretError(err)
	}
	out := make(map[string]issue.UsageTotal, len(rows))
	for _, r := range rows {
		out[r.CredentialID] = issue.UsageTotal{Allowed: r.Allowed, Denied: r.Denied}
	}
	return out, nil
}

// UsagePrune implements issue.UsageStore.
func (db *DB) UsagePrune(ctx context.Context, before time.Time) (int64, error) {
	n, err := db.q.UsagePrune(ctx, before)
	return n, interpretError(err)
}
