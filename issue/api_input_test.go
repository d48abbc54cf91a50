package issue_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/issue/api"
)

// These tests send the bytes a hostile client can put in a request, and check
// that each is refused as the client's mistake (400, or 404 for an id) and
// changes nothing, instead of reaching Postgres and failing there as a 500.

// wantBadRequest fails unless w is a 400 invalid_request whose description
// holds want.
func wantBadRequest(t *testing.T, code int, body api.ErrorBody, want string) {
	t.Helper()
	if code != 400 || body.Error != "invalid_request" || !strings.Contains(body.Description, want) {
		t.Fatalf("got %d %+v; want 400 invalid_request mentioning %q", code, body, want)
	}
}

func TestAPI_KeyMetadataIsChecked(t *testing.T) {
	a := setupAPI(t)
	nest := func(depth int) string { return strings.Repeat(`{"a":`, depth) + "1" + strings.Repeat("}", depth) }
	tests := []struct{ name, metadata, want string }{
		{"NULEscapeInValue", `{"a":"x\u0000y"}`, "metadata: "},
		{"NULEscapeInKey", `{"\u0000":"x"}`, "metadata: "},
		{"NULEscapeInArray", `{"a":["ok","\u0000"]}`, "metadata: "},
		{"InvalidUTF8", "{\"a\":\"\xff\"}", "metadata: "},
		{"InvalidUTF8InKey", "{\"\xc3\":1}", "metadata: "},
		{"LoneHighSurrogate", `{"a":"\ud800"}`, "metadata: "},
		{"LoneLowSurrogate", `{"a":"\udc00x"}`, "metadata: "},
		{"HighSurrogateThenLetter", `{"a":"\ud800\u0041"}`, "metadata: "},
		{"TooDeep", `{"x":` + nest(issue.MaxMetadataDepth) + `}`, "metadata: "},
		{"TooDeepArrays", `{"a":` + strings.Repeat("[", issue.MaxMetadataDepth) + strings.Repeat("]", issue.MaxMetadataDepth) + `}`, "metadata: "},
		{"NumberOverflowsFloat", `{"a":1e400}`, "metadata: "},
		{"NumberOverflowsNumeric", `{"a":0e99999}`, "metadata: "},
		{"NumberUnderflowsNumeric", `{"a":1e-99999}`, "metadata: "},
		{"Null", `null`, "metadata: must be a JSON object"},
		{"TooLong", `{"a":"` + strings.Repeat("x", issue.MaxMetadataLen) + `"}`, "metadata: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := a.do(t, "POST", "/v1/keys", a.admin, `{"name":"m","metadata":`+tt.metadata+`}`)
			wantBadRequest(t, w.Code, decodeJSON[api.ErrorBody](t, w), tt.want)
		})
	}
	if n, _ := a.svc.CountKeys(context.Background()); n != 2 {
		t.Fatalf("got %d keys after bad metadata; want the 2 the setup created", n)
	}
	// What is accepted is kept: depth MaxMetadataDepth, escapes, pairs, big integers.
	w := a.do(t, "POST", "/v1/keys", a.admin, `{"name":"ok","metadata":{"d":`+nest(issue.MaxMetadataDepth-1)+`,`+
		`"e":"\u00e9\ud83d\ude00","n":12345678901234567890123,"f":-1.5e-7}}`)
	k := decodeJSON[api.IssuedKey](t, w)
	var got struct {
		E string          `json:"e"`
		N json.Number     `json:"n"`
		D json.RawMessage `json:"d"`
	}
	if err := json.Unmarshal(k.Metadata, &got); w.Code != 201 || err != nil || got.E != "é😀" || got.N != "12345678901234567890123" {
		t.Fatalf("got %d %s (%v); want 201 keeping the metadata", w.Code, w.Body, err)
	}
}

func TestAPI_AuditFiltersAreChecked(t *testing.T) {
	a := setupAPI(t)
	tests := []struct{ name, query, param string }{
		{"ActorNUL", "actor=a%00b", "actor"},
		{"ActorInvalidUTF8", "actor=%FF", "actor"},
		{"ActorControl", "actor=a%0Ab", "actor"},
		{"ActorDEL", "actor=a%7F", "actor"},
		{"ActorTooLong", "actor=" + strings.Repeat("a", 201), "actor"},
		{"ActionNUL", "action=%00", "action"},
		{"ResourceTypeInvalidUTF8", "resource_type=%C3", "resource_type"},
		{"ResourceIDNUL", "resource_id=key_%00", "resource_id"},
		{"ResourceIDTooLong", "resource_id=" + strings.Repeat("é", 101), "resource_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := a.do(t, "GET", "/v1/audit?"+tt.query, a.admin, "")
			wantBadRequest(t, w.Code, decodeJSON[api.ErrorBody](t, w), tt.param+": ")
		})
	}
	if w := a.do(t, "GET", "/v1/audit?actor="+strings.Repeat("a", 200), a.admin, ""); w.Code != 200 {
		t.Fatalf("got %d %s for a 200-byte actor; want 200", w.Code, w.Body)
	}
}

// TestAPI_MalformedQueryIsA400 checks that a query string url.ParseQuery
// refuses is refused, not read without the pair it could not parse: that
// silently widened /v1/audit?actor=a;x to every row.
func TestAPI_MalformedQueryIsA400(t *testing.T) {
	a := setupAPI(t)
	tests := []struct{ name, path, want string }{
		{"AuditSemicolon", "/v1/audit?actor=a;x", "actor: "},
		{"AuditSemicolonAfterAmpersand", "/v1/audit?limit=5&action=key.create;x=1", "action: "},
		{"AuditBadEscape", "/v1/audit?actor=%zz", "actor: "},
		{"AuditBadEscapeInName", "/v1/audit?act%zzor=a", "percent-escape"},
		{"KeysSemicolon", "/v1/keys?state=revoked;limit=1", "state: "},
		{"KeysBadEscape", "/v1/keys?cursor=%", "cursor: "},
		{"UsersSemicolon", "/v1/users?limit=1;x", "limit: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := a.do(t, "GET", tt.path, a.admin, "")
			wantBadRequest(t, w.Code, decodeJSON[api.ErrorBody](t, w), tt.want)
		})
	}
}

func TestAPI_CursorIsChecked(t *testing.T) {
	a := setupAPI(t)
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	tests := []struct{ name, cursor string }{
		{"IDWithNUL", b64("1700000000000000.key_\x00")},
		{"IDInvalidUTF8", b64("1700000000000000.key_\xff")},
		{"IDNotASCII", b64("1700000000000000.clé")},
		{"IDWithSpace", b64("1700000000000000.key x")},
		{"IDTooLong", b64("1700000000000000." + strings.Repeat("k", 65))},
		{"TimeTooEarly", b64("-9223372036854775808.key_x")},
		{"TimeTooLate", b64("9223372036854775807.key_x")},
	}
	for _, tt := range tests {
		for _, route := range []string{"/v1/keys", "/v1/users"} {
			t.Run(tt.name+route, func(t *testing.T) {
				w := a.do(t, "GET", route+"?cursor="+tt.cursor, a.admin, "")
				wantBadRequest(t, w.Code, decodeJSON[api.ErrorBody](t, w), "cursor: ")
			})
		}
	}
}

// TestAPI_ImpossiblePathIDsAre404 checks that a path id no resource can have
// (bad UTF-8, control characters, too long; as sent or percent-decoded) is a
// 404 on every kind of route, and that the mutations change nothing.
func TestAPI_ImpossiblePathIDsAre404(t *testing.T) {
	a := setupAPI(t)
	long := strings.Repeat("x", 201)
	tests := []struct{ name, method, path, body string }{
		{"KeyNUL", "GET", "/v1/keys/key_%00", ""},
		{"KeyInvalidUTF8", "GET", "/v1/keys/%FF", ""},
		{"KeyControl", "GET", "/v1/keys/key%0D%0A", ""},
		{"KeyTooLong", "GET", "/v1/keys/" + long, ""},
		{"KeyNULBehindEscapedSlash", "GET", "/v1/keys/a%2F%00", ""},
		{"RotateNUL", "POST", "/v1/keys/%00/rotate", `{"grace_seconds":0}`},
		{"RevokeInvalidUTF8", "POST", "/v1/keys/%C3/revoke", ""},
		{"DisableNUL", "POST", "/v1/keys/%00/disable", ""},
		{"UserNUL", "GET", "/v1/users/%00", ""},
		{"PatchUserInvalidUTF8", "PATCH", "/v1/users/%FF", `{"full_name":"x"}`},
		{"DeleteUserNUL", "DELETE", "/v1/users/%00", ""},
		{"UserRolesNUL", "GET", "/v1/users/%00/roles", ""},
		{"AssignRoleNUL", "PUT", "/v1/users/usr_x/roles/%00", ""},
		{"UserSessionsNUL", "GET", "/v1/users/%00/sessions", ""},
		{"UserTokenNUL", "DELETE", "/v1/users/usr_x/tokens/%00", ""},
		{"DeleteRoleNUL", "DELETE", "/v1/roles/%00", ""},
		{"GrantPermissionInvalidUTF8", "PUT", "/v1/roles/viewer/permissions/a%3A%FF", ""},
		{"DeletePermissionNUL", "DELETE", "/v1/permissions/x%3A%00", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if w := a.do(t, tt.method, tt.path, a.admin, tt.body); w.Code != 404 {
				t.Fatalf("got %d %s; want 404", w.Code, w.Body)
			}
		})
	}
	if n, _ := a.svc.CountKeys(context.Background()); n != 2 {
		t.Fatalf("got %d keys; want the 2 the setup created", n)
	}
}

// TestAPI_UnstorableTextIsA400 sends text Postgres cannot store through a
// field no rule of the issue package looks at: db maps the refusal to a 400.
func TestAPI_UnstorableTextIsA400(t *testing.T) {
	a := setupAuth(t, issue.Options{})
	tests := []struct{ name, body string }{
		{"LoginNUL", `{"login":"ali\u0000ce","password":"x"}`},
		{"LoginOnlyNUL", `{"login":"\u0000","password":"x"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := a.do(t, "POST", "/v1/auth/login", "", tt.body)
			wantBadRequest(t, w.Code, decodeJSON[api.ErrorBody](t, w), "")
		})
	}
}

// clean reports whether s is valid UTF-8 without control characters.
func clean(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl)
}

// TestService_AuditKeepsRowsWithClientBytes checks that the bytes a client
// chooses (its user agent, a request id, a login name in the metadata) cannot
// make an audit row, and with it the change it records, fail.
func TestService_AuditKeepsRowsWithClientBytes(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	by := issue.Actor{ID: "key:key_admin", IP: "192.0.2.1\x00", UserAgent: "\xff\x00bad" + strings.Repeat("é", 600),
		RequestID: "\xff" + strings.Repeat("r", 100)}
	k, err := b.svc.CreateKey(ctx, issue.KeyRequest{Name: "cam"}, by)
	if err != nil {
		t.Fatalf("create key as a client with bad bytes: %v; want it to succeed", err)
	}
	by.ID = "key:\xff\x00" + strings.Repeat("k", 300) // the Actor's id comes from the server, but a row must not depend on it
	err = issue.AppendAudit(ctx, b.store, b.now, by, issue.ActionKeyRevoke, "key_\x00\xff", issue.OutcomeFailure,
		map[string]any{"login": "ali\x00ce\xff", "a\x00": []string{"\x00"}, `\u0000`: `\\u0000`})
	if err != nil {
		t.Fatalf("append audit: %v; want the row written", err)
	}
	rows := b.audit(t)
	if len(rows) != 2 || rows[0].ResourceID != k.ID || rows[1].Action != issue.ActionKeyRevoke {
		t.Fatalf("got rows %+v; want key.create then key.revoke", rows)
	}
	for _, r := range rows {
		for _, s := range []string{r.Actor, r.ResourceID, r.IP, r.UserAgent, r.RequestID} {
			if !clean(s) || len(s) > 4*512 {
				t.Errorf("got %q in row %d; want bounded valid UTF-8 without control characters", s, r.ID)
			}
		}
		if n := utf8.RuneCountInString(r.UserAgent); n > 512 || !strings.HasPrefix(r.UserAgent, "\uFFFDbadé") {
			t.Errorf("got user agent %q (%d runes); want it cleaned and cut to 512 runes", r.UserAgent, n)
		}
		if len(r.RequestID) > 64 || len(r.IP) > 64 || r.IP != "192.0.2.1" {
			t.Errorf("got request id %q, ip %q; want at most 64 bytes each", r.RequestID, r.IP)
		}
	}
	var meta map[string]any
	if err := json.Unmarshal(rows[1].Metadata, &meta); err != nil || meta["login"] != "ali\uFFFDce\uFFFD" || meta[`\u0000`] != `\\u0000` {
		t.Fatalf("got metadata %s (%v); want NUL replaced by U+FFFD and escaped backslashes kept", rows[1].Metadata, err)
	}
}
