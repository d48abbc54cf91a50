package portal

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/verify"
)

// accountView is the account page's data.
type accountView struct {
	chrome
	Username, Email string
	Roles           []string
	Notice          string
	Sessions        []sessionRow
	Identities      []identityRow // sign-ins with an external provider linked to the account
	Tokens          []tokenRow
	Scopes          []scopeBox // what a new token may carry
	MaxTokenDays    int
	PasswordMinLen  int
	NewToken        *issue.IssuedToken // just created: its secret, shown this once
	TokenForm       tokenForm
	Errors          map[string]string // by section: sessions, identities, tokens, password
}

type sessionRow struct {
	ID, Device, Kind, IP  string
	LastSeen, LastSeenISO string
	Created, CreatedISO   string
	Current               bool
}

// identityRow is one linked sign-in on the account page.
type identityRow struct {
	Provider, Issuer, Subject, Email string
	LastUsed, LastUsedISO            string
	Linked, LinkedISO                string
}

// accountNotices are the account page's own confirmations, beside notices.
var accountNotices = map[string]string{
	"identity_unlinked": "The sign-in has been unlinked. Signing in with it again follows the provider's rules for new sign-ins.",
}

// tokenForm is what was typed into the new-token form, put back after an error.
type tokenForm struct {
	Name   string
	Days   string
	Scopes map[string]bool
}

type scopeBox struct {
	ID, Name string // ID is the position, for the checkbox's id
	Checked  bool
}

// accountPage is GET /account.
func (p *Portal) accountPage(c echo.Context, pr *verify.Principal) error {
	v, err := p.account(c.Request().Context(), pr, p.freshForm())
	if err != nil {
		return p.serverError(c, err)
	}
	v.Notice = notices[c.QueryParam("done")]
	if v.Notice == "" {
		v.Notice = accountNotices[c.QueryParam("done")]
	}
	return p.render(c, http.StatusOK, "account", v)
}

// account reads what the account page shows of pr's user.
func (p *Portal) account(ctx context.Context, pr *verify.Principal, form tokenForm) (*accountView, error) {
	prof, err := p.svc.Profile(ctx, pr.Subject)
	if err != nil {
		return nil, err
	}
	sessions, err := p.svc.Sessions(ctx, pr.Subject)
	if err != nil {
		return nil, err
	}
	tokens, err := p.svc.ListTokens(ctx, pr.Subject)
	if err != nil {
		return nil, err
	}
	links, err := p.svc.Identities(ctx, pr.Subject)
	if err != nil {
		return nil, err
	}
	o := p.svc.Options()
	v := &accountView{chrome: chrome{Title: "Your account", User: prof.Username},
		Username: prof.Username, Email: prof.Email, Roles: prof.Roles,
		MaxTokenDays: o.MaxTokenDays, PasswordMinLen: o.PasswordMinLen, TokenForm: form, Errors: map[string]string{}}
	now := p.now()
	for _, s := range sessions {
		v.Sessions = append(v.Sessions, sessionRowOf(s, pr.SessionID, now))
	}
	for _, l := range links {
		v.Identities = append(v.Identities, identityRow{Provider: p.providerName(l.Provider), Issuer: l.Issuer, Subject: l.Subject,
			Email: l.Email, LastUsed: ago(now, l.LastSignInAt), LastUsedISO: machineTime(l.LastSignInAt),
			Linked: when(l.LinkedAt), LinkedISO: machineTime(l.LinkedAt)})
	}
	// Usage per token over the last 7 days, written by the usage counter
	// every 10 s: the latest answers may not be counted yet.
	use, err := p.svc.TokenUsageTotals(ctx, pr.Subject, now.Add(-issue.DefaultUsageSpan))
	if err != nil {
		return nil, err
	}
	for _, t := range tokens {
		v.Tokens = append(v.Tokens, tokenRowOf(t, use[t.ID], now))
	}
	for _, perm := range prof.Permissions {
		if !issue.OwnPermission(perm) {
			v.Scopes = append(v.Scopes, scopeBox{ID: strconv.Itoa(len(v.Scopes)), Name: perm, Checked: form.Scopes[perm]})
		}
	}
	return v, nil
}

func sessionRowOf(s issue.Session, current string, now time.Time) sessionRow {
	r := sessionRow{ID: s.ID, Device: s.DeviceName, Kind: "App (API login)", IP: s.IP,
		LastSeen: ago(now, s.RefreshedAt), LastSeenISO: machineTime(s.RefreshedAt),
		Created: when(s.CreatedAt), CreatedISO: machineTime(s.CreatedAt), Current: s.ID == current}
	if s.Kind == issue.SessionBrowser {
		r.Kind = "Browser"
	}
	if r.Device == "" {
		r.Device = deviceName(s.UserAgent)
	}
	if r.Device == "" {
		r.Device = "Unnamed device"
	}
	if r.IP == "" {
		r.IP = "unknown"
	}
	return r
}

// accountError answers a failed account form: the account page with the
// message beside the section's form, at the mapped status; anything
// unexpected is the 500 page.
func (p *Portal) accountError(c echo.Context, pr *verify.Principal, section string, form tokenForm, err error) error {
	status, msg, ok := formError(err)
	if !ok {
		return p.serverError(c, err)
	}
	return p.accountWith(c, pr, status, form, func(v *accountView) { v.Errors[section] = msg })
}

// accountAction runs one account form's change as the signed-in user: the
// form read, act called with the user's authority, then 303 to the account
// page with the done notice, or the account page with the error beside the
// section's form.
func (p *Portal) accountAction(c echo.Context, pr *verify.Principal, section, done string,
	act func(ctx context.Context, f formValues, by issue.Actor) error) error {
	f, err := postForm(c)
	if err != nil {
		return p.errorPage(c, http.StatusBadRequest, pageBadForm, err)
	}
	ctx := c.Request().Context()
	by, err := p.actorOf(ctx, c, pr)
	if err != nil {
		return p.serverError(c, err)
	}
	if err := act(ctx, f, by); err != nil {
		return p.accountError(c, pr, section, p.freshForm(), err)
	}
	return c.Redirect(http.StatusSeeOther, "/account?done="+done)
}

// accountWith answers the account page at status, changed by edit.
func (p *Portal) accountWith(c echo.Context, pr *verify.Principal, status int, form tokenForm, edit func(*accountView)) error {
	v, err := p.account(c.Request().Context(), pr, form)
	if err != nil {
		return p.serverError(c, err)
	}
	edit(v)
	return p.render(c, status, "account", v)
}

// endOneSession is POST /account/sessions/end (id). Ending this browser's
// own session is signing out.
func (p *Portal) endOneSession(c echo.Context, pr *verify.Principal) error {
	f, err := postForm(c)
	if err != nil {
		return p.errorPage(c, http.StatusBadRequest, pageBadForm, err)
	}
	id := f.get("id")
	if id == pr.SessionID {
		if err := p.endSession(c, pr, false); err != nil {
			return p.serverError(c, err)
		}
		p.clearCookie(c, siteOf(c))
		return c.Redirect(http.StatusSeeOther, "/login?done=signed_out")
	}
	ctx := c.Request().Context()
	by, err := p.actorOf(ctx, c, pr)
	if err != nil {
		return p.serverError(c, err)
	}
	if err := p.svc.EndSession(ctx, pr.Subject, id, by); err != nil {
		return p.accountError(c, pr, "sessions", p.freshForm(), err)
	}
	return c.Redirect(http.StatusSeeOther, "/account?done=session_ended")
}

// endOtherSessions is POST /account/sessions/end-all: every session of the
// user but this one ("sign out everywhere", this one included, is POST
// /logout with all=1).
func (p *Portal) endOtherSessions(c echo.Context, pr *verify.Principal) error {
	return p.accountAction(c, pr, "sessions", "sessions_ended", func(ctx context.Context, _ formValues, by issue.Actor) error {
		_, err := p.svc.EndOtherSessions(ctx, pr.Subject, pr.SessionID, by)
		return err
	})
}

// unlinkIdentity is POST /account/identities/unlink (issuer, subject): the
// external sign-in no longer leads to this account. The user's sessions go on.
func (p *Portal) unlinkIdentity(c echo.Context, pr *verify.Principal) error {
	return p.accountAction(c, pr, "identities", "identity_unlinked", func(ctx context.Context, f formValues, by issue.Actor) error {
		return p.svc.Unlink(ctx, pr.Subject, f.get("issuer"), f.get("subject"), by)
	})
}

// changePassword is POST /account/password (current, new, repeat): every
// other session of the user ends; this one goes on.
func (p *Portal) changePassword(c echo.Context, pr *verify.Principal) error {
	f, err := postForm(c)
	if err != nil {
		return p.errorPage(c, http.StatusBadRequest, pageBadForm, err)
	}
	form := p.freshForm()
	if f.get("new") != f.get("repeat") {
		return p.accountWith(c, pr, http.StatusBadRequest, form, func(v *accountView) {
			v.Errors["password"] = "The two new passwords differ: type the same one twice."
		})
	}
	ctx := c.Request().Context()
	by, err := p.actorOf(ctx, c, pr)
	if err != nil {
		return p.serverError(c, err)
	}
	if err := p.svc.ChangePassword(ctx, pr.Subject, f.get("current"), f.get("new"), pr.SessionID, by); err != nil {
		return p.accountError(c, pr, "password", form, err)
	}
	return c.Redirect(http.StatusSeeOther, "/account?done=password_changed")
}

// providerName is the display name of the configured provider id, or the id
// itself for a provider no longer configured.
func (p *Portal) providerName(id string) string {
	if p.providers != nil {
		if info, ok := p.providers.Provider(id); ok {
			return info.Name
		}
	}
	return id
}
