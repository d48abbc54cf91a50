package main

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/authgate/authgate/db/dbtest"
)

func TestMain_ManagementAddrSplitsTheRoutes(t *testing.T) {
	env := testEnv(dbtest.URL(t), "AUTHGATE_MANAGEMENT_ADDR", "127.0.0.1:0")
	admin := bootstrap(t, env)
	m := startMain(t, env)
	if m.URL() == m.ManagementURL() {
		t.Fatalf("ManagementURL %s is URL; want a listener of its own", m.ManagementURL())
	}
	proxies, management := client{t, m.URL()}, client{t, m.ManagementURL()}
	_, key := management.createKey(admin, `{"name":"cam","scopes":["events:read"]}`)

	tests := []struct {
		name         string
		c            client
		method, path string
		key          string
		want         int
	}{
		{"KeysOnAddr", proxies, "GET", "/v1/keys", admin, 404},
		{"KeysOnManagementAddr", management, "GET", "/v1/keys", admin, 200},
		{"LoginOnAddr", proxies, "POST", "/v1/auth/login", "", 404},
		{"JWKSOnAddr", proxies, "GET", "/.well-known/jwks.json", "", 404},
		{"JWKSOnManagementAddr", management, "GET", "/.well-known/jwks.json", "", 200},
		{"ForwardAuthOnAddr", proxies, "GET", "/forward-auth?scope=events:read", key, 200},
		{"ForwardAuthOnManagementAddr", management, "GET", "/forward-auth?scope=events:read", key, 404},
		{"AuthRequestOnAddr", proxies, "GET", "/auth-request?scope=events:read", key, 200},
		{"AuthRequestOnManagementAddr", management, "GET", "/auth-request?scope=events:read", key, 404},
		{"HealthzOnAddr", proxies, "GET", "/healthz", "", 200},
		{"HealthzOnManagementAddr", management, "GET", "/healthz", "", 200},
		{"ReadyzOnAddr", proxies, "GET", "/readyz", "", 200},
		{"ReadyzOnManagementAddr", management, "GET", "/readyz", "", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.c.t = t
			code, _, body := tt.c.call(tt.method, tt.path, tt.key, "",
				"X-Forwarded-Method", "GET", "X-Forwarded-Proto", "https", "X-Forwarded-Host", "app.example",
				"X-Forwarded-Uri", "/events", "X-Original-Method", "GET", "X-Original-URI", "/events")
			if code != tt.want {
				t.Fatalf("%s %s: %d %s; want %d", tt.method, tt.path, code, body, tt.want)
			}
		})
	}
}

func TestMain_OneListenerServesEverything(t *testing.T) {
	env := testEnv(dbtest.URL(t))
	admin := bootstrap(t, env)
	m := startMain(t, env)
	if m.URL() != m.ManagementURL() {
		t.Fatalf("ManagementURL %s; want URL %s without AUTHGATE_MANAGEMENT_ADDR", m.ManagementURL(), m.URL())
	}
	c := client{t, m.URL()}
	_, key := c.createKey(admin, `{"name":"cam","scopes":["events:read"]}`)
	if code := c.forwardAuth(key, "events:read"); code != 200 {
		t.Fatalf("forward-auth: %d; want 200", code)
	}
}

func TestStart_ManagementAddrTaken(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cfg, err := LoadConfig(testEnv(dbtest.URL(t), "AUTHGATE_MANAGEMENT_ADDR", taken.Addr().String()), true, true)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Start(context.Background(), cfg, slog.New(slog.DiscardHandler), nil)
	if err == nil {
		m.Close()
		t.Fatalf("Start on a taken AUTHGATE_MANAGEMENT_ADDR succeeded; want an error")
	}
	if want := "AUTHGATE_MANAGEMENT_ADDR " + taken.Addr().String() + " is in use: set AUTHGATE_MANAGEMENT_ADDR to another host:port"; !strings.Contains(err.Error(), want) {
		t.Fatalf("Start: %v; want an error naming %q", err, want)
	}
}
