package portal_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/authgate/authgate/issue"
)

const wantCSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self' " +
	"https://home.example:* https://*.home.example:* https://lab.example.net:* https://*.lab.example.net:*; " +
	"frame-ancestors 'none'; base-uri 'none'"

// Every portal answer, page or error, redirect or stylesheet, carries the
// security headers.
func TestPortal_SecurityHeaders(t *testing.T) {
	f := setup(t, issue.Options{})
	f.newUser(t, "vera")
	c := f.signIn(t, "vera")
	crossSite := http.Header{"Sec-Fetch-Site": {"cross-site"}}
	for _, tt := range []struct {
		name   string
		rq     request
		status int
	}{
		{"LoginPage", request{method: "GET", path: "/login"}, 200},
		{"LoginBadReturn", request{method: "GET", path: "/login?rd=https%3A%2F%2Fevil.example"}, 400},
		{"SignInRefused", request{method: "POST", path: "/login", form: url.Values{"login": {"vera"}, "password": {"x"}}}, 401},
		{"SignIn", request{method: "POST", path: "/login", form: url.Values{"login": {"vera"}, "password": {"password-of-vera"}}}, 303},
		{"AccountRedirect", request{method: "GET", path: "/account"}, 303},
		{"Account", request{method: "GET", path: "/account", cookies: []*http.Cookie{c}}, 200},
		{"Denied", request{method: "GET", path: "/denied?scope=events:admin"}, 403},
		{"Stylesheet", request{method: "GET", path: "/static/portal.css"}, 200},
		{"CrossOrigin", request{method: "POST", path: "/login", header: crossSite, form: url.Values{}}, 403},
		{"WrongHost", request{method: "GET", path: "/login", host: "app.home.example"}, 404},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := f.do(t, tt.rq)
			if a.StatusCode != tt.status {
				t.Fatalf("status %d; want %d\n%s", a.StatusCode, tt.status, a.body)
			}
			for name, want := range map[string]string{
				"Content-Security-Policy": wantCSP, "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
				"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
			} {
				if got := a.Header.Get(name); got != want {
					t.Errorf("%s %q; want %q", name, got, want)
				}
			}
		})
	}
}

// Form posts from another origin are refused before they do anything, by
// Sec-Fetch-Site or, for browsers without it, by Origin.
func TestPortal_CrossOriginPostRefused(t *testing.T) {
	f := setup(t, issue.Options{})
	u := f.newUser(t, "vera")
	c := f.signIn(t, "vera")
	signIn := url.Values{"login": {"vera"}, "password": {"password-of-vera"}}
	for _, tt := range []struct {
		name   string
		path   string
		form   url.Values
		header http.Header
	}{
		{"SignInCrossSite", "/login", signIn, http.Header{"Sec-Fetch-Site": {"cross-site"}}},
		{"SignInSameSiteSibling", "/login", signIn, http.Header{"Sec-Fetch-Site": {"same-site"}, "Origin": {"https://app.home.example"}}},
		{"SignInOriginMismatch", "/login", signIn, http.Header{"Sec-Fetch-Site": nil, "Origin": {"https://evil.example"}}},
		{"SignInOriginNull", "/login", signIn, http.Header{"Sec-Fetch-Site": nil, "Origin": {"null"}}},
		{"SignOutCrossSite", "/logout", url.Values{"all": {"1"}}, http.Header{"Sec-Fetch-Site": {"cross-site"}}},
		{"SignOutOriginMismatch", "/logout", url.Values{}, http.Header{"Sec-Fetch-Site": nil, "Origin": {"https://evil.example"}}},
		{"TokenCrossSite", "/account/tokens", url.Values{"name": {"x"}, "days": {"1"}}, http.Header{"Sec-Fetch-Site": {"cross-site"}}},
		{"PasswordCrossSite", "/account/password", url.Values{"current": {"password-of-vera"}, "new": {"xxxxxxxxxxxxxxxx"}, "repeat": {"xxxxxxxxxxxxxxxx"}},
			http.Header{"Sec-Fetch-Site": {"cross-site"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := f.do(t, request{method: "POST", path: tt.path, form: tt.form, header: tt.header, cookies: []*http.Cookie{c}})
			wantPage(t, a, http.StatusForbidden, "<h1>Form refused</h1>")
			if a.Header.Get("Set-Cookie") != "" {
				t.Fatalf("a refused post sets %v", a.Header["Set-Cookie"])
			}
		})
	}
	f.settle(t)
	if _, err := f.principal(t, c.Value); err != nil {
		t.Fatalf("a refused sign-out ended the session: %v", err)
	}
	if n := len(f.sessions(t, u.ID)); n != 1 {
		t.Fatalf("%d live sessions; want only the one signed in same-origin", n)
	}
	// A client that is no browser (neither header) is not a cross-origin threat.
	a := f.do(t, request{method: "POST", path: "/login", form: signIn, header: http.Header{"Sec-Fetch-Site": nil, "Origin": nil}})
	wantRedirect(t, a, "/account")
}

func TestPortal_Denied(t *testing.T) {
	f := setup(t, issue.Options{})
	f.newUser(t, "vera")
	c := f.signIn(t, "vera")
	rd := "https://app.home.example/admin"
	a := f.get(t, "/denied?scope=events:admin&rd="+url.QueryEscape(rd), c)
	wantPage(t, a, http.StatusForbidden, "<code>events:admin</code>", "<strong>vera</strong>",
		`href="/login?rd=https%3a%2f%2fapp.home.example%2fadmin"`)
	a = f.get(t, "/denied?scope=events:admin&rd="+url.QueryEscape("https://evil.example/"))
	wantPage(t, a, http.StatusForbidden, `<a href="/login">Sign in as someone else</a>`)
	if strings.Contains(a.body, "evil") {
		t.Fatalf("the page links to a refused return URL:\n%s", a.body)
	}
}

// Every page is in a language, has one h1, and labels every input a person
// fills in.
func TestPortal_Accessible(t *testing.T) {
	f := setup(t, issue.Options{})
	f.newUser(t, "vera")
	c := f.signIn(t, "vera")
	for _, tt := range []struct{ name, path string }{
		{"Login", "/login?rd=https%3A%2F%2Fapp.home.example%2F&rm=POST"},
		{"Account", "/account"},
		{"Denied", "/denied?scope=events:admin"},
		{"Error", "/login?rd=https%3A%2F%2Fevil.example"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := f.get(t, tt.path, c)
			doc, err := html.Parse(strings.NewReader(a.body))
			if err != nil {
				t.Fatal(err)
			}
			labels, ids, h1s := map[string]bool{}, map[string]bool{}, 0
			var inputs []string
			var walk func(n *html.Node)
			walk = func(n *html.Node) {
				if n.Type == html.ElementNode {
					switch n.Data {
					case "html":
						if attr(n, "lang") != "en" {
							t.Error("<html> has no lang")
						}
					case "h1":
						h1s++
					case "label":
						labels[attr(n, "for")] = true
					case "input", "select", "textarea":
						if attr(n, "type") != "hidden" {
							inputs = append(inputs, attr(n, "id"))
						}
					case "script", "iframe", "img":
						t.Errorf("the page has a <%s>", n.Data)
					}
					if id := attr(n, "id"); id != "" {
						if ids[id] {
							t.Errorf("id %q twice", id)
						}
						ids[id] = true
					}
				}
				for c := n.FirstChild; c != nil; c = c.NextSibling {
					walk(c)
				}
			}
			walk(doc)
			if h1s != 1 {
				t.Errorf("%d h1; want 1", h1s)
			}
			for _, id := range inputs {
				if id == "" || !labels[id] {
					t.Errorf("input %q has no label", id)
				}
			}
		})
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func TestPortal_Stylesheet(t *testing.T) {
	f := setup(t, issue.Options{})
	a := f.get(t, "/static/portal.css")
	if a.StatusCode != 200 || !strings.HasPrefix(a.Header.Get("Content-Type"), "text/css") || !strings.Contains(a.body, ":focus-visible") {
		t.Fatalf("stylesheet: %d %q", a.StatusCode, a.Header.Get("Content-Type"))
	}
}
