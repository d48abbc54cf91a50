package db

import (
	"context"
	"fmt"
	"time"

	"github.com/authgate/authgate/db/internal/dbsqlc"
	"github.com/authgate/authgate/issue"
)

var _ issue.AuditStore = (*DB)(nil)

// AuditInsert implements issue.AuditStore. e.ID is assigned by the database;
// empty or null metadata is stored as {}.
func (db *DB) AuditInsert(ctx context.Context, e issue.AuditEntry) error {
	meta := []byte(e.Metadata)
	if len(meta) == 0 || string(meta) == "null" {
		meta = []byte(`{}`)
	}
	return interpretError(db.q.AuditInsert(ctx, dbsqlc.AuditInsertParams{
		At: e.At, Actor: e.Actor, Action: string(e.Action), ResourceType: e.ResourceType, ResourceID: e.ResourceID,
		IP: e.IP, UserAgent: e.UserAgent, RequestID: e.RequestID, Outcome: e.Outcome, Metadata: meta,
	}))
}

// AuditList implements issue.AuditStore: newest first (by id), with Since
// inclusive and Until exclusive.
func (db *DB) AuditList(ctx context.Context, f issue.AuditFilter) ([]issue.AuditEntry, error) {
	p := dbsqlc.AuditListParams{
		Actor: orNil(f.Actor), Action: orNil(string(f.Action)), ResourceType: orNil(f.ResourceType),
		ResourceID: orNil(f.ResourceID), Since: f.Since, Until: f.Until, MaxRows: int32(f.Limit),
	}
	if f.AfterID != 0 {
		p.AfterID = &f.AfterID
	}
	rows, err := db.q.AuditList(ctx, p)
	if err != nil {
		return nil, interpretError(err)
	}
	entries := make([]issue.AuditEntry, len(rows))
	for i, r := range rows {
		entries[i] = issue.AuditEntry{
			ID: r.ID, At: r.At, Actor: r.Actor, Action: issue.Action(r.Action), ResourceType: r.ResourceType,
			ResourceID: r.ResourceID, IP: r.IP, UserAgent: r.UserAgent, RequestID: r.RequestID,
			Outcome: r.Outcome, Metadata: r.Metadata,
		}
	}
	return entries, nil
}

// AuditPrune implements issue.AuditStore. The audit log refuses deletes unless
// the transaction sets authgate.audit_prune, so this runs in one: the caller's
// if it is inside InTx (and the permission is taken back before returning),
// else its own.
func (db *DB) AuditPrune(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := db.InTx(ctx, func(s issue.Store) error {
		tx := s.(*DB)
		if err := tx.q.AuditSetPruning(ctx, "on"); err != nil {
			return err
		}
		var err error
		if n, err = tx.q.AuditPrune(ctx, before); err != nil {
			return err
		}
		return tx.q.AuditSetPruning(ctx, "off")
	})
	if err != nil {
		return 0, fmt.Errorf("prune audit log: %w", interpretError(err))
	}
	return n, nil
}

// orNil returns nil for "", else a pointer to s: an empty filter matches all.
func orNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
