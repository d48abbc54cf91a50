package db_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/authgate/authgate/db"
	"github.com/authgate/authgate/db/dbtest"
	"github.com/authgate/authgate/issue"
)

// newWithURL is dbtest.New that also returns the database's URL, for dbtest.Exec.
func newWithURL(t *testing.T) (*db.DB, string) {
	t.Helper()
	url, ctx := dbtest.URL(t), context.Background()
	store, err := db.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return store, url
}

// fatalRecorder is a testing.TB whose Fatal records instead of stopping the
// test, to see dbtest.Exec fail.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Helper()           {}
func (r *fatalRecorder) Fatal(args ...any) { r.msg = fmt.Sprint(args...) }

// execErr runs sql with dbtest.Exec and returns its failure, "" if none.
func execErr(t *testing.T, url, sql string) string {
	r := &fatalRecorder{TB: t}
	dbtest.Exec(r, url, sql)
	return r.msg
}

func audit(at time.Time, actor, action, resourceType, resourceID string) issue.AuditEntry {
	return issue.AuditEntry{At: at, Actor: actor, Action: issue.Action(action), ResourceType: resourceType, ResourceID: resourceID,
		IP: "192.0.2.1", UserAgent: "ua", RequestID: "req", Outcome: issue.OutcomeSuccess}
}

func TestDB_AuditInsertAndList(t *testing.T) {
	store, ctx := dbtest.New(t), context.Background()
	withMeta := audit(t0, "cli", "key.create", "key", "key_1")
	withMeta.Metadata = json.RawMessage(`{"name":"cam"}`)
	for _, e := range []issue.AuditEntry{withMeta, audit(t0, "cli", "key.revoke", "key", "key_1")} {
		if err := store.AuditInsert(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	bad := audit(t0, "cli", "x", "key", "")
	bad.Metadata = json.RawMessage(`[1]`)
	if err := store.AuditInsert(ctx, bad); !errors.Is(err, issue.ErrInvalid) {
		t.Errorf("AuditInsert(array metadata) err = %v; want ErrInvalid", err)
	}
	got, err := store.AuditList(ctx, issue.AuditFilter{Limit: 10})
	if err != nil || len(got) != 2 {
		t.Fatalf("AuditList = %+v, %v; want 2 rows", got, err)
	}
	e := got[1]
	if e.ID == 0 || !e.At.Equal(t0) || e.Actor != "cli" || e.Action != "key.create" || e.ResourceID != "key_1" ||
		e.IP != "192.0.2.1" || e.UserAgent != "ua" || e.RequestID != "req" || e.Outcome != issue.OutcomeSuccess ||
		string(e.Metadata) != `{"name": "cam"}` {
		t.Errorf("oldest row = %+v; want what was inserted", e)
	}
	if string(got[0].Metadata) != `{}` || got[0].ID <= e.ID {
		t.Errorf("newest row = id %d, metadata %s; want a larger id and {}", got[0].ID, got[0].Metadata)
	}
}

func TestDB_AuditListFiltersAndPages(t *testing.T) {
	store, ctx := dbtest.New(t), context.Background()
	entries := []issue.AuditEntry{
		audit(t0, "cli", "key.create", "key", "key_1"),
		audit(t0.Add(1*time.Minute), "user:u1", "user.login", "user", "u1"),
		audit(t0.Add(2*time.Minute), "user:u1", "key.revoke", "key", "key_1"),
		audit(t0.Add(3*time.Minute), "key:k9", "key.create", "key", "key_2"),
		audit(t0.Add(4*time.Minute), "cli", "user.create", "user", "u2"),
	}
	for _, e := range entries {
		if err := store.AuditInsert(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	all, _ := store.AuditList(ctx, issue.AuditFilter{Limit: 10})
	id := func(i int) int64 { return all[len(all)-1-i].ID } // id of entries[i]
	since, until := t0.Add(time.Minute), t0.Add(3*time.Minute)
	for _, tc := range []struct {
		name string
		f    issue.AuditFilter
		want []int // indexes into entries, newest first
	}{
		{"All", issue.AuditFilter{}, []int{4, 3, 2, 1, 0}},
		{"Actor", issue.AuditFilter{Actor: "cli"}, []int{4, 0}},
		{"Action", issue.AuditFilter{Action: "key.create"}, []int{3, 0}},
		{"Resource", issue.AuditFilter{ResourceType: "key", ResourceID: "key_1"}, []int{2, 0}},
		{"ResourceType", issue.AuditFilter{ResourceType: "user"}, []int{4, 1}},
		{"SinceInclusiveUntilExclusive", issue.AuditFilter{Since: &since, Until: &until}, []int{2, 1}},
		{"Combined", issue.AuditFilter{Actor: "user:u1", Action: "key.revoke"}, []int{2}},
		{"NoMatch", issue.AuditFilter{Actor: "nobody"}, nil},
		{"AfterID", issue.AuditFilter{AfterID: id(3)}, []int{2, 1, 0}},
		{"AfterIDWithFilter", issue.AuditFilter{AfterID: id(3), ResourceType: "key"}, []int{2, 0}},
		{"Limit", issue.AuditFilter{Limit: 2}, []int{4, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.f.Limit == 0 {
				tc.f.Limit = 10
			}
			rows, err := store.AuditList(ctx, tc.f)
			var got, want []int64
			for _, r := range rows {
				got = append(got, r.ID)
			}
			for _, i := range tc.want {
				want = append(want, id(i))
			}
			if err != nil || !slices.Equal(got, want) {
				t.Fatalf("AuditList ids = %v, %v; want %v", got, err, want)
			}
		})
	}
}

func TestDB_AuditIsAppendOnly(t *testing.T) {
	store, url := newWithURL(t)
	ctx := context.Background()
	for i := range 3 {
		if err := store.AuditInsert(ctx, audit(t0.Add(time.Duration(i)*time.Hour), "cli", "key.create", "key", "")); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ name, sql string }{
		{"Update", "UPDATE audit_log SET actor = 'someone else'"},
		{"Delete", "DELETE FROM audit_log"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if msg := execErr(t, url, tc.sql); msg == "" {
				t.Fatalf("%s succeeded; want it refused", tc.sql)
			}
		})
	}
	n, err := store.AuditPrune(ctx, t0.Add(90*time.Minute))
	if err != nil || n != 2 {
		t.Fatalf("AuditPrune = %d, %v; want 2", n, err)
	}
	left, _ := store.AuditList(ctx, issue.AuditFilter{Limit: 10})
	if len(left) != 1 || !left[0].At.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("after prune: %+v; want only the row at %v", left, t0.Add(2*time.Hour))
	}
	if msg := execErr(t, url, "DELETE FROM audit_log"); msg == "" {
		t.Fatal("DELETE after a prune succeeded; want it refused")
	}
}

func TestDB_AuditPruneInsideTransaction(t *testing.T) {
	store, ctx := dbtest.New(t), context.Background()
	store.AuditInsert(ctx, audit(t0, "cli", "key.create", "key", ""))
	var n int64
	err := store.InTx(ctx, func(tx issue.Store) error {
		if err := tx.AuditInsert(ctx, audit(t0.Add(time.Hour), "cli", "audit.prune", "audit", "")); err != nil {
			return err
		}
		var err error
		n, err = tx.AuditPrune(ctx, t0.Add(time.Minute))
		return err
	})
	if err != nil || n != 1 {
		t.Fatalf("AuditPrune in InTx = %d, %v; want 1", n, err)
	}
	if left, _ := store.AuditList(ctx, issue.AuditFilter{Limit: 10}); len(left) != 1 || left[0].Action != "audit.prune" {
		t.Fatalf("after prune: %+v; want only the audit.prune row", left)
	}
}
