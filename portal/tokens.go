package portal

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/verify"
)

// tokenRow is a personal token as the account page lists it; never its secret.
type tokenRow struct {
	ID, Name, Prefix, Scopes string
	Expires, LastUsed, State string
	Usage                    string // its answers over the last 7 days: "12 allowed, 1 denied", or "none"
	Live                     bool
}

func tokenRowOf(t issue.PersonalToken, use issue.UsageTotal, now time.Time) tokenRow {
	r := tokenRow{ID: t.ID, Name: t.Name, Prefix: t.Prefix, Scopes: strings.Join(t.Scopes, " "),
		Expires: day(t.ExpiresAt), LastUsed: "never", State: "active", Live: true, Usage: "none"}
	if use.Allowed+use.Denied > 0 {
		r.Usage = strconv.FormatInt(use.Allowed, 10) + " allowed, " + strconv.FormatInt(use.Denied, 10) + " denied"
	}
	if len(t.Scopes) == 0 {
		r.Scopes = "none"
	}
	if t.LastUsedAt != nil {
		r.LastUsed = ago(now, *t.LastUsedAt)
	}
	switch {
	case t.RevokedAt != nil:
		r.State, r.Live = "revoked", false
	case !now.Before(t.ExpiresAt):
		r.State, r.Live = "expired", false
	}
	return r
}

// createToken is POST /account/tokens (name, days, scopes…). The answer is
// the account page showing the new token's secret, this once: it is never
// put in a URL, and the page is not cached (Cache-Control: no-store).
func (p *Portal) createToken(c echo.Context, pr *verify.Principal) error {
	f, err := postForm(c)
	if err != nil {
		return p.errorPage(c, http.StatusBadRequest, pageBadForm, err)
	}
	form := tokenForm{Name: f.get("name"), Days: f.get("days"), Scopes: map[string]bool{}}
	in := issue.TokenRequest{Name: form.Name, Scopes: f["scopes"]}
	for _, sc := range in.Scopes {
		form.Scopes[sc] = true
	}
	if form.Days != "" {
		n, err := strconv.Atoi(strings.TrimSpace(form.Days))
		if err != nil {
			return p.accountWith(c, pr, http.StatusBadRequest, form, func(v *accountView) {
				v.Errors["tokens"] = "Expires after: write a whole number of days."
			})
		}
		in.ExpiresInDays = &n
	}
	ctx := c.Request().Context()
	by, err := p.actorOf(ctx, c, pr)
	if err != nil {
		return p.serverError(c, err)
	}
	t, err := p.svc.CreateToken(ctx, pr.Subject, in, by)
	if err != nil {
		return p.accountError(c, pr, "tokens", form, err)
	}
	return p.accountWith(c, pr, http.StatusCreated, p.freshForm(), func(v *accountView) { v.NewToken = &t })
}

// revokeToken is POST /account/tokens/revoke (id). Another user's token is
// as if it did not exist (404 beside the list).
func (p *Portal) revokeToken(c echo.Context, pr *verify.Principal) error {
	return p.accountAction(c, pr, "tokens", "token_revoked", func(ctx context.Context, f formValues, by issue.Actor) error {
		_, err := p.svc.RevokeToken(ctx, pr.Subject, f.get("id"), by)
		return err
	})
}
