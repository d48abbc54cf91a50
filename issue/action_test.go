package issue_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/authgate/authgate/issue"
)

// TestActions is the closed list of audit actions: a new one is added here on
// purpose, with its resource type, or not at all.
func TestActions(t *testing.T) {
	want := map[issue.Action]string{
		"key.create": "key", "key.rotate": "key", "key.revoke": "key", "key.disable": "key", "key.enable": "key",
		"key.rate_limit": "key",
		"user.create":    "user", "user.register": "user", "user.update": "user", "user.disable": "user",
		"user.enable": "user", "user.delete": "user", "user.login": "user", "user.login_failed": "user",
		"user.password_change": "user", "user.role_assign": "user", "user.role_unassign": "user",
		"user.role_sync": "user", "identity.link": "user", "identity.unlink": "user",
		"role.create": "role", "role.delete": "role", "role.grant": "role", "role.revoke": "role",
		"permission.create": "permission", "permission.delete": "permission",
		"session.refresh": "session", "session.revoke": "session",
		"token.create": "token", "token.revoke": "token", "token.rate_limit": "token",
		"signing_key.create": "signing_key", "signing_key.rotate": "signing_key",
		"audit.prune": "audit_log",
	}
	got := issue.Actions()
	if len(got) != len(want) || len(slices.Compact(slices.Sorted(slices.Values(got)))) != len(got) {
		t.Fatalf("got %d actions %v; want these %d, each once", len(got), got, len(want))
	}
	for _, a := range got {
		if !a.Known() || a.ResourceType() != want[a] {
			t.Errorf("got %s acting on %q; want %q", a, a.ResourceType(), want[a])
		}
	}
	if a := issue.Action("key.explode"); a.Known() || a.ResourceType() != "" {
		t.Errorf("got %s known (%q); want an unknown action", a, a.ResourceType())
	}
}

func TestService_ListAuditRefusesUnknownActions(t *testing.T) {
	b := setup(t)
	_, _, err := b.svc.ListAudit(context.Background(), issue.AuditFilter{Action: "key.explode"})
	var fe *issue.FieldError
	if !errors.As(err, &fe) || fe.Field != "action" || !strings.Contains(fe.Msg, "key.create") {
		t.Fatalf("got %v; want a *FieldError for action naming the allowed ones", err)
	}
	for _, a := range issue.Actions() {
		if _, _, err := b.svc.ListAudit(context.Background(), issue.AuditFilter{Action: a}); err != nil {
			t.Errorf("action %s: %v; want it accepted", a, err)
		}
	}
}
