package portal

import (
	"testing"

	"github.com/authgate/authgate/verify"
)

func twoSitePortal(t *testing.T, dev bool) *Portal {
	t.Helper()
	sites := []Site{homeSite, {"lab.example.net", "https://auth.lab.example.net:8443"}}
	if dev {
		sites = append(sites, Site{"home.localhost", "http://auth.home.localhost:8080"})
	}
	p, err := newPortal(Config{Dev: dev, Sites: sites})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPortal_LoginURL(t *testing.T) {
	for _, tt := range []struct {
		name string
		dev  bool
		t    verify.Target
		want string // "" means no redirect
	}{
		{"Get", false, verify.Target{Method: "GET", Proto: "https", Host: "app.home.example", URI: "/events?day=1"},
			"https://auth.home.example/login?rd=https%3A%2F%2Fapp.home.example%2Fevents%3Fday%3D1"},
		{"HeadLikeGet", false, verify.Target{Method: "HEAD", Proto: "https", Host: "app.home.example", URI: "/"},
			"https://auth.home.example/login?rd=https%3A%2F%2Fapp.home.example%2F"},
		{"PostCarriesMethod", false, verify.Target{Method: "POST", Proto: "https", Host: "app.home.example", URI: "/form"},
			"https://auth.home.example/login?rd=https%3A%2F%2Fapp.home.example%2Fform&rm=POST"},
		{"OddMethodNotNamed", false, verify.Target{Method: "p<x>", Proto: "https", Host: "app.home.example", URI: "/"},
			"https://auth.home.example/login?rd=https%3A%2F%2Fapp.home.example%2F"},
		{"ApexAndPort", false, verify.Target{Method: "GET", Proto: "https", Host: "home.example:8443", URI: "/"},
			"https://auth.home.example/login?rd=https%3A%2F%2Fhome.example%3A8443%2F"},
		{"HostCaseFolded", false, verify.Target{Method: "GET", Proto: "HTTPS", Host: "App.Home.Example", URI: "/X"},
			"https://auth.home.example/login?rd=https%3A%2F%2Fapp.home.example%2FX"},
		{"EmptyURI", false, verify.Target{Method: "GET", Proto: "https", Host: "app.home.example"},
			"https://auth.home.example/login?rd=https%3A%2F%2Fapp.home.example"},
		{"SecondSitesPortal", false, verify.Target{Method: "GET", Proto: "https", Host: "grafana.lab.example.net", URI: "/d"},
			"https://auth.lab.example.net:8443/login?rd=https%3A%2F%2Fgrafana.lab.example.net%2Fd"},
		{"DevHTTPLocalhost", true, verify.Target{Method: "GET", Proto: "http", Host: "app.home.localhost:8080", URI: "/"},
			"http://auth.home.localhost:8080/login?rd=http%3A%2F%2Fapp.home.localhost%3A8080%2F"},
		{"HTTPOutsideDev", false, verify.Target{Method: "GET", Proto: "http", Host: "app.home.example", URI: "/"}, ""},
		{"HTTPNonLocalInDev", true, verify.Target{Method: "GET", Proto: "http", Host: "app.home.example", URI: "/"}, ""},
		{"OtherDomain", false, verify.Target{Method: "GET", Proto: "https", Host: "evil.example", URI: "/"}, ""},
		{"LookAlikeDomain", false, verify.Target{Method: "GET", Proto: "https", Host: "evilhome.example", URI: "/"}, ""},
		{"NoProto", false, verify.Target{Method: "GET", Host: "app.home.example", URI: "/"}, ""},
		{"NoHost", false, verify.Target{Method: "GET", Proto: "https", URI: "/"}, ""},
		{"HostWithPath", false, verify.Target{Method: "GET", Proto: "https", Host: "evil.example/x.home.example", URI: "/"}, ""},
		{"HostWithUserinfo", false, verify.Target{Method: "GET", Proto: "https", Host: "app.home.example@evil.example", URI: "/"}, ""},
		{"HostWithFragment", false, verify.Target{Method: "GET", Proto: "https", Host: "app.home.example#", URI: "/"}, ""},
		{"URIWithoutSlash", false, verify.Target{Method: "GET", Proto: "https", Host: "app.home.example", URI: ".evil.example/"}, ""},
		{"ProtocolRelativePath", false, verify.Target{Method: "GET", Proto: "https", Host: "app.home.example", URI: "//evil.example/"}, ""},
		{"BackslashInURI", false, verify.Target{Method: "GET", Proto: "https", Host: "app.home.example", URI: "/\\evil.example"}, ""},
		{"JavascriptProto", false, verify.Target{Method: "GET", Proto: "javascript", Host: "app.home.example", URI: "/"}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := twoSitePortal(t, tt.dev).LoginURL(tt.t)
			if got != tt.want || ok != (tt.want != "") {
				t.Fatalf("got %q, %v; want %q", got, ok, tt.want)
			}
		})
	}
}

func TestPortal_DeniedURL(t *testing.T) {
	p := twoSitePortal(t, false)
	for _, tt := range []struct {
		name  string
		t     verify.Target
		scope string
		want  string
	}{
		{"Scope", verify.Target{Method: "GET", Proto: "https", Host: "app.home.example", URI: "/events"}, "events:read",
			"https://auth.home.example/denied?scope=events%3Aread&rd=https%3A%2F%2Fapp.home.example%2Fevents"},
		{"ScopeEscaped", verify.Target{Method: "POST", Proto: "https", Host: "grafana.lab.example.net", URI: "/"}, "a&b=c",
			"https://auth.lab.example.net:8443/denied?scope=a%26b%3Dc&rd=https%3A%2F%2Fgrafana.lab.example.net%2F"},
		{"OtherDomain", verify.Target{Method: "GET", Proto: "https", Host: "evil.example", URI: "/"}, "events:read", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := p.DeniedURL(tt.t, tt.scope)
			if got != tt.want || ok != (tt.want != "") {
				t.Fatalf("got %q, %v; want %q", got, ok, tt.want)
			}
		})
	}
}

func TestPortal_ReturnURLStaysOnSite(t *testing.T) {
	p := twoSitePortal(t, false)
	home := p.byHost["auth.home.example"]
	for _, tt := range []struct {
		name, raw, want string
	}{
		{"SameDomain", "https://app.home.example/x", "https://app.home.example/x"},
		{"PortalItself", "https://auth.home.example/account", "https://auth.home.example/account"},
		{"OtherConfiguredDomain", "https://grafana.lab.example.net/", ""},
		{"Unconfigured", "https://evil.example/", ""},
		{"Relative", "/account", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := p.returnURL(home, tt.raw)
			if got != tt.want || ok != (tt.want != "") {
				t.Fatalf("got %q, %v; want %q", got, ok, tt.want)
			}
		})
	}
}

func TestDeviceName(t *testing.T) {
	for _, tt := range []struct{ name, ua, want string }{
		{"ChromeLinux", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36", "Chrome on Linux"},
		{"EdgeWindows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0", "Edge on Windows"},
		{"FirefoxMac", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:127.0) Gecko/20100101 Firefox/127.0", "Firefox on macOS"},
		{"SafariIPhone", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "Safari on iPhone"},
		{"ChromeAndroid", "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36", "Chrome on Android"},
		{"HeadlessChromium", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/126.0.0.0 Safari/537.36", "Chrome on Linux"},
		{"Curl", "curl/8.5.0", "curl"},
		{"Unknown", "something", ""},
		{"Empty", "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := deviceName(tt.ua); got != tt.want {
				t.Fatalf("got %q; want %q", got, tt.want)
			}
		})
	}
}
