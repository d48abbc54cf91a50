package api

import (
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"
)

// servedElsewhere are the operations of the document that cmd/authgate
// serves beside the routes Register adds: the health routes on every
// listener, the metrics on the management listener unless they have one of
// their own. TestMain_ManagementListenerMatchesOpenAPI checks them there.
var servedElsewhere = []string{"GET /healthz", "GET /readyz", "GET /metrics"}

var accessNames = map[access]string{open: "open", anybody: "anybody", user: "user", perm: "perm"}

func loadDocument(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(openAPIDocument)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("openapi.json is not valid OpenAPI 3.0: %v", err)
	}
	return doc
}

// echoPath is the Echo form of an OpenAPI path: /v1/keys/{id} is /v1/keys/:id.
func echoPath(p string) string {
	return regexp.MustCompile(`\{([^}/]+)\}`).ReplaceAllString(p, ":$1")
}

// TestOpenAPI_AgreesWithRoutes: every route Register adds (the route table)
// has exactly one operation in openapi.json with the same method, path,
// access and permission, and every operation is a registered route or one
// that cmd/authgate serves.
func TestOpenAPI_AgreesWithRoutes(t *testing.T) {
	doc := loadDocument(t)
	e := echo.New()
	New(nil, nil).Register(e)
	table := map[string]route{}
	for _, rt := range routes() {
		table[rt.method+" "+rt.path] = rt
	}
	registered := map[string]bool{}
	for _, r := range e.Routes() {
		if r.Method == echo.RouteNotFound {
			continue // the 404s of unknown paths under /v1
		}
		name := r.Method + " " + r.Path
		if _, ok := table[name]; !ok {
			t.Errorf("%s: registered, but not in the route table", name)
		}
		registered[name] = true
	}
	if len(registered) != len(table) {
		t.Errorf("Register added %d routes; the table has %d", len(registered), len(table))
	}

	described := map[string]int{}
	ids := map[string]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			name := method + " " + echoPath(path)
			described[name]++
			if prev, dup := ids[op.OperationID]; dup || op.OperationID == "" {
				t.Errorf("%s: operationId %q missing or also used by %s", name, op.OperationID, prev)
			}
			ids[op.OperationID] = name
			if op.Summary == "" || len(op.Tags) == 0 {
				t.Errorf("%s: no summary or no tag", name)
			}
			acc, _ := op.Extensions["x-authgate-access"].(string)
			permission, _ := op.Extensions["x-authgate-permission"].(string)
			rt, inTable := table[name]
			switch {
			case inTable:
				if want := accessNames[rt.access]; acc != want || permission != rt.perm {
					t.Errorf("%s: document says access %q, permission %q; the route table %q, %q", name, acc, permission, want, rt.perm)
				}
				checkSecurity(t, name, rt.access, op)
			case slices.Contains(servedElsewhere, name):
				if acc != "open" || permission != "" {
					t.Errorf("%s: access %q, permission %q; want open, none", name, acc, permission)
				}
			default:
				t.Errorf("%s: in openapi.json, but no such route is registered", name)
			}
		}
	}
	for name := range table {
		if n := described[name]; n != 1 {
			t.Errorf("%s: %d operations in openapi.json; want exactly 1", name, n)
		}
	}
	for _, name := range servedElsewhere {
		if described[name] != 1 {
			t.Errorf("%s: %d operations in openapi.json; want exactly 1", name, described[name])
		}
	}
	if len(described) < len(table)+len(servedElsewhere) {
		t.Errorf("openapi.json describes %d routes; want %d", len(described), len(table)+len(servedElsewhere))
	}
}

// checkSecurity: the security requirement of an operation says what the
// route admits: no credential (open), an optional one (anybody), a user's
// access token (user), an API key or a user's access token (perm).
func checkSecurity(t *testing.T, name string, acc access, op *openapi3.Operation) {
	t.Helper()
	var got []string
	if op.Security != nil {
		for _, req := range *op.Security {
			schemes := make([]string, 0, len(req))
			for s := range req {
				schemes = append(schemes, s)
			}
			got = append(got, strings.Join(schemes, "+"))
		}
	}
	want := map[access][]string{open: {}, anybody: {"", "apiKey", "bearer"}, user: {"userToken"}, perm: {"apiKey", "bearer"}}[acc]
	if op.Security == nil || !slices.Equal(got, want) {
		t.Errorf("%s: security %q; want %q", name, got, want)
	}
}

// TestOpenAPI_Served: GET /openapi.json answers the document, without a
// credential.
func TestOpenAPI_Served(t *testing.T) {
	e := echo.New()
	New(nil, nil).Register(e)
	w := httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/openapi.json", nil))
	if w.Code != http.StatusOK || w.Header().Get(echo.HeaderContentType) != echo.MIMEApplicationJSON || w.Body.String() != string(openAPIDocument) {
		t.Fatalf("%d %q %.80s; want 200 application/json with the document", w.Code, w.Header().Get(echo.HeaderContentType), w.Body)
	}
}

// TestDocs_Page: GET /docs is a page made from the document: every
// operation with its method, path and permission, and nothing from
// elsewhere: no script, a stylesheet admitted by its hash alone.
func TestDocs_Page(t *testing.T) {
	doc := loadDocument(t)
	e := echo.New()
	New(nil, nil).Register(e)
	w := httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/docs", nil))
	page := w.Body.String()
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get(echo.HeaderContentType), "text/html") {
		t.Fatalf("%d %q; want 200 text/html", w.Code, w.Header().Get(echo.HeaderContentType))
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			section := `<section class="op" id="` + op.OperationID + `">`
			i := strings.Index(page, section)
			if i < 0 {
				t.Errorf("%s %s: no section %s", method, path, section)
				continue
			}
			end := i + strings.Index(page[i:], "</section>")
			s := page[i:end]
			perm, _ := op.Extensions["x-authgate-permission"].(string)
			if !strings.Contains(s, ">"+method+"</span> "+path+"</h3>") || !strings.Contains(s, perm) || !strings.Contains(s, template.HTMLEscapeString(op.Summary)) {
				t.Errorf("%s %s: the section does not show the method, path, permission %q and summary:\n%s", method, path, perm, s)
			}
		}
	}
	for _, bad := range []string{"<script", "http://", "https://", "src="} {
		if strings.Contains(page, bad) {
			t.Errorf("page holds %q; want nothing from elsewhere", bad)
		}
	}
	css := page[strings.Index(page, "<style>")+len("<style>") : strings.Index(page, "</style>")]
	sum := sha256.Sum256([]byte(css))
	csp := w.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "style-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") {
		t.Errorf("Content-Security-Policy %q; want default-src 'none' and the stylesheet's hash", csp)
	}
}
