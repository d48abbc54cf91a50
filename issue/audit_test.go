package issue_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/verify"
)

// assertNoSecrets fails if any audit row holds any of secrets, in any encoding
// a careless writer might use.
func assertNoSecrets(t *testing.T, rows []issue.AuditEntry, secrets ...[]byte) {
	t.Helper()
	for _, r := range rows {
		text := must(json.Marshal(r))(t)
		for _, s := range secrets {
			for _, enc := range []string{string(s), hex.EncodeToString(s), base64.StdEncoding.EncodeToString(s),
				base64.RawURLEncoding.EncodeToString(s)} {
				if strings.Contains(string(text), enc) {
					t.Fatalf("audit row %s holds a secret", text)
				}
			}
		}
	}
}
func TestService_KeyChangesAreAudited(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	by := issue.Actor{ID: "key:key_admin", IP: "192.0.2.7", UserAgent: "curl/8", RequestID: "req-42", Authority: issue.AllAuthority()}
	k, err := b.svc.CreateKey(ctx, issue.KeyRequest{Name: "cam", Scopes: []string{"cameras:stream"}}, by)
	if err != nil {
		t.Fatal(err)
	}
	b.now = b.now.Add(time.Minute)
	nk := must(b.svc.RotateKey(ctx, k.ID, 10*time.Minute, by))(t)
	for _, disabled := range []bool{true, true, false, false} { // the repeats change nothing: no rows
		must(b.svc.SetKeyDisabled(ctx, nk.ID, disabled, by))(t)
	}
	must(b.svc.RevokeKey(ctx, nk.ID, by))(t)
	must(b.svc.RevokeKey(ctx, nk.ID, by))(t)
	if _, err := b.svc.RotateKey(ctx, nk.ID, 0, by); !errors.Is(err, issue.ErrConflict) { // refused: no row
		t.Fatalf("rotating a revoked key: %v; want ErrConflict", err)
	}
	ks := b.signingKeys(t, verify.AlgES256, hsSecret)
	if err := ks.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	first := must(b.store.SigningKeyList(ctx, b.now))(t)[0]
	rot := must(ks.Rotate(ctx, by))(t)

	rows := b.audit(t)
	want := []struct{ actor, action, typ, id string }{
		{by.ID, "key.create", "key", k.ID},
		{by.ID, "key.rotate", "key", k.ID},
		{by.ID, "key.disable", "key", nk.ID},
		{by.ID, "key.enable", "key", nk.ID},
		{by.ID, "key.revoke", "key", nk.ID},
		{issue.ActorSystem, "signing_key.create", "signing_key", first.KID},
		{by.ID, "signing_key.rotate", "signing_key", rot.KID},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d audit rows; want %d: %+v", len(rows), len(want), rows)
	}
	for i, w := range want {
		r := rows[i]
		if r.Actor != w.actor || string(r.Action) != w.action || r.ResourceType != w.typ || r.ResourceID != w.id || r.Outcome != issue.OutcomeSuccess {
			t.Errorf("row %d = %s %s %s/%s %s; want %+v", i, r.Actor, r.Action, r.ResourceType, r.ResourceID, r.Outcome, w)
		}
		if w.actor == by.ID && (r.IP != by.IP || r.UserAgent != by.UserAgent || r.RequestID != by.RequestID) {
			t.Errorf("row %d (%s) does not carry where the request came from: %+v", i, r.Action, r)
		}
	}
	meta := func(i int) map[string]any {
		var m map[string]any
		if err := json.Unmarshal(rows[i].Metadata, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	if m := meta(0); m["name"] != "cam" || m["prefix"] != k.Prefix {
		t.Errorf("key.create metadata = %v", m)
	}
	if m := meta(1); m["new_key_id"] != nk.ID || m["grace_seconds"] != float64(600) {
		t.Errorf("key.rotate metadata = %v; want the new key id and grace_seconds 600", m)
	}
	if m := meta(6); m["kid"] != rot.KID || len(m["retiring"].([]any)) != 1 || m["retiring"].([]any)[0] != first.KID {
		t.Errorf("signing_key.rotate metadata = %v; want the new kid and the old one retiring", m)
	}

	secrets := [][]byte{[]byte(k.Secret), []byte(nk.Secret), []byte(k.Secret[len(k.Prefix):]), []byte(nk.Secret[len(nk.Prefix):]), hsSecret}
	for _, row := range must(b.store.SigningKeyList(ctx, b.now))(t) {
		secrets = append(secrets, row.PrivateKey)
	}
	assertNoSecrets(t, rows, secrets...)
}

func TestService_ListAuditRefusesBadFilters(t *testing.T) {
	b := setup(t)
	later := t0.Add(time.Hour)
	tests := []struct {
		name  string
		f     issue.AuditFilter
		field string
	}{
		{"NegativeLimit", issue.AuditFilter{Limit: -1}, "limit"},
		{"LimitTooLarge", issue.AuditFilter{Limit: issue.MaxAuditLimit + 1}, "limit"},
		{"NegativeCursor", issue.AuditFilter{AfterID: -1}, "cursor"},
		{"UntilBeforeSince", issue.AuditFilter{Since: &later, Until: &t0}, "until"},
		{"UntilEqualsSince", issue.AuditFilter{Since: &t0, Until: &t0}, "until"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := b.svc.ListAudit(context.Background(), tt.f)
			var fe *issue.FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field {
				t.Fatalf("err = %v; want a FieldError on %s", err, tt.field)
			}
		})
	}
}

func TestService_PruneAudit(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	cutoff := t0.Add(-b.svc.Options().AuditRetention)
	b.now = cutoff.Add(-time.Second)
	old := must(b.svc.CreateKey(ctx, issue.KeyRequest{Name: "old"}, issue.Actor{ID: "test", Authority: issue.AllAuthority()}))(t)
	b.now = cutoff.Add(time.Second)
	kept := must(b.svc.CreateKey(ctx, issue.KeyRequest{Name: "kept"}, issue.Actor{ID: "test", Authority: issue.AllAuthority()}))(t)
	b.now = t0

	if n, err := b.svc.PruneAudit(ctx); err != nil || n != 1 {
		t.Fatalf("PruneAudit = %d, %v; want 1 row", n, err)
	}
	rows := b.audit(t)
	if len(rows) != 2 || rows[0].ResourceID != kept.ID || rows[1].Action != "audit.prune" || rows[1].Actor != issue.ActorSystem {
		t.Fatalf("after the prune: %+v; want %s's row and the prune's own", rows, kept.ID)
	}
	if n, err := b.svc.PruneAudit(ctx); err != nil || n != 0 {
		t.Fatalf("second PruneAudit = %d, %v; want 0", n, err)
	}
	if len(b.audit(t)) != 2 {
		t.Fatal("a prune that deleted nothing recorded a row")
	}
	if _, err := b.svc.Key(ctx, old.ID); err != nil {
		t.Fatalf("pruning the audit log touched the key: %v", err)
	}
}

func TestService_RunPrune(t *testing.T) {
	b := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	b.now = t0.Add(-b.svc.Options().AuditRetention - time.Hour)
	must(b.svc.CreateKey(ctx, issue.KeyRequest{Name: "old"}, issue.Actor{ID: "test", Authority: issue.AllAuthority()}))(t)
	b.now = t0
	done := make(chan struct{})
	go func() { b.svc.RunPrune(ctx, 10*time.Millisecond, nil); close(done) }()
	eventually(t, 10*time.Second, "RunPrune did not prune", func() bool {
		rows := b.audit(t)
		return len(rows) == 1 && rows[0].Action == issue.ActionAuditPrune
	})
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("RunPrune did not return when its context ended")
	}
}
