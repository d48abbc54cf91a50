package deploy_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// tab is one page in a browser context of its own: its own cookie jar, as
// another device would have.
type tab struct {
	t   *testing.T
	ctx context.Context
}

// devices is how many browser contexts a stack keeps: a case uses at most
// this many at once.
const devices = 3

// openDevices opens the stack's browser contexts, each with one tab, closed
// with the test. A new context costs about a second; emptying the cookie jar
// of one, a few milliseconds.
func (s *browserStack) openDevices(t *testing.T) {
	t.Helper()
	for i := range s.devices {
		ctx, cancel := chromedp.NewContext(s.browser, chromedp.WithNewBrowserContext())
		t.Cleanup(cancel)
		if err := chromedp.Do(ctx); err != nil {
			t.Fatalf("open a browser context: %v", err)
		}
		s.devices[i] = ctx
	}
}

// device returns browser context i (0 to devices-1) for t, its cookies gone,
// as a device that never signed in (its tab still shows the last page: open
// one first). Every action on it must finish within a minute.
func (s *browserStack) device(t *testing.T, i int) *tab {
	t.Helper()
	ctx, cancel := context.WithTimeout(s.devices[i], time.Minute)
	t.Cleanup(cancel)
	b := &tab{t: t, ctx: ctx}
	if _, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
		t.Fatalf("empty the cookie jar: %v", err)
	}
	return b
}

// open navigates to u and returns the response of the page it ends on, after
// any redirects.
func (b *tab) open(u string) *network.Response {
	b.t.Helper()
	resp, err := chromedp.Run(b.ctx, chromedp.NavigateResponse(u))
	if err != nil {
		b.t.Fatalf("open %s: %v", u, err)
	}
	return resp
}

// submit clicks the submit button matching sel and returns the response of
// the page the browser ends on.
func (b *tab) submit(sel string) *network.Response {
	b.t.Helper()
	resp, err := chromedp.RunResponse(b.ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("submit %s: %v", sel, err)
	}
	return resp
}

// do runs actions that return nothing.
func (b *tab) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatal(err)
	}
}

// url is where the tab is now.
func (b *tab) url() *url.URL {
	b.t.Helper()
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatal(err)
	}
	u, err := url.Parse(loc)
	if err != nil {
		b.t.Fatal(err)
	}
	return u
}

// text is what the page says (document.body.innerText).
func (b *tab) text() string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if err != nil {
		b.t.Fatal(err)
	}
	return s
}

// value reads an input's value.
func (b *tab) value(sel string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("value of %s: %v", sel, err)
	}
	return v
}

// onLogin fails unless the tab shows the sign-in page of host, asked to
// return to rd (a path on an app host), and returns that URL.
func (b *tab) onLogin(host, rd string) {
	b.t.Helper()
	u := b.url()
	if u.Host != host || u.Path != "/login" {
		b.t.Fatalf("the browser is at %s; want the sign-in page https://%s/login (page: %.300q)", u, host, b.text())
	}
	if rd != "" && u.Query().Get("rd") != rd {
		b.t.Errorf("sign-in page rd=%q; want %q", u.Query().Get("rd"), rd)
	}
}

// signIn fills the sign-in form the tab shows and sends it; it returns the
// response of the page the browser ends on.
func (b *tab) signIn(p person, remember bool) *network.Response {
	b.t.Helper()
	b.do(chromedp.SetValue(chromedp.ID("login"), p.login), chromedp.SetValue(chromedp.ID("password"), password))
	if remember {
		b.do(chromedp.Click(chromedp.ID("remember")))
	}
	return b.submit(`main form[action="/login"] button[type=submit]`)
}

// cookie returns the session cookie in the browser's jar that would go to
// https://host/, or nil.
func (b *tab) cookie(host string) *network.Cookie {
	b.t.Helper()
	res, err := chromedp.Call(b.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{"https://" + host + "/"}})
	if err != nil {
		b.t.Fatal(err)
	}
	for _, c := range res.Cookies {
		if c.Name == cookieName {
			return c
		}
	}
	return nil
}

// setCookie puts a session cookie with value into the jar, for every host
// under domain, as a script on a sibling host (or malware) could.
func (b *tab) setCookie(domain, value string) {
	b.t.Helper()
	yes := true
	_, err := chromedp.Call(b.ctx, network.SetCookie, network.SetCookieParams{
		Name: cookieName, Value: value, URL: "https://" + domain + "/", Domain: "." + domain, Path: "/",
		Secure: &yes, HTTPOnly: &yes, SameSite: network.CookieSameSiteLax,
	})
	if err != nil {
		b.t.Fatalf("set cookie: %v", err)
	}
}

// fetched is what a fetch() from the page got.
type fetched struct {
	Status     int    `json:"status"`
	Type       string `json:"type"` // "opaqueredirect" when a redirect came back (redirect: "manual")
	Redirected bool   `json:"redirected"`
	Body       string `json:"body"`
}

// fetch calls fetch(u, init) in the page; init is a JavaScript object
// literal. Redirects are not followed, so one shows as type opaqueredirect.
func (b *tab) fetch(u, init string) fetched {
	b.t.Helper()
	js := fmt.Sprintf(`fetch(%q, Object.assign({redirect: "manual"}, %s)).then(async r => `+
		`({status: r.status, type: r.type, redirected: r.redirected, body: (await r.text()).slice(0, 300)}))`, u, init)
	f, err := chromedp.Run(b.ctx, chromedp.Evaluate[fetched](js, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("fetch %s: %v", u, err)
	}
	return f
}

// postFrom builds a form in the page the tab shows, posting fields to
// target, and sends it, as an attacker's page would. It returns the response
// of the page the browser ends on.
func (b *tab) postFrom(target string, fields map[string]string) *network.Response {
	b.t.Helper()
	var js strings.Builder
	fmt.Fprintf(&js, `(() => { const f = document.createElement("form"); f.method = "POST"; f.action = %q;`, target)
	for k, v := range fields {
		fmt.Fprintf(&js, `{ const i = document.createElement("input"); i.type = "hidden"; i.name = %q; i.value = %q; f.appendChild(i); }`, k, v)
	}
	js.WriteString(`document.body.appendChild(f); setTimeout(() => f.submit(), 0); })()`)
	resp, err := chromedp.RunResponse(b.ctx, chromedp.Evaluate[chromedp.Void](js.String()))
	if err != nil {
		b.t.Fatalf("post to %s: %v", target, err)
	}
	return resp
}
