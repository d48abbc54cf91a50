package db_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/authgate/authgate/db/dbtest"
	"github.com/authgate/authgate/issue"
)

// TestDB_UnstorableValuesAreInvalid checks that what Postgres refuses to store
// from a client (NUL or invalid UTF-8 in text, \u0000 or a lone surrogate in
// jsonb, a number beyond numeric) is issue.ErrInvalid, which the API answers
// with a 400, not an unknown error answered with a 500.
func TestDB_UnstorableValuesAreInvalid(t *testing.T) {
	store, ctx := dbtest.New(t), context.Background()
	withMeta := func(meta string) func() error {
		e := audit(t0, "cli", "key.create", "key", "key_1")
		e.Metadata = json.RawMessage(meta)
		return func() error { return store.AuditInsert(ctx, e) }
	}
	tests := []struct {
		name string
		run  func() error
	}{
		{"NULInText", func() error { _, err := store.KeyByID(ctx, "key_\x00"); return err }},                      // 22021
		{"InvalidUTF8InText", func() error { _, err := store.KeyByID(ctx, "key_\xff"); return err }},              // 22021
		{"InvalidUTF8InInsert", func() error { return store.AuditInsert(ctx, audit(t0, "\xc3", "a", "b", "c")) }}, // 22021
		{"NULInJSONB", withMeta(`{"a":"\u0000"}`)},                                                                // 22P05
		{"LoneSurrogateInJSONB", withMeta(`{"a":"\ud800"}`)},                                                      // 22P02
		{"NumberBeyondNumeric", withMeta(`{"a":1e-99999}`)},                                                       // 22003
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run()
			if !errors.Is(err, issue.ErrInvalid) {
				t.Fatalf("got %v; want an issue.ErrInvalid (a 400)", err)
			}
		})
	}
	if rows, err := store.AuditList(ctx, issue.AuditFilter{Limit: 10}); err != nil || len(rows) != 0 {
		t.Fatalf("got %d rows, %v; want none stored", len(rows), err)
	}
}
