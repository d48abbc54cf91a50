package portal_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/authgate/authgate/issue"
)

// TestPortal_Account_UnlinkLastSignIn: someone a provider created, with no
// password, cannot unlink the one sign-in they have; the refusal (409) is
// shown beside the linked sign-ins, and the link stays.
func TestPortal_Account_UnlinkLastSignIn(t *testing.T) {
	f, op := ssoSetup(t, issue.ProviderPolicy{NewUsers: issue.NewUsersCreate})
	authURL, attempt := ssoStart(t, f, "")
	c := sessionCookie(t, f.get(t, loginAt(t, op, authURL, "alice"), attempt))
	pr, err := f.principal(t, c.Value)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := f.svc.Identities(context.Background(), pr.Subject)
	if err != nil || len(ids) != 1 {
		t.Fatalf("got identities %v, %v; want alice's one", ids, err)
	}
	form := url.Values{"issuer": {ids[0].Issuer}, "subject": {ids[0].Subject}}
	a := f.post(t, "/account/identities/unlink", form, c)
	wantPage(t, a, http.StatusConflict, `<h2 id="identities-h">Linked sign-ins</h2>`, `<p class="error" role="alert"`,
		"This is the only way to sign in to this account, which has no password")
	if ids, err := f.svc.Identities(context.Background(), pr.Subject); err != nil || len(ids) != 1 {
		t.Fatalf("got identities %v, %v; want the link kept", ids, err)
	}
}
