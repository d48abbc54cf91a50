package issue_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/verify"
)

func days(n int) *int { return &n }

// tokenUser creates a user with roles in b.
func (b *bundle) tokenUser(t *testing.T, username string, roles ...string) issue.User {
	t.Helper()
	u, err := b.svc.CreateUser(context.Background(), issue.UserRequest{Username: username, Email: username + "@example.com",
		Password: "password-of-" + username, Roles: roles}, issue.Actor{ID: "test", Authority: issue.AllAuthority()})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// appRole creates the application permissions perms (those not yet there) and
// a role holding them: authgate's own permissions never go in a personal token,
// so token tests use an application's, such as events:read.
func (b *bundle) appRole(t *testing.T, role string, perms ...string) {
	t.Helper()
	ctx, by := context.Background(), issue.Actor{ID: "test", Authority: issue.AllAuthority()}
	for _, p := range perms {
		if _, err := b.svc.CreatePermission(ctx, p, "", by); err != nil && !errors.Is(err, issue.ErrConflict) {
			t.Fatal(err)
		}
	}
	if _, err := b.svc.CreateRole(ctx, role, "", perms, by); err != nil {
		t.Fatal(err)
	}
}

func (b *bundle) tokens(t *testing.T, userID string) []issue.PersonalToken {
	t.Helper()
	list, err := b.svc.ListTokens(context.Background(), userID)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func TestService_CreateToken(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	b.appRole(t, "watcher", "events:read", "cameras:stream")
	u := b.tokenUser(t, "tina", "watcher")
	by := issue.Actor{ID: "user:" + u.ID, Authority: issue.AllAuthority()}
	tok, err := b.svc.CreateToken(ctx, u.ID, issue.TokenRequest{Name: "Kitchen kiosk",
		Scopes: []string{"events:read", "cameras:stream", "events:read"}, ExpiresInDays: days(30)}, by)
	if err != nil {
		t.Fatal(err)
	}
	k, err := verify.ParseKey(verify.PrefixPersonalToken, tok.Secret)
	if err != nil || tok.Prefix != verify.PrefixPersonalToken+k.LookupID || !strings.HasPrefix(tok.ID, "tok_") {
		t.Fatalf("token %q (%v) does not carry prefix %q", tok.Secret, err, tok.Prefix)
	}
	if want := []string{"cameras:stream", "events:read"}; !slices.Equal(tok.Scopes, want) {
		t.Errorf("scopes = %v; want %v (sorted, without duplicates)", tok.Scopes, want)
	}
	if tok.UserID != u.ID || tok.Name != "Kitchen kiosk" || !tok.ExpiresAt.Equal(t0.Add(30*24*time.Hour)) ||
		!tok.CreatedAt.Equal(t0) || tok.RevokedAt != nil || tok.LastUsedAt != nil {
		t.Errorf("created token = %+v", tok.PersonalToken)
	}
	rec, err := b.store.TokenByLookupID(ctx, k.LookupID)
	if err != nil || !b.hasher.Equal(rec.MACVersion, k.Secret, rec.SecretMAC) || rec.ID != tok.ID {
		t.Fatalf("the stored token does not match its secret: %+v, %v", rec, err)
	}
	// No roles and no scopes: a token that says who, and nothing more.
	bare := b.tokenUser(t, "bare")
	if tok, err := b.svc.CreateToken(ctx, bare.ID, issue.TokenRequest{Name: "id only", ExpiresInDays: days(1)}, by); err != nil || tok.Scopes == nil {
		t.Fatalf("token without scopes: %+v, %v; want one with scopes []", tok, err)
	}
}

func TestService_CreateTokenRejectsBadInput(t *testing.T) {
	b := setup(t)
	u := b.tokenUser(t, "tina", "operator")
	tests := []struct {
		name  string
		in    issue.TokenRequest
		field string
	}{
		{"EmptyName", issue.TokenRequest{Name: "", ExpiresInDays: days(1)}, "name"},
		{"BlankName", issue.TokenRequest{Name: "   ", ExpiresInDays: days(1)}, "name"},
		{"LongName", issue.TokenRequest{Name: strings.Repeat("é", issue.MaxNameLen+1), ExpiresInDays: days(1)}, "name"},
		{"NewlineInName", issue.TokenRequest{Name: "a\nb", ExpiresInDays: days(1)}, "name"},
		{"NULInName", issue.TokenRequest{Name: "a\x00b", ExpiresInDays: days(1)}, "name"},
		{"BidiOverrideInName", issue.TokenRequest{Name: "kiosk\u202egnp.exe", ExpiresInDays: days(1)}, "name"},
		{"ZeroWidthInName", issue.TokenRequest{Name: "kio\u200bsk", ExpiresInDays: days(1)}, "name"},
		{"InvalidUTF8Name", issue.TokenRequest{Name: "a\xffb", ExpiresInDays: days(1)}, "name"},
		{"NoExpiry", issue.TokenRequest{Name: "a"}, "expires_in_days"},
		{"ZeroDays", issue.TokenRequest{Name: "a", ExpiresInDays: days(0)}, "expires_in_days"},
		{"NegativeDays", issue.TokenRequest{Name: "a", ExpiresInDays: days(-1)}, "expires_in_days"},
		{"OverAYear", issue.TokenRequest{Name: "a", ExpiresInDays: days(366)}, "expires_in_days"},
		{"BadScope", issue.TokenRequest{Name: "a", Scopes: []string{"keys read"}, ExpiresInDays: days(1)}, "scopes"},
		{"TooManyScopes", issue.TokenRequest{Name: "a", Scopes: make([]string, issue.MaxScopes+1), ExpiresInDays: days(1)}, "scopes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := b.svc.CreateToken(context.Background(), u.ID, tt.in, issue.Actor{ID: "test", Authority: issue.AllAuthority()})
			var fe *issue.FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field || !errors.Is(err, issue.ErrInvalid) {
				t.Fatalf("err = %v; want a FieldError on %s", err, tt.field)
			}
		})
	}
	if got := b.tokens(t, u.ID); len(got) != 0 {
		t.Fatalf("%d tokens stored after bad requests; want none", len(got))
	}
	// Names as long as allowed, in any script, are fine.
	if _, err := b.svc.CreateToken(context.Background(), u.ID, issue.TokenRequest{Name: strings.Repeat("é", issue.MaxNameLen),
		ExpiresInDays: days(365)}, issue.Actor{ID: "test", Authority: issue.AllAuthority()}); err != nil {
		t.Fatalf("100-character name, 365 days: %v", err)
	}
}

func TestService_CreateTokenMaxDaysIsConfigurable(t *testing.T) {
	b := setup(t)
	b.svc = issue.NewService(b.store, b.hasher, func() time.Time { return b.now }, issue.Options{MaxTokenDays: 30})
	u := b.tokenUser(t, "tina")
	_, err := b.svc.CreateToken(context.Background(), u.ID, issue.TokenRequest{Name: "a", ExpiresInDays: days(31)}, issue.Actor{ID: "test", Authority: issue.AllAuthority()})
	var fe *issue.FieldError
	if !errors.As(err, &fe) || fe.Field != "expires_in_days" || !strings.Contains(fe.Msg, "30") {
		t.Fatalf("31 days with a cap of 30: %v; want a FieldError naming 30", err)
	}
	if tok, err := b.svc.CreateToken(context.Background(), u.ID, issue.TokenRequest{Name: "a", ExpiresInDays: days(30)}, issue.Actor{ID: "test", Authority: issue.AllAuthority()}); err != nil ||
		!tok.ExpiresAt.Equal(t0.Add(30*24*time.Hour)) {
		t.Fatalf("30 days with a cap of 30: %+v, %v", tok, err)
	}
	if got := issue.NewService(b.store, b.hasher, nil, issue.Options{}).Options().MaxTokenDays; got != 365 {
		t.Fatalf("default MaxTokenDays = %d; want 365", got)
	}
}

func TestService_CreateTokenScopesMustBeHeld(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	b.appRole(t, "watcher", "events:read")
	b.appRole(t, "opener", "doors:open", "cameras:stream")
	viewer := b.tokenUser(t, "vic", "watcher") // events:read
	_, err := b.svc.CreateToken(ctx, viewer.ID, issue.TokenRequest{Name: "a",
		Scopes: []string{"events:read", "doors:open", "cameras:stream"}, ExpiresInDays: days(1)}, issue.Actor{ID: "test", Authority: issue.AllAuthority()})
	var ae *issue.AuthError
	if !errors.Is(err, issue.ErrPermission) || !errors.As(err, &ae) ||
		!strings.Contains(ae.Msg, "cameras:stream, doors:open") || strings.Contains(ae.Msg, "events:read") {
		t.Fatalf("err = %v; want ErrPermission naming cameras:stream and doors:open only", err)
	}
	if got := b.tokens(t, viewer.ID); len(got) != 0 {
		t.Fatalf("%d tokens stored after a refusal; want none", len(got))
	}
	if rows, err := b.store.AuditList(ctx, issue.AuditFilter{Action: "token.create", Limit: 10}); err != nil || len(rows) != 0 {
		t.Fatalf("%d token.create rows after a refusal (%v); want none", len(rows), err)
	}

	// An admin holds every permission, including one added after the role.
	if _, err := b.svc.CreatePermission(ctx, "gates:open", "", issue.Actor{ID: "test", Authority: issue.AllAuthority()}); err != nil {
		t.Fatal(err)
	}
	admin := b.tokenUser(t, "root", issue.RoleAdmin)
	if _, err := b.svc.CreateToken(ctx, admin.ID, issue.TokenRequest{Name: "a", Scopes: []string{"doors:open", "gates:open"},
		ExpiresInDays: days(1)}, issue.Actor{ID: "test", Authority: issue.AllAuthority()}); err != nil {
		t.Fatalf("admin asking for permissions it holds: %v", err)
	}
	// The caller must hold the scopes too (the authority rule), whoever the
	// token is for: the admin's token, asked for by a caller holding events:read.
	_, err = b.svc.CreateToken(ctx, admin.ID, issue.TokenRequest{Name: "c", Scopes: []string{"doors:open", "events:read"}, ExpiresInDays: days(1)},
		issue.Actor{ID: "test", Authority: issue.AuthorityOf([]string{"events:read"})})
	var pe *issue.PermissionError
	if !errors.Is(err, issue.ErrPermission) || !errors.As(err, &pe) || pe.Permission != "doors:open" {
		t.Fatalf("a caller lacking doors:open: %v; want a PermissionError naming doors:open", err)
	}
}

func TestService_CreateTokenRefusesOwnPermissions(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	b.appRole(t, "watcher", "events:read")
	// An admin holds every permission, asking with every authority: still no.
	admin := b.tokenUser(t, "root", issue.RoleAdmin, "watcher")
	tests := []struct {
		name   string
		scopes []string
		want   string // named in the refusal
	}{
		{"AuditRead", []string{issue.PermAuditRead}, issue.PermAuditRead},
		{"KeysRead", []string{issue.PermKeysRead}, issue.PermKeysRead},
		{"KeysWrite", []string{issue.PermKeysWrite}, issue.PermKeysWrite},
		{"RolesRead", []string{issue.PermRolesRead}, issue.PermRolesRead},
		{"RolesWrite", []string{issue.PermRolesWrite}, issue.PermRolesWrite},
		{"SessionsWrite", []string{issue.PermSessionsWrite}, issue.PermSessionsWrite},
		{"SigningKeysWrite", []string{issue.PermSigningKeysWrite}, issue.PermSigningKeysWrite},
		{"UsersRead", []string{issue.PermUsersRead}, issue.PermUsersRead},
		{"UsersWrite", []string{issue.PermUsersWrite}, issue.PermUsersWrite},
		{"ScopeAdmin", []string{issue.ScopeAdmin}, issue.ScopeAdmin},
		{"ReservedNamespace", []string{"authgate:anything"}, "authgate:anything"},
		{"AmongApplicationScopes", []string{"events:read", "users:write"}, "users:write"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := b.svc.CreateToken(ctx, admin.ID, issue.TokenRequest{Name: "a", Scopes: tt.scopes, ExpiresInDays: days(1)},
				issue.Actor{ID: "test", Authority: issue.AllAuthority()})
			var fe *issue.FieldError
			if !errors.As(err, &fe) || fe.Field != "scopes" || !errors.Is(err, issue.ErrInvalid) ||
				!strings.Contains(fe.Msg, tt.want+", one of authgate's own permissions") {
				t.Fatalf("err = %v; want a FieldError on scopes naming %s as authgate's own", err, tt.want)
			}
		})
	}
	if got := b.tokens(t, admin.ID); len(got) != 0 {
		t.Fatalf("%d tokens stored after refusals; want none", len(got))
	}
	if rows, err := b.store.AuditList(ctx, issue.AuditFilter{Action: "token.create", Limit: 10}); err != nil || len(rows) != 0 {
		t.Fatalf("%d token.create rows after refusals (%v); want none", len(rows), err)
	}
}

func TestService_TokenNamesAreUniqueAmongLiveTokens(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	u, other := b.tokenUser(t, "tina"), b.tokenUser(t, "otto")
	by := issue.Actor{ID: "test", Authority: issue.AllAuthority()}
	create := func(userID, name string, n int) (issue.IssuedToken, error) {
		return b.svc.CreateToken(ctx, userID, issue.TokenRequest{Name: name, ExpiresInDays: days(n)}, by)
	}
	first, err := create(u.ID, "kiosk", 1)
	if err != nil {
		t.Fatal(err)
	}
	_, err = create(u.ID, "kiosk", 5)
	var se *issue.StateError
	if !errors.Is(err, issue.ErrConflict) || !errors.As(err, &se) || !strings.Contains(se.Msg, `"kiosk"`) {
		t.Fatalf("second live kiosk: %v; want ErrConflict naming the name", err)
	}
	if _, err := create(other.ID, "kiosk", 1); err != nil {
		t.Fatalf("another user's kiosk: %v", err)
	}
	if _, err := b.svc.RevokeToken(ctx, u.ID, first.ID, by); err != nil {
		t.Fatal(err)
	}
	if _, err := create(u.ID, "kiosk", 1); err != nil {
		t.Fatalf("kiosk after revoking the first: %v", err)
	}

	cam, err := create(u.ID, "cam", 1)
	if err != nil {
		t.Fatal(err)
	}
	b.now = t0.Add(24*time.Hour - time.Second)
	if _, err := create(u.ID, "cam", 1); !errors.Is(err, issue.ErrConflict) {
		t.Fatalf("cam a second before the first expires: %v; want ErrConflict", err)
	}
	b.now = t0.Add(24 * time.Hour)
	if _, err := create(u.ID, "cam", 1); err != nil {
		t.Fatalf("cam once the first has expired: %v", err)
	}
	old := must(b.store.PersonalTokenByID(ctx, cam.ID))(t)
	if old.RevokedAt == nil || !old.RevokedAt.Equal(b.now) {
		t.Fatalf("the expired cam: revoked_at = %v; want %v (its name was taken)", old.RevokedAt, b.now)
	}
	rows := must(b.store.AuditList(ctx, issue.AuditFilter{Action: "token.revoke", ResourceID: cam.ID, Limit: 10}))(t)
	if len(rows) != 1 || !strings.Contains(string(rows[0].Metadata), "name reused") {
		t.Fatalf("audit of the expired cam = %+v; want one token.revoke saying why", rows)
	}
}

func TestService_RevokeToken(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	u, other := b.tokenUser(t, "tina"), b.tokenUser(t, "otto")
	by := issue.Actor{ID: "user:" + u.ID, Authority: issue.AllAuthority()}
	older := must(b.svc.CreateToken(ctx, u.ID, issue.TokenRequest{Name: "older", ExpiresInDays: days(1)}, by))(t)
	b.now = t0.Add(time.Minute)
	tok, err := b.svc.CreateToken(ctx, u.ID, issue.TokenRequest{Name: "kiosk", ExpiresInDays: days(1)}, by)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.RevokeToken(ctx, other.ID, tok.ID, issue.Actor{ID: "user:" + other.ID, Authority: issue.AllAuthority()}); !errors.Is(err, verify.ErrNotFound) {
		t.Fatalf("another user revoking it: %v; want ErrNotFound", err)
	}
	if _, err := b.svc.RevokeToken(ctx, u.ID, "tok_nope", by); !errors.Is(err, verify.ErrNotFound) {
		t.Fatalf("unknown token: %v; want ErrNotFound", err)
	}
	got, err := b.svc.RevokeToken(ctx, u.ID, tok.ID, by)
	if err != nil || got.RevokedAt == nil || !got.RevokedAt.Equal(b.now) {
		t.Fatalf("revoke = %+v, %v; want revoked at %v", got, err, b.now)
	}
	revokedAt := b.now
	b.now = b.now.Add(time.Hour)
	if again, err := b.svc.RevokeToken(ctx, u.ID, tok.ID, by); err != nil || !again.RevokedAt.Equal(revokedAt) {
		t.Fatalf("second revoke = %v, %v; want revoked_at to stay %v", again.RevokedAt, err, revokedAt)
	}
	if rows, _ := b.store.AuditList(ctx, issue.AuditFilter{Action: "token.revoke", Limit: 10}); len(rows) != 1 {
		t.Fatalf("%d token.revoke rows; want 1 (a second revoke records nothing)", len(rows))
	}
	list := b.tokens(t, u.ID)
	if len(list) != 2 || list[0].ID != tok.ID || list[0].RevokedAt == nil || list[1].ID != older.ID || list[1].RevokedAt != nil {
		t.Fatalf("list = %+v; want kiosk (revoked) then older", list)
	}
	if _, err := b.svc.ListTokens(ctx, "usr_nope"); !errors.Is(err, verify.ErrNotFound) {
		t.Fatalf("tokens of an unknown user: %v; want ErrNotFound", err)
	}
}

func TestService_TokenAuditHoldsNoSecret(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	b.appRole(t, "watcher", "events:read")
	u := b.tokenUser(t, "tina", "watcher")
	by := issue.Actor{ID: "user:" + u.ID, IP: "192.0.2.1", Authority: issue.AllAuthority()}
	tok, err := b.svc.CreateToken(ctx, u.ID, issue.TokenRequest{Name: "kiosk", Scopes: []string{"events:read"}, ExpiresInDays: days(7)}, by)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.RevokeToken(ctx, u.ID, tok.ID, issue.Actor{ID: "key:admin", Authority: issue.AllAuthority()}); err != nil {
		t.Fatal(err)
	}
	k := must(verify.ParseKey(verify.PrefixPersonalToken, tok.Secret))(t)
	rows, err := b.store.AuditList(ctx, issue.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]issue.AuditEntry{}
	for _, e := range rows {
		text := strings.Join([]string{e.Actor, string(e.Action), e.ResourceID, e.IP, e.UserAgent, e.RequestID, string(e.Metadata)}, " ")
		if strings.Contains(text, tok.Secret) || strings.Contains(text, k.Secret) {
			t.Fatalf("audit row %d (%s) holds the secret: %s", e.ID, e.Action, text)
		}
		seen[string(e.Action)] = e
	}
	create, revoke := seen["token.create"], seen["token.revoke"]
	var meta map[string]any
	if err := json.Unmarshal(create.Metadata, &meta); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"name": "kiosk", "prefix": tok.Prefix, "scopes": []any{"events:read"},
		"expires_at": "2030-01-08T12:00:00Z", "user_id": u.ID}
	if !reflect.DeepEqual(meta, want) {
		t.Errorf("token.create metadata = %v; want %v", meta, want)
	}
	if create.ResourceID != tok.ID || create.Actor != by.ID || create.IP != by.IP || create.ResourceType != "token" {
		t.Errorf("token.create row = %+v", create)
	}
	if revoke.ResourceID != tok.ID || revoke.Actor != "key:admin" || !strings.Contains(string(revoke.Metadata), tok.Prefix) {
		t.Errorf("token.revoke row = %+v", revoke)
	}
}
