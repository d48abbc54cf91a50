package issue_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate/issue"
)

func TestService_SignInExternal_CreatesUser(t *testing.T) {
	a := extWorld(t, issue.Options{})
	ctx := context.Background()
	bs := a.mustSignInExternal(t, person("Fay"), createFamily)
	u := must(a.svc.GetUser(ctx, bs.UserID))(t)
	if u.Username != "fay" || u.Email != "Fay@example.com" || u.FullName != "Person Fay" || !slices.Equal(u.Roles, []string{"family"}) {
		t.Fatalf("created %+v; want fay, her email and name, the default role", u)
	}
	if _, err := a.login(t, "fay", ""); err == nil {
		t.Fatal("a password login works for a user created by a provider")
	}
	if issue.CheckPassword(u.PasswordHash, "") || !strings.HasPrefix(u.PasswordHash, "$argon2id$") {
		t.Fatalf("hash %q; want a well-formed argon2id hash nothing matches", u.PasswordHash)
	}
	ids := a.identities(t, u.ID)
	if len(ids) != 1 || ids[0].Subject != "Fay" || ids[0].Issuer != pocketIssuer || ids[0].Provider != "pocket" {
		t.Fatalf("identities %+v; want the one she signed in with", ids)
	}
	s := a.session(t, bs.ID)
	if s.Kind != issue.SessionBrowser || s.DeviceName != "Firefox" || s.UserID != u.ID || bs.Cookie == "" {
		t.Fatalf("session %+v; want a browser session named Firefox", s)
	}
	for action, want := range map[string]map[string]any{
		"user.create":   {"username": "fay", "provider": "pocket", "_resource_id": u.ID},
		"identity.link": {"via": "created", "subject": "Fay", "_actor": "user:" + u.ID, "_resource_id": u.ID},
		"user.login":    {"kind": "browser", "provider": "pocket", "session_id": bs.ID, "_actor": "user:" + u.ID},
	} {
		rows := a.auditRows(t, action)
		if len(rows) != 1 {
			t.Fatalf("%d %s rows; want 1", len(rows), action)
		}
		for k, v := range want {
			if rows[0][k] != v {
				t.Errorf("%s row %v: %s = %v; want %v", action, rows[0], k, rows[0][k], v)
			}
		}
	}

	// Again: the same user through the link, nothing new but a session.
	a.now = a.now.Add(time.Hour)
	again := person("Fay")
	again.Email = "fay.ng@example.com"
	second := a.mustSignInExternal(t, again, createFamily)
	if second.UserID != u.ID || second.ID == bs.ID {
		t.Fatalf("second sign-in %+v; want a new session of the same user", second)
	}
	ids = a.identities(t, u.ID)
	if n, _ := a.store.UserCount(ctx); n != 1 || len(ids) != 1 || !ids[0].LastSignInAt.Equal(a.now) ||
		ids[0].Email != "fay.ng@example.com" || !ids[0].LinkedAt.Equal(t0) {
		t.Fatalf("%d users, identities %+v; want one of each, last sign-in and email updated", n, ids)
	}
	if rows := a.auditRows(t, "identity.link"); len(rows) != 1 {
		t.Fatalf("%d identity.link rows; want still 1", len(rows))
	}
}

func TestService_SignInExternal_Usernames(t *testing.T) {
	a := extWorld(t, issue.Options{})
	a.newUser(t, "fay")
	for _, tt := range []struct{ name, username, email, want string }{
		{"TakenGetsANumber", "Fay", "fay.one@example.com", "fay2"},
		{"NextNumber", "FAY", "fay.two@example.com", "fay3"},
		{"EmailLocalPart", "", "Jo.Smith@example.com", "jo.smith"},
		{"AlphabetAndAt", "Jean Luc@corp.example", "jl@example.com", "jean-luc"},
		{"NothingLeft", "!!!", "x@example.com", "user"},
		{"Long", strings.Repeat("a", 100), "long@example.com", strings.Repeat("a", issue.MaxUsernameLen-8)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			id := person("sub-" + tt.name)
			id.Username, id.Email = tt.username, tt.email
			bs := a.mustSignInExternal(t, id, createFamily)
			if u := must(a.svc.GetUser(context.Background(), bs.UserID))(t); u.Username != tt.want {
				t.Fatalf("username %q; want %q", u.Username, tt.want)
			}
		})
	}
}

func TestService_SignInExternal_LinksByVerifiedEmail(t *testing.T) {
	a := extWorld(t, issue.Options{})
	gil := a.newUser(t, "gil", "viewer")
	id := person("sub-gil")
	id.Email = "GIL@example.com"
	bs := a.mustSignInExternal(t, id, issue.ProviderPolicy{LinkByVerifiedEmail: true})
	if bs.UserID != gil.ID {
		t.Fatalf("signed in as %s; want gil (%s), who holds the email", bs.UserID, gil.ID)
	}
	if ids := a.identities(t, gil.ID); len(ids) != 1 || ids[0].Subject != "sub-gil" {
		t.Fatalf("gil's identities %+v; want the one just linked", ids)
	}
	if rows := a.auditRows(t, "identity.link"); len(rows) != 1 || rows[0]["via"] != "verified_email" {
		t.Fatalf("identity.link rows %v; want one, via verified_email", rows)
	}
	if n, _ := a.store.UserCount(context.Background()); n != 1 {
		t.Fatalf("%d users; want gil alone", n)
	}
}

// TestService_SignInExternal_Refusals: each refusal answers ErrSignInRefused,
// creates nothing (no user, link, role or session) and writes exactly one
// audit row, user.login_failed with its reason and the provider.
func TestService_SignInExternal_Refusals(t *testing.T) {
	linkVerified := issue.ProviderPolicy{NewUsers: issue.NewUsersCreate, DefaultRole: "family", LinkByVerifiedEmail: true,
		Roles: map[string]string{"admins": "admin"}}
	for _, tt := range []struct {
		name    string
		edit    func(*issue.ExternalIdentity)
		policy  issue.ProviderPolicy
		reason  string
		holders bool // the row names the account concerned
	}{
		{"NewRefused", nil, refuseNew, "not_linked", false},
		{"NewRefusedEmailLinkingOff", func(id *issue.ExternalIdentity) { id.Email = "hal@example.com" }, refuseNew, "not_linked", false},
		{"UnverifiedEmailDoesNotLink", func(id *issue.ExternalIdentity) { id.Email, id.EmailVerified = "hal@example.com", false },
			linkVerified, "email_unverified", true},
		{"NeverASecondAccountWithTheEmail", func(id *issue.ExternalIdentity) { id.Email = "hal@example.com" }, createFamily, "email_taken", true},
		{"CreateNeedsAnEmail", func(id *issue.ExternalIdentity) { id.Email = "" }, createFamily, "no_email", false},
		{"CreateNeedsAUsableEmail", func(id *issue.ExternalIdentity) { id.Email = "not an address" }, createFamily, "no_email", false},
		{"DisabledByEmail", func(id *issue.ExternalIdentity) { id.Email = "dee-linked@example.com"; id.Groups = []string{"admins"} },
			linkVerified, "disabled", true},
		{"DisabledLinked", func(id *issue.ExternalIdentity) { id.Subject = "dee-linked"; id.Groups = []string{"admins"} },
			linkVerified, "disabled", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := extWorld(t, issue.Options{})
			ctx := context.Background()
			hal := a.newUser(t, "hal")
			dee := a.mustSignInExternal(t, person("dee-linked"), createFamily).UserID
			if _, err := a.svc.SetUserDisabled(ctx, dee, true, issue.CLI()); err != nil {
				t.Fatal(err)
			}
			id := person("newcomer")
			if tt.edit != nil {
				tt.edit(&id)
			}
			before, users := len(a.audit(t)), must(a.store.UserCount(ctx))(t)
			_, err := a.signInExternal(t, id, tt.policy)
			if !errors.Is(err, issue.ErrSignInRefused) || !errors.Is(err, issue.ErrPermission) {
				t.Fatalf("got %v; want ErrSignInRefused", err)
			}
			if n := must(a.store.UserCount(ctx))(t); n != users {
				t.Fatalf("%d users; want still %d", n, users)
			}
			for _, u := range []string{hal.ID, dee} {
				if ids := a.identities(t, u); len(ids) > 1 || u == hal.ID && len(ids) != 0 {
					t.Fatalf("identities of %s: %+v; want none new", u, ids)
				}
				if live := must(a.svc.Sessions(ctx, u))(t); len(live) != 0 {
					t.Fatalf("sessions of %s: %+v; want none", u, live)
				}
				if roles := must(a.svc.UserRoles(ctx, u))(t); slices.Contains(roles, "admin") {
					t.Fatalf("roles of %s: %v; want no admin from the refused sign-in", u, roles)
				}
			}
			rows := a.audit(t)[before:]
			if len(rows) != 1 || rows[0].Action != issue.ActionLoginFailed || rows[0].Outcome != issue.OutcomeFailure {
				t.Fatalf("new audit rows %+v; want one user.login_failed", rows)
			}
			m := a.auditRows(t, "user.login_failed")
			got := m[len(m)-1]
			if got["reason"] != tt.reason || got["provider"] != "pocket" || got["subject"] != id.Subject ||
				(got["_resource_id"] != "") != tt.holders {
				t.Fatalf("row %v; want reason %s, provider pocket, the account named: %v", got, tt.reason, tt.holders)
			}
		})
	}
}

func TestService_SignInExternal_RoleSync(t *testing.T) {
	a := extWorld(t, issue.Options{})
	ctx := context.Background()
	p := issue.ProviderPolicy{LinkByVerifiedEmail: true, Roles: map[string]string{"family": "family", "admins": "admin", "ops": "admin"}}
	ivy := a.newUser(t, "ivy", "viewer") // viewer: granted by hand, not the mapping's
	roles := func() []string { return must(a.svc.UserRoles(ctx, ivy.ID))(t) }
	signIn := func(groups ...string) {
		t.Helper()
		id := person("sub-ivy")
		id.Email, id.Groups = "ivy@example.com", groups
		a.mustSignInExternal(t, id, p)
	}
	for _, step := range []struct {
		groups []string
		want   []string
		sync   []string // role:change rows added by this sign-in
	}{
		{[]string{"family", "unmapped"}, []string{"family", "viewer"}, []string{"family:assign"}},
		{[]string{"family"}, []string{"family", "viewer"}, nil},
		{[]string{"admins", "ops"}, []string{"admin", "viewer"}, []string{"admin:assign", "family:unassign"}},
		{nil, []string{"viewer"}, []string{"admin:unassign"}},
	} {
		before := len(a.auditRows(t, "user.role_sync"))
		signIn(step.groups...)
		if got := roles(); !slices.Equal(got, step.want) {
			t.Fatalf("groups %v: roles %v; want %v", step.groups, got, step.want)
		}
		var sync []string
		for _, r := range a.auditRows(t, "user.role_sync")[before:] {
			if r["provider"] != "pocket" || r["_resource_id"] != ivy.ID || r["_actor"] != "user:"+ivy.ID {
				t.Fatalf("role_sync row %v; want it of ivy, by ivy, naming the provider", r)
			}
			sync = append(sync, r["role"].(string)+":"+r["change"].(string))
		}
		if !slices.Equal(sync, step.sync) {
			t.Fatalf("groups %v: role_sync rows %v; want %v", step.groups, sync, step.sync)
		}
	}
}

func TestService_SignInExternal_DefaultRoleMappedToo(t *testing.T) {
	a := extWorld(t, issue.Options{})
	p := createFamily
	p.Roles = map[string]string{"family": "family"}
	bs := a.mustSignInExternal(t, person("jan"), p) // no family group: the mapping takes the default role back
	if roles := must(a.svc.UserRoles(context.Background(), bs.UserID))(t); len(roles) != 0 {
		t.Fatalf("roles %v; want none: the mapping names family and jan is not in the group", roles)
	}
}

func TestService_SignInExternal_PolicyRoleGone(t *testing.T) {
	a := extWorld(t, issue.Options{})
	ctx := context.Background()
	before := len(a.audit(t))
	p := issue.ProviderPolicy{NewUsers: issue.NewUsersCreate, DefaultRole: "ghost"}
	if _, err := a.signInExternal(t, person("kit"), p); !errors.Is(err, issue.ErrProviderPolicy) {
		t.Fatalf("default role that does not exist: %v; want ErrProviderPolicy", err)
	}
	p = issue.ProviderPolicy{NewUsers: issue.NewUsersCreate, Roles: map[string]string{"g": "ghost"}}
	id := person("kit")
	id.Groups = []string{"g"}
	if _, err := a.signInExternal(t, id, p); !errors.Is(err, issue.ErrProviderPolicy) {
		t.Fatalf("mapped role that does not exist: %v; want ErrProviderPolicy", err)
	}
	if n := must(a.store.UserCount(ctx))(t); n != 0 {
		t.Fatalf("%d users; want none: a failed sign-in creates nothing", n)
	}
	if rows := a.audit(t)[before:]; len(rows) != 0 {
		t.Fatalf("audit rows %+v; want none: a server's failure is no refusal, and creates nothing", rows)
	}
}

func TestService_SignInExternal_SessionCap(t *testing.T) {
	a := extWorld(t, issue.Options{MaxSessions: 3})
	var ids []string
	for range 4 {
		ids = append(ids, a.mustSignInExternal(t, person("lea"), createFamily).ID)
		a.now = a.now.Add(time.Second)
	}
	if s := a.session(t, ids[0]); s.RevokedAt == nil || *s.RevokeReason != issue.ReasonEvicted {
		t.Fatalf("the oldest session %+v; want it evicted", s)
	}
	if live := must(a.svc.Sessions(context.Background(), a.session(t, ids[3]).UserID))(t); len(live) != 3 {
		t.Fatalf("%d live sessions; want the cap, 3", len(live))
	}
}

func TestService_SignInExternal_BadInput(t *testing.T) {
	a := extWorld(t, issue.Options{})
	for _, tt := range []struct {
		name  string
		edit  func(*issue.ExternalIdentity)
		field string
	}{
		{"NoProvider", func(id *issue.ExternalIdentity) { id.Provider = "" }, "provider"},
		{"NoIssuer", func(id *issue.ExternalIdentity) { id.Issuer = "" }, "issuer"},
		{"NoSubject", func(id *issue.ExternalIdentity) { id.Subject = "" }, "subject"},
		{"ControlInSubject", func(id *issue.ExternalIdentity) { id.Subject = "a\x00b" }, "subject"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			id := person("mo")
			tt.edit(&id)
			var fe *issue.FieldError
			if _, err := a.signInExternal(t, id, createFamily); !errors.As(err, &fe) || fe.Field != tt.field {
				t.Fatalf("got %v; want a *FieldError for %s", err, tt.field)
			}
		})
	}
	if _, err := a.signInExternal(t, person("mo"), issue.ProviderPolicy{NewUsers: "maybe"}); !errors.Is(err, issue.ErrProviderPolicy) {
		t.Fatalf("new_users maybe: %v; want ErrProviderPolicy", err)
	}
}

// TestService_SignInExternal_Concurrent: the same new person signing in twice
// at once gets one user and one link, and both sign-ins succeed.
func TestService_SignInExternal_Concurrent(t *testing.T) {
	a := extWorld(t, issue.Options{})
	var wg sync.WaitGroup
	got := make([]issue.BrowserSession, 4)
	errs := make([]error, len(got))
	for i := range got {
		wg.Go(func() { got[i], errs[i] = a.signInExternal(t, person("uma"), createFamily) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil || got[i].UserID != got[0].UserID {
			t.Fatalf("sign-in %d: %+v, %v; want every one a session of the same user", i, got[i], err)
		}
	}
	if n := must(a.store.UserCount(context.Background()))(t); n != 1 {
		t.Fatalf("%d users; want one", n)
	}
	if ids := a.identities(t, got[0].UserID); len(ids) != 1 {
		t.Fatalf("identities %+v; want one", ids)
	}
}
