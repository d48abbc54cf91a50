package main

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/authgate/authgate/db/dbtest"
	"github.com/authgate/authgate/issue/api/apitest"
)

// TestMain_ManagementListenerMatchesOpenAPI: the management listener serves
// exactly the operations of openapi.json, the health routes included, and
// the document and its page without a credential.
func TestMain_ManagementListenerMatchesOpenAPI(t *testing.T) {
	doc, err := apitest.Document()
	if err != nil {
		t.Fatal(err)
	}
	env := testEnv(dbtest.URL(t), "AUTHGATE_MANAGEMENT_ADDR", "127.0.0.1:0")
	m := startMain(t, env)
	e, ok := m.management().srv.Handler.(*echo.Echo)
	if !ok {
		t.Fatalf("management handler is %T; want *echo.Echo", m.management().srv.Handler)
	}
	var served, described []string
	for _, r := range e.Routes() {
		if r.Method != echo.RouteNotFound {
			served = append(served, r.Method+" "+apitest.Path(r.Path))
		}
	}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			described = append(described, method+" "+path)
		}
	}
	slices.Sort(served)
	slices.Sort(described)
	if !slices.Equal(served, described) {
		t.Errorf("the management listener serves\n%q\nopenapi.json describes\n%q", served, described)
	}
	c := client{t, m.ManagementURL()}
	for _, path := range []string{"/openapi.json", "/docs"} {
		if code, _, _ := c.call("GET", path, "", ""); code != 200 {
			t.Errorf("GET %s: %d; want 200 without a credential", path, code)
		}
	}
}

// TestMain_HealthzNamesTheBuild: /healthz answers the build's version and
// commit, as openapi.json describes (client.call validates the answer).
func TestMain_HealthzNamesTheBuild(t *testing.T) {
	m := startMain(t, testEnv(dbtest.URL(t)))
	code, _, body := client{t, m.URL()}.call("GET", "/healthz", "", "")
	var got health
	if err := json.Unmarshal(body, &got); err != nil || code != 200 {
		t.Fatalf("%d %s (%v); want 200 and JSON", code, body, err)
	}
	if want := (health{Status: "ok", Version: versionString(), Commit: commit()}); got != want || got.Version == "" || got.Commit == "" {
		t.Fatalf("got %+v; want %+v", got, want)
	}
}
