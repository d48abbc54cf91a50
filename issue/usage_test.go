package issue_test

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/issue/api"
)

// addUsage stores counts as the usage counter would.
func (b *bundle) addUsage(t *testing.T, counts ...issue.UsageCount) {
	t.Helper()
	if err := b.store.UsageAdd(context.Background(), counts); err != nil {
		t.Fatal(err)
	}
}

func TestAPI_KeyUsage(t *testing.T) {
	a := setupAPI(t)
	k := decodeJSON[api.IssuedKey](t, a.do(t, "POST", "/v1/keys", a.admin, `{"name":"camera"}`))
	h := a.now.Truncate(time.Hour)
	a.addUsage(t,
		issue.UsageCount{CredentialID: k.ID, Hour: h, Count: 7},
		issue.UsageCount{CredentialID: k.ID, Hour: h, Reason: "missing_scope", Count: 2},
		issue.UsageCount{CredentialID: k.ID, Hour: h.Add(-3 * time.Hour), Reason: "wrong_secret", Count: 1},
		issue.UsageCount{CredentialID: k.ID, Hour: h.Add(-8 * 24 * time.Hour), Count: 100}, // before the default range
		issue.UsageCount{CredentialID: "key_other", Hour: h, Count: 50},
	)
	w := a.do(t, "GET", "/v1/keys/"+k.ID+"/usage", a.admin, "")
	if w.Code != 200 {
		t.Fatalf("GET usage: %d %s", w.Code, w.Body)
	}
	want := fmt.Sprintf(`{"credential_id":%q,"since":%q,"usage":[`+
		`{"hour":%q,"allowed":7,"denied":{"missing_scope":2}},{"hour":%q,"allowed":0,"denied":{"wrong_secret":1}}],"next_until":null}`,
		k.ID, a.now.Add(-7*24*time.Hour).Format(time.RFC3339), h.Format(time.RFC3339), h.Add(-3*time.Hour).Format(time.RFC3339))
	if got := strings.TrimSpace(w.Body.String()); got != want {
		t.Errorf("GET usage =\n%s\nwant\n%s", got, want)
	}

	since := a.now.Add(-9 * 24 * time.Hour).Format(time.RFC3339)
	got := decodeJSON[api.CredentialUsage](t, a.do(t, "GET", "/v1/keys/"+k.ID+"/usage?since="+since, a.admin, ""))
	if n := len(got.Usage); n != 3 || got.Usage[2].Allowed != 100 {
		t.Errorf("since 9 days ago: %+v; want 3 hours, the oldest with 100 allowed", got)
	}
	until := h.Format(time.RFC3339)
	got = decodeJSON[api.CredentialUsage](t, a.do(t, "GET", "/v1/keys/"+k.ID+"/usage?until="+until, a.admin, ""))
	if n := len(got.Usage); n != 1 || !maps.Equal(got.Usage[0].Denied, map[string]int64{"wrong_secret": 1}) {
		t.Errorf("until this hour: %+v; want the hour of the wrong secret only", got)
	}

	for _, c := range []struct{ name, query, want string }{
		{"BeforeRetention", "?since=" + a.now.Add(-366*24*time.Hour).Format(time.RFC3339), "since: must be within the retention"},
		{"BadSince", "?since=yesterday", "since: must be an RFC 3339"},
		{"UntilBeforeSince", "?since=" + until + "&until=" + h.Add(-time.Hour).Format(time.RFC3339), "until: must be after since"},
		{"UnknownParam", "?from=" + until, "from: unknown query parameter"},
		{"Twice", "?since=" + until + "&since=" + until, "since: must be given once"},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := a.do(t, "GET", "/v1/keys/"+k.ID+"/usage"+c.query, a.admin, "")
			if body := decodeJSON[api.ErrorBody](t, w); w.Code != 400 || !strings.Contains(body.Description, c.want) {
				t.Errorf("%d %+v; want 400 saying %q", w.Code, body, c.want)
			}
		})
	}
	if w := a.do(t, "GET", "/v1/keys/key_nope/usage", a.admin, ""); w.Code != 404 {
		t.Errorf("usage of no key: %d; want 404", w.Code)
	}
	if w := a.do(t, "GET", "/v1/keys/"+k.ID+"/usage", a.plain, ""); w.Code != 403 || !strings.Contains(w.Body.String(), issue.PermKeysRead) {
		t.Errorf("usage by a key without keys:read: %d %s; want 403 naming keys:read", w.Code, w.Body)
	}
}

func TestAPI_KeyUsagePages(t *testing.T) {
	a := setupAPI(t)
	k := decodeJSON[api.IssuedKey](t, a.do(t, "POST", "/v1/keys", a.admin, `{"name":"busy"}`))
	h := a.now.Truncate(time.Hour)
	counts := make([]issue.UsageCount, issue.MaxUsageHours+5)
	for i := range counts {
		counts[i] = issue.UsageCount{CredentialID: k.ID, Hour: h.Add(-time.Duration(i) * time.Hour), Count: int64(i + 1)}
	}
	a.addUsage(t, counts...)
	since := a.now.Add(-60 * 24 * time.Hour).Format(time.RFC3339)
	first := decodeJSON[api.CredentialUsage](t, a.do(t, "GET", "/v1/keys/"+k.ID+"/usage?since="+since, a.admin, ""))
	if len(first.Usage) != issue.MaxUsageHours || first.NextUntil == nil || first.Usage[0].Allowed != 1 {
		t.Fatalf("first page: %d hours, next_until %v; want %d hours, newest first, and a next_until",
			len(first.Usage), first.NextUntil, issue.MaxUsageHours)
	}
	path := "/v1/keys/" + k.ID + "/usage?since=" + since + "&until=" + first.NextUntil.Format(time.RFC3339)
	rest := decodeJSON[api.CredentialUsage](t, a.do(t, "GET", path, a.admin, ""))
	if len(rest.Usage) != 5 || rest.NextUntil != nil || rest.Usage[4].Allowed != int64(len(counts)) {
		t.Errorf("second page: %+v; want the 5 oldest hours and no next_until", rest)
	}
}

func TestAPI_TokenUsage(t *testing.T) {
	a := setupAPI(t)
	a.appRole(t, "watcher", "events:read")
	tina, omar := a.newUser(t, "tina", "watcher"), a.newUser(t, "omar", "watcher")
	days := 30
	tok, err := a.svc.CreateToken(context.Background(), tina.ID, issue.TokenRequest{Name: "kiosk", Scopes: []string{"events:read"},
		ExpiresInDays: &days}, issue.Actor{ID: tina.ID, Authority: issue.AllAuthority()})
	if err != nil {
		t.Fatal(err)
	}
	h := a.now.Truncate(time.Hour)
	a.addUsage(t, issue.UsageCount{CredentialID: tok.ID, Hour: h, Count: 4},
		issue.UsageCount{CredentialID: tok.ID, Hour: h, Reason: "revoked", Count: 1})
	tinaAT, omarAT := a.mustLogin(t, "tina").AccessToken, a.mustLogin(t, "omar").AccessToken

	for _, c := range []struct {
		name, path, cred string
		want             int
	}{
		{"Owner", "/v1/me/tokens/" + tok.ID + "/usage", tinaAT, 200},
		{"AnotherUser", "/v1/me/tokens/" + tok.ID + "/usage", omarAT, 404},
		{"Admin", "/v1/users/" + tina.ID + "/tokens/" + tok.ID + "/usage", a.admin, 200},
		{"AdminWrongUser", "/v1/users/" + omar.ID + "/tokens/" + tok.ID + "/usage", a.admin, 404},
		{"WithoutUsersRead", "/v1/users/" + tina.ID + "/tokens/" + tok.ID + "/usage", a.plain, 403},
		{"OwnerThroughAdminRoute", "/v1/users/" + tina.ID + "/tokens/" + tok.ID + "/usage", tinaAT, 403},
		{"PersonalToken", "/v1/me/tokens/" + tok.ID + "/usage", tok.Secret, 403},
		{"APIKeyOnMe", "/v1/me/tokens/" + tok.ID + "/usage", a.admin, 403},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := a.do(t, "GET", c.path, c.cred, "")
			if w.Code != c.want {
				t.Fatalf("%d %s; want %d", w.Code, w.Body, c.want)
			}
			if c.want != 200 {
				return
			}
			got := decodeJSON[api.CredentialUsage](t, w)
			if got.CredentialID != tok.ID || len(got.Usage) != 1 || got.Usage[0].Allowed != 4 ||
				!maps.Equal(got.Usage[0].Denied, map[string]int64{"revoked": 1}) {
				t.Errorf("usage = %+v; want one hour of 4 allowed, 1 revoked", got)
			}
		})
	}

	totals, err := a.svc.TokenUsageTotals(context.Background(), tina.ID, a.now.Add(-7*24*time.Hour))
	if err != nil || !maps.Equal(totals, map[string]issue.UsageTotal{tok.ID: {Allowed: 4, Denied: 1}}) {
		t.Errorf("TokenUsageTotals = %v, %v; want the kiosk's 4 allowed, 1 denied", totals, err)
	}
	if totals, err := a.svc.TokenUsageTotals(context.Background(), omar.ID, a.now.Add(-7*24*time.Hour)); err != nil || len(totals) != 0 {
		t.Errorf("TokenUsageTotals of omar = %v, %v; want none", totals, err)
	}
}

func TestService_PruneUsage(t *testing.T) {
	b := setup(t)
	b.svc = issue.NewService(b.store, b.hasher, func() time.Time { return b.now }, issue.Options{AuditRetention: 48 * time.Hour})
	k, err := b.svc.CreateKey(context.Background(), issue.KeyRequest{Name: "k"}, issue.Actor{ID: "test", Authority: issue.AllAuthority()})
	if err != nil {
		t.Fatal(err)
	}
	h := b.now.Truncate(time.Hour)
	b.addUsage(t, issue.UsageCount{CredentialID: k.ID, Hour: h.Add(-49 * time.Hour), Count: 1},
		issue.UsageCount{CredentialID: k.ID, Hour: h.Add(-47 * time.Hour), Count: 2})
	n, err := b.svc.PruneUsage(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("PruneUsage = %d, %v; want 1 row", n, err)
	}
	// The default range is the retention when that is shorter than 7 days.
	u, err := b.svc.KeyUsage(context.Background(), k.ID, issue.UsageRange{})
	if err != nil || !u.Since.Equal(b.now.Add(-48*time.Hour)) || len(u.Hours) != 1 || u.Hours[0].Allowed != 2 {
		t.Errorf("KeyUsage = %+v, %v; want since 48 h ago and the one hour left", u, err)
	}
}

func TestService_RunPrunePrunesUsage(t *testing.T) {
	b := setup(t)
	h := b.now.Truncate(time.Hour)
	b.addUsage(t, issue.UsageCount{CredentialID: "key_a", Hour: h.Add(-366 * 24 * time.Hour), Count: 1},
		issue.UsageCount{CredentialID: "key_a", Hour: h, Count: 1})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { b.svc.RunPrune(ctx, time.Hour, nil); close(done) }()
	eventually(t, 10*time.Second, "RunPrune left the usage older than the retention", func() bool {
		rows, err := b.store.UsageList(context.Background(), "key_a", h.Add(-400*24*time.Hour), h.Add(time.Hour), 10)
		return err == nil && len(rows) == 1 && rows[0].Hour.Equal(h)
	})
	cancel()
	<-done
}
