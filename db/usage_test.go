package db_test

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/authgate/authgate/db/dbtest"
	"github.com/authgate/authgate/issue"
)

func TestDB_UsageAddAndList(t *testing.T) {
	store, ctx := dbtest.New(t), context.Background()
	h := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	batch := []issue.UsageCount{
		{CredentialID: "key_a", Hour: h, Count: 5},
		{CredentialID: "key_a", Hour: h, Reason: "wrong_secret", Count: 2},
		{CredentialID: "key_a", Hour: h.Add(time.Hour), Count: 1},
		{CredentialID: "tok_b", Hour: h, Reason: "expired", Count: 3},
	}
	for range 2 { // a second batch adds to the first
		if err := store.UsageAdd(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.UsageAdd(ctx, nil); err != nil {
		t.Errorf("UsageAdd(nil) = %v; want nil", err)
	}
	got, err := store.UsageList(ctx, "key_a", h, h.Add(24*time.Hour), 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []issue.UsageCount{
		{CredentialID: "key_a", Hour: h.Add(time.Hour), Count: 2},
		{CredentialID: "key_a", Hour: h, Count: 10},
		{CredentialID: "key_a", Hour: h, Reason: "wrong_secret", Count: 4},
	}
	if !slices.Equal(got, want) {
		t.Errorf("UsageList = %+v; want %+v", got, want)
	}

	// Bounded by hours, newest first; since inclusive, until exclusive.
	for _, c := range []struct {
		name         string
		since, until time.Time
		maxHours     int
		want         int
	}{
		{"NewestHourOnly", h, h.Add(24 * time.Hour), 1, 1},
		{"BothRowsOfAnHour", h, h.Add(time.Hour), 10, 2},
		{"SinceInclusive", h.Add(time.Hour), h.Add(24 * time.Hour), 10, 1},
		{"Empty", h.Add(2 * time.Hour), h.Add(24 * time.Hour), 10, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := store.UsageList(ctx, "key_a", c.since, c.until, c.maxHours)
			if err != nil || len(got) != c.want {
				t.Errorf("UsageList = %+v, %v; want %d rows", got, err, c.want)
			}
		})
	}

	totals, err := store.UsageTotals(ctx, []string{"key_a", "tok_b", "tok_none"}, h)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]issue.UsageTotal{"key_a": {Allowed: 12, Denied: 4}, "tok_b": {Denied: 6}}; !maps.Equal(totals, want) {
		t.Errorf("UsageTotals = %v; want %v", totals, want)
	}
}

func TestDB_UsageRefusesBadRows(t *testing.T) {
	store, ctx := dbtest.New(t), context.Background()
	h := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name string
		row  issue.UsageCount
	}{
		{"NotAWholeHour", issue.UsageCount{CredentialID: "key_a", Hour: h.Add(time.Minute), Count: 1}},
		{"ZeroCount", issue.UsageCount{CredentialID: "key_a", Hour: h, Count: 0}},
		{"NoCredential", issue.UsageCount{Hour: h, Count: 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := store.UsageAdd(ctx, []issue.UsageCount{c.row}); err == nil {
				t.Errorf("UsageAdd(%+v) = nil; want a refusal", c.row)
			}
		})
	}
	// A whole hour in another time zone is the same hour.
	ist := time.FixedZone("IST", 5*3600+1800)
	if err := store.UsageAdd(ctx, []issue.UsageCount{{CredentialID: "key_a", Hour: h.In(ist), Count: 1}}); err != nil {
		t.Errorf("UsageAdd(a whole hour written in +05:30) = %v; want nil", err)
	}
}

func TestDB_UsagePrune(t *testing.T) {
	store, ctx := dbtest.New(t), context.Background()
	h := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	if err := store.UsageAdd(ctx, []issue.UsageCount{
		{CredentialID: "key_a", Hour: h.Add(-2 * time.Hour), Count: 1},
		{CredentialID: "key_a", Hour: h.Add(-time.Hour), Reason: "revoked", Count: 1},
		{CredentialID: "key_a", Hour: h, Count: 1},
	}); err != nil {
		t.Fatal(err)
	}
	n, err := store.UsagePrune(ctx, h)
	if err != nil || n != 2 {
		t.Fatalf("UsagePrune = %d, %v; want 2 rows", n, err)
	}
	got, err := store.UsageList(ctx, "key_a", h.Add(-24*time.Hour), h.Add(time.Hour), 10)
	if err != nil || len(got) != 1 || !got[0].Hour.Equal(h) {
		t.Errorf("after the prune, UsageList = %+v, %v; want only %v", got, err, h)
	}
}
