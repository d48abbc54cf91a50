package issue_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/issue/api"
	"github.com/authgate/authgate/verify"
)

// keyID returns the id of the key named name, through the API.
func (a *apiBundle) keyID(t *testing.T, name string) string {
	t.Helper()
	page := decodeJSON[api.KeyPage](t, a.do(t, "GET", "/v1/keys?limit=200", a.admin, ""))
	for _, k := range page.Keys {
		if k.Name == name {
			return k.ID
		}
	}
	t.Fatalf("no key named %s", name)
	return ""
}

func TestAPI_AuditFilters(t *testing.T) {
	a := setupAPI(t) // audit: key.create admin, key.create plain at t0 by "test"
	adminActor := "key:" + a.keyID(t, "admin")
	a.now = t0.Add(time.Hour)
	k := decodeJSON[api.IssuedKey](t, a.do(t, "POST", "/v1/keys", a.admin, `{"name":"cam"}`))
	a.now = t0.Add(2 * time.Hour)
	if w := a.do(t, "POST", "/v1/keys/"+k.ID+"/disable", a.admin, ""); w.Code != 200 {
		t.Fatalf("disable: %d %s", w.Code, w.Body)
	}
	plainID, adminID := a.keyID(t, "plain"), a.keyID(t, "admin")
	ts := func(d time.Duration) string { return url.QueryEscape(t0.Add(d).Format(time.RFC3339)) }
	tests := []struct {
		name, query string
		want        []string // action resource_id, newest first
	}{
		{"All", "", []string{"key.disable " + k.ID, "key.create " + k.ID, "key.create " + plainID, "key.create " + adminID}},
		{"Actor", "actor=" + url.QueryEscape(adminActor), []string{"key.disable " + k.ID, "key.create " + k.ID}},
		{"OtherActor", "actor=test", []string{"key.create " + plainID, "key.create " + adminID}},
		{"Action", "action=key.disable", []string{"key.disable " + k.ID}},
		{"Resource", "resource_type=key&resource_id=" + k.ID, []string{"key.disable " + k.ID, "key.create " + k.ID}},
		{"OtherResourceType", "resource_type=user", nil},
		{"SinceIsInclusive", "since=" + ts(time.Hour), []string{"key.disable " + k.ID, "key.create " + k.ID}},
		{"UntilIsExclusive", "until=" + ts(time.Hour), []string{"key.create " + plainID, "key.create " + adminID}},
		{"Window", "since=" + ts(30*time.Minute) + "&until=" + ts(90*time.Minute), []string{"key.create " + k.ID}},
		{"Nobody", "actor=nobody", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := a.do(t, "GET", "/v1/audit?"+tt.query, a.admin, "")
			page := decodeJSON[api.AuditPage](t, w)
			var got []string
			for _, e := range page.Entries {
				got = append(got, e.Action+" "+e.ResourceID)
			}
			if w.Code != 200 || !slices.Equal(got, tt.want) || page.NextCursor != nil || page.Entries == nil {
				t.Fatalf("%d %v next %v; want 200 %v and no next page", w.Code, got, page.NextCursor, tt.want)
			}
		})
	}
	// Rows written over HTTP say where the request came from; none holds a secret.
	page := decodeJSON[api.AuditPage](t, a.do(t, "GET", "/v1/audit?action=key.disable", a.admin, ""))
	if e := page.Entries[0]; e.Actor != adminActor || e.IP == "" {
		t.Fatalf("row written over HTTP: %+v", e)
	}
	body := a.do(t, "GET", "/v1/audit", a.admin, "").Body.String()
	for _, s := range []string{a.admin, a.plain, k.Secret} {
		if k, err := verify.ParseKey(verify.PrefixAPIKey, s); err != nil || strings.Contains(body, k.Secret) {
			t.Fatalf("GET /v1/audit returned a secret (%v): %s", err, body)
		}
	}
}

func TestAPI_AuditPages(t *testing.T) {
	a := setupAPI(t)
	for i := range 5 {
		must(a.svc.CreateKey(context.Background(), issue.KeyRequest{Name: fmt.Sprint("k", i)}, issue.Actor{ID: "test", Authority: issue.AllAuthority()}))(t)
	}
	var ids []int64
	path := "/v1/audit?limit=3"
	for pages := 1; ; pages++ {
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		w := a.do(t, "GET", path, a.admin, "")
		page := decodeJSON[api.AuditPage](t, w)
		if w.Code != 200 || len(page.Entries) > 3 {
			t.Fatalf("page %d: %d %s", pages, w.Code, w.Body)
		}
		for _, e := range page.Entries {
			ids = append(ids, e.ID)
		}
		if page.NextCursor == nil {
			break
		}
		path = "/v1/audit?limit=3&cursor=" + *page.NextCursor
	}
	if len(ids) != 7 || !slices.IsSortedFunc(ids, func(x, y int64) int { return int(y - x) }) || len(slices.Compact(slices.Clone(ids))) != 7 {
		t.Fatalf("pages held ids %v; want the 7 rows, newest first, each once", ids)
	}
	if page := decodeJSON[api.AuditPage](t, a.do(t, "GET", "/v1/audit", a.admin, "")); len(page.Entries) != 7 || page.NextCursor != nil {
		t.Fatalf("default limit: %d rows, next %v; want all 7 on one page", len(page.Entries), page.NextCursor)
	}
}

func TestAPI_AuditBadParams(t *testing.T) {
	a := setupAPI(t)
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	tests := []struct{ name, query, param string }{
		{"LimitZero", "limit=0", "limit"},
		{"LimitTooLarge", "limit=201", "limit"},
		{"LimitNotANumber", "limit=ten", "limit"},
		{"SinceNotATime", "since=yesterday", "since"},
		{"UntilDateOnly", "until=2030-01-01", "until"},
		{"UntilBeforeSince", "since=2030-01-02T00:00:00Z&until=2030-01-01T00:00:00Z", "until"},
		{"CursorGarbage", "cursor=zzz", "cursor"},
		{"CursorNegative", "cursor=" + b64("-3"), "cursor"},
		{"CursorZero", "cursor=" + b64("0"), "cursor"},
		{"UnknownParam", "actors=x", "actors"},
		{"RepeatedParam", "actor=a&actor=b", "actor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := a.do(t, "GET", "/v1/audit?"+tt.query, a.admin, "")
			body := decodeJSON[api.ErrorBody](t, w)
			if w.Code != 400 || body.Error != "invalid_request" || !strings.HasPrefix(body.Description, tt.param+": ") {
				t.Fatalf("%d %+v; want 400 invalid_request naming %s", w.Code, body, tt.param)
			}
		})
	}
}

func TestAPI_AuditNeedsAuditRead(t *testing.T) {
	a := setupAPI(t)
	ctx := context.Background()
	writer := must(a.svc.CreateKey(ctx, issue.KeyRequest{Name: "w", Scopes: []string{issue.PermKeysRead, issue.PermKeysWrite}}, issue.Actor{ID: "test", Authority: issue.AllAuthority()}))(t)
	reader := must(a.svc.CreateKey(ctx, issue.KeyRequest{Name: "r", Scopes: []string{issue.PermAuditRead}}, issue.Actor{ID: "test", Authority: issue.AllAuthority()}))(t)
	if w := a.do(t, "GET", "/v1/audit", "", ""); w.Code != 401 || w.Header().Get("WWW-Authenticate") == "" {
		t.Fatalf("no credential: %d; want 401 with WWW-Authenticate", w.Code)
	}
	if w := a.do(t, "GET", "/v1/audit", wrongSecret(t, reader.Secret), ""); w.Code != 401 {
		t.Fatalf("wrong secret: %d; want 401", w.Code)
	}
	for _, cred := range []string{a.plain, writer.Secret} {
		w := a.do(t, "GET", "/v1/audit", cred, "")
		if body := decodeJSON[api.ErrorBody](t, w); w.Code != 403 || !strings.Contains(body.Description, issue.PermAuditRead) {
			t.Fatalf("key without audit:read: %d %+v; want 403 naming it", w.Code, body)
		}
	}
	if w := a.do(t, "GET", "/v1/audit", reader.Secret, ""); w.Code != 200 {
		t.Fatalf("key with audit:read: %d %s; want 200", w.Code, w.Body)
	}
}
