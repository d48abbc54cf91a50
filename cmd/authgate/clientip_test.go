package main

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/authgate/authgate/db/dbtest"
)

func TestClientIP(t *testing.T) {
	trusted, err := parseTrustedProxies("10.0.0.0/8, 192.0.2.7, 2001:db8:1::/48")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		trusted string // "none": no trusted proxies
		peer    string
		xff     []string // one element per header line
		want    string
	}{
		{"NoneTrustedIgnoresHeader", "none", "10.0.0.1:5000", []string{"203.0.113.5"}, "10.0.0.1"},
		{"PeerNotTrusted", "", "198.51.100.1:5000", []string{"203.0.113.5"}, "198.51.100.1"},
		{"PeerNotTrustedClaimsTrustedHop", "", "198.51.100.1:5000", []string{"203.0.113.5, 10.0.0.2"}, "198.51.100.1"},
		{"PeerTrustedNoHeader", "", "10.0.0.1:5000", nil, "10.0.0.1"},
		{"PeerTrusted", "", "10.0.0.1:5000", []string{"203.0.113.5"}, "203.0.113.5"},
		{"PeerTrustedAsSingleAddress", "", "192.0.2.7:5000", []string{"203.0.113.5"}, "203.0.113.5"},
		{"SeveralTrustedHops", "", "10.0.0.1:5000", []string{"203.0.113.5, 192.0.2.7, 10.1.2.3"}, "203.0.113.5"},
		{"SpoofedLeftmostEntries", "", "10.0.0.1:5000", []string{"1.2.3.4, 10.9.9.9, 203.0.113.5, 10.0.0.2"}, "203.0.113.5"},
		{"SpoofedTrustedLeftmost", "", "10.0.0.1:5000", []string{"10.0.0.99, 203.0.113.5"}, "203.0.113.5"},
		{"LoopbackNotTrustedUnlessListed", "", "127.0.0.1:5000", []string{"203.0.113.5"}, "127.0.0.1"},
		{"PrivateNetNotTrustedUnlessListed", "", "192.168.1.1:5000", []string{"203.0.113.5"}, "192.168.1.1"},
		{"AllHopsTrusted", "", "10.0.0.1:5000", []string{"10.0.0.3, 10.0.0.2"}, "10.0.0.3"},
		{"IPv6PeerTrusted", "", "[2001:db8:1::5]:443", []string{"2001:db8:ffff::1"}, "2001:db8:ffff::1"},
		{"IPv6PeerNotTrusted", "", "[2001:db8:2::5]:443", []string{"2001:db8:ffff::1"}, "2001:db8:2::5"},
		{"IPv6Bracketed", "", "10.0.0.1:5000", []string{"[2001:db8:ffff::1]"}, "2001:db8:ffff::1"},
		{"IPv6UpperCaseIsCanonical", "", "10.0.0.1:5000", []string{"2001:DB8:1::A, 10.0.0.2"}, "2001:db8:1::a"},
		{"IPv4MappedIsPlainIPv4", "", "10.0.0.1:5000", []string{"::ffff:203.0.113.5"}, "203.0.113.5"},
		{"GarbageInHeader", "", "10.0.0.1:5000", []string{"203.0.113.5, bogus"}, "10.0.0.1"},
		{"GarbageLeftOfClientIsIgnored", "", "10.0.0.1:5000", []string{"bogus, 203.0.113.5"}, "203.0.113.5"},
		{"GarbageBetweenTrustedHops", "", "10.0.0.1:5000", []string{"203.0.113.5, <script>, 10.0.0.2"}, "10.0.0.1"},
		{"AddressWithPort", "", "10.0.0.1:5000", []string{"203.0.113.5:4711"}, "10.0.0.1"},
		{"EmptyEntry", "", "10.0.0.1:5000", []string{"203.0.113.5,,10.0.0.2"}, "10.0.0.1"},
		{"EmptyHeader", "", "10.0.0.1:5000", []string{""}, "10.0.0.1"},
		{"HeaderWithSpaces", "", "10.0.0.1:5000", []string{"   203.0.113.5  ,\t 10.0.0.2 "}, "203.0.113.5"},
		{"SeveralHeaderLines", "", "10.0.0.1:5000", []string{"198.51.100.9, 203.0.113.5", "10.0.0.2"}, "203.0.113.5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nets := trusted
			if tt.trusted == "none" {
				nets = nil
			}
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.peer
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := clientIP(nets)(r); got != tt.want {
				t.Fatalf("got %q; want %q", got, tt.want)
			}
		})
	}
}

func TestParseTrustedProxies(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want string // the networks, comma-separated, or the start of the error
	}{
		{"Empty", "", ""},
		{"Blank", "  ", ""},
		{"IPv4Address", "192.0.2.7", "192.0.2.7/32"},
		{"IPv4Network", "10.0.0.0/8", "10.0.0.0/8"},
		{"IPv6Address", "::1", "::1/128"},
		{"IPv6Network", "2001:db8::/32", "2001:db8::/32"},
		{"IPv4MappedAddress", "::ffff:192.0.2.7", "192.0.2.7/32"},
		{"ListWithSpaces", " 10.0.0.0/8 , 192.0.2.7,2001:db8::/32 ", "10.0.0.0/8,192.0.2.7/32,2001:db8::/32"},
		{"PrefixTooLong", "10.0.0.0/33", `AUTHGATE_TRUSTED_PROXIES: "10.0.0.0/33" is not an address or a CIDR network such as 10.0.0.0/8`},
		{"HostName", "proxy.example", `AUTHGATE_TRUSTED_PROXIES: "proxy.example" is not an address or a CIDR network`},
		{"Bracketed", "[::1]", `AUTHGATE_TRUSTED_PROXIES: "[::1]" is not an address`},
		{"WithPort", "192.0.2.7:80", `AUTHGATE_TRUSTED_PROXIES: "192.0.2.7:80" is not an address`},
		{"WithZone", "fe80::1%eth0", `AUTHGATE_TRUSTED_PROXIES: "fe80::1%eth0" is not an address`},
		{"BadAmongGood", "10.0.0.0/8,10.0.0.300", `AUTHGATE_TRUSTED_PROXIES: "10.0.0.300" is not an address`},
		{"EmptyEntry", "10.0.0.1,,10.0.0.2", "AUTHGATE_TRUSTED_PROXIES: entry 2 is empty"},
		{"EveryIPv4Address", "0.0.0.0/0", `AUTHGATE_TRUSTED_PROXIES: "0.0.0.0/0" trusts every address, so any client could choose`},
		{"EveryIPv6Address", "::/0", `AUTHGATE_TRUSTED_PROXIES: "::/0" trusts every address`},
		{"EveryIPv4AddressMapped", "::ffff:0:0/96", `AUTHGATE_TRUSTED_PROXIES: "::ffff:0:0/96" trusts every address`},
		{"HostBitsSet", "10.0.0.7/8", `AUTHGATE_TRUSTED_PROXIES: "10.0.0.7/8" has bits set past its prefix length: write the network as 10.0.0.0/8`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nets, err := parseTrustedProxies(tt.raw)
			var got string
			if err != nil {
				got = err.Error()
			} else {
				var s []string
				for _, n := range nets {
					s = append(s, n.String())
				}
				got = strings.Join(s, ",")
			}
			if !strings.HasPrefix(got, tt.want) || (err == nil) != (got == tt.want) {
				t.Fatalf("got %q; want %q", got, tt.want)
			}
		})
	}
}

func TestLoadConfig_TrustedProxies(t *testing.T) {
	cfg, err := LoadConfig(testEnv("postgres://x@127.0.0.1/x", "AUTHGATE_TRUSTED_PROXIES", "10.0.0.0/8,::1"), true, true)
	if err != nil || len(cfg.trustedProxies) != 2 {
		t.Fatalf("got %v, %d networks; want no error and 2 networks", err, len(cfg.trustedProxies))
	}
	if cfg, err = LoadConfig(testEnv("postgres://x@127.0.0.1/x"), true, true); err != nil || cfg.trustedProxies != nil {
		t.Fatalf("unset: got %v, %v; want no error and no trusted proxies", err, cfg.trustedProxies)
	}
	_, err = LoadConfig(testEnv("postgres://x@127.0.0.1/x", "AUTHGATE_TRUSTED_PROXIES", "10.0.0.0/33"), true, true)
	want := `AUTHGATE_TRUSTED_PROXIES: "10.0.0.0/33" is not an address or a CIDR network such as 10.0.0.0/8`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v; want an error containing %q", err, want)
	}
	if help := configHelp(); !strings.Contains(help, "AUTHGATE_TRUSTED_PROXIES") || !strings.Contains(help, "empty: trust none") {
		t.Fatalf("--help does not explain AUTHGATE_TRUSTED_PROXIES:\n%s", help)
	}
}

// TestMain_TrustedProxiesSetTheClientAddress drives a login attempt through a
// "proxy" on 127.0.0.1 and reads the address its audit row names.
func TestMain_TrustedProxiesSetTheClientAddress(t *testing.T) {
	tests := []struct {
		name    string
		trusted string
		xff     string
		want    string
	}{
		{"Trusted", "127.0.0.1", "192.0.2.33", "192.0.2.33"},
		{"TrustedWithSpoofedEntry", "127.0.0.1", "203.0.113.66, 192.0.2.33", "192.0.2.33"},
		{"NotTrusted", "", "192.0.2.33", "127.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := testEnv(dbtest.URL(t), "AUTHGATE_TRUSTED_PROXIES", tt.trusted)
			admin := bootstrap(t, env)
			c := client{t, startMain(t, env).ManagementURL()}
			code, _, body := c.call("POST", "/v1/auth/login", "", `{"login":"nobody","password":"wrong password, clearly"}`,
				"Content-Type", "application/json", "X-Forwarded-For", tt.xff)
			if code != 401 {
				t.Fatalf("login: %d %s; want 401", code, body)
			}
			code, _, body = c.call("GET", "/v1/audit?action=user.login_failed", admin, "")
			var page struct{ Entries []struct{ IP string } }
			if code != 200 || json.Unmarshal(body, &page) != nil || len(page.Entries) != 1 {
				t.Fatalf("audit: %d %s; want one failed login", code, body)
			}
			if got := page.Entries[0].IP; got != tt.want {
				t.Fatalf("got ip %q; want %q", got, tt.want)
			}
		})
	}
}
