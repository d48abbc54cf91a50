package portal_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/authgate/authgate/issue"
)

func TestPortal_Account_TokenUsage(t *testing.T) {
	f := setup(t, issue.Options{})
	u := f.newUser(t, "vera")
	c := f.signIn(t, "vera")
	days, ctx := 30, context.Background()
	by := issue.Actor{ID: u.ID, Authority: issue.AllAuthority()}
	used, err := f.svc.CreateToken(ctx, u.ID, issue.TokenRequest{Name: "kiosk", Scopes: []string{"events:read"}, ExpiresInDays: &days}, by)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CreateToken(ctx, u.ID, issue.TokenRequest{Name: "spare", Scopes: []string{"events:read"}, ExpiresInDays: &days}, by); err != nil {
		t.Fatal(err)
	}
	h := time.Now().Truncate(time.Hour)
	if err := f.store.UsageAdd(ctx, []issue.UsageCount{
		{CredentialID: used.ID, Hour: h, Count: 4},
		{CredentialID: used.ID, Hour: h.Add(-time.Hour), Reason: "wrong_secret", Count: 1},
		{CredentialID: used.ID, Hour: h.Add(-8 * 24 * time.Hour), Count: 100}, // older than the 7 days shown
	}); err != nil {
		t.Fatal(err)
	}
	wantPage(t, f.get(t, "/account", c), http.StatusOK, `<th scope="col">Last 7 days</th>`,
		"<td>kiosk</td>", "<td>4 allowed, 1 denied</td>", "<td>spare</td>", "<td>none</td>")
}
