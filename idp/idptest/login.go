package idptest

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// Login signs in as Users[0] (alice by default); see LoginAs.
func (p *Provider) Login(t testing.TB, client *http.Client, authURL string) (callbackURL string) {
	t.Helper()
	return p.LoginAs(t, client, authURL, p.Users[0].Username, p.Users[0].Password)
}

// LoginAs follows authURL (the authorization request a relying party made) as
// a person would: the provider's redirects to its login form, the form filled
// in with username and password and submitted, the redirects after it. It
// returns the first redirect that leaves the provider, unfollowed: the
// relying party's redirect URI with code and state, or with error and
// error_description when the provider refused the request there. client's
// cookie jar, if any, keeps the provider's cookies; its CheckRedirect is not
// used. A refused login, an error page of the provider's own or anything
// else t fails on.
func (p *Provider) LoginAs(t testing.TB, client *http.Client, authURL, username, password string) (callbackURL string) {
	t.Helper()
	cb, err := p.login(client, authURL, username, password)
	if err != nil {
		t.Fatalf("log in to %s as %s: %v", p.Issuer, username, err)
	}
	return cb
}

func (p *Provider) login(client *http.Client, authURL, username, password string) (string, error) {
	issuer, err := url.Parse(p.Issuer)
	if err != nil {
		return "", err
	}
	var c http.Client
	if client != nil {
		c = *client
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	req, err := http.NewRequest(http.MethodGet, authURL, nil)
	if err != nil {
		return "", err
	}
	submitted := false
	for range 20 {
		resp, err := c.Do(req)
		if err != nil {
			return "", err
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err != nil {
			return "", err
		}
		switch {
		case resp.StatusCode >= 300 && resp.StatusCode < 400:
			loc, err := resp.Location()
			if err != nil {
				return "", fmt.Errorf("%s from %s: %w", resp.Status, req.URL, err)
			}
			if loc.Host != issuer.Host || loc.Scheme != issuer.Scheme {
				return loc.String(), nil
			}
			if req, err = http.NewRequest(http.MethodGet, loc.String(), nil); err != nil {
				return "", err
			}
		case resp.StatusCode == http.StatusOK && !submitted:
			action, fields, err := loginForm(body)
			if err != nil {
				return "", fmt.Errorf("GET %s: %w", req.URL, err)
			}
			fields.Set("username", username)
			fields.Set("password", password)
			if req, err = http.NewRequest(http.MethodPost, req.URL.ResolveReference(action).String(),
				strings.NewReader(fields.Encode())); err != nil {
				return "", err
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			submitted = true
		case resp.StatusCode == http.StatusOK:
			return "", fmt.Errorf("login refused: %q", pageText(body))
		default:
			return "", fmt.Errorf("%s %s: %s: %q", req.Method, req.URL, resp.Status, pageText(body))
		}
	}
	return "", fmt.Errorf("too many redirects from %s", authURL)
}

// loginForm finds the page's form with a password field: its action, and its
// fields with their values (the hidden auth request id among them).
func loginForm(page []byte) (*url.URL, url.Values, error) {
	doc, err := html.Parse(strings.NewReader(string(page)))
	if err != nil {
		return nil, nil, err
	}
	var action string
	var fields url.Values
	var walk func(n *html.Node, form string, vals url.Values)
	walk = func(n *html.Node, form string, vals url.Values) {
		if n.Type == html.ElementNode && n.Data == "form" {
			form, vals = attr(n, "action"), url.Values{}
		}
		if n.Type == html.ElementNode && n.Data == "input" && vals != nil {
			if name := attr(n, "name"); name != "" {
				vals.Set(name, attr(n, "value"))
			}
			if attr(n, "type") == "password" && fields == nil {
				action, fields = form, vals
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, form, vals)
		}
	}
	walk(doc, "", nil)
	if fields == nil {
		return nil, nil, fmt.Errorf("no login form: %q", pageText(page))
	}
	u, err := url.Parse(action)
	return u, fields, err
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// pageText is a page's visible text, squeezed, for error messages.
func pageText(page []byte) string {
	doc, err := html.Parse(strings.NewReader(string(page)))
	if err != nil {
		return string(page)
	}
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
			b.WriteByte(' ')
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	s := strings.Join(strings.Fields(b.String()), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
