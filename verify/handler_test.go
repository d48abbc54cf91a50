package verify

import (
	"bufio"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// TestHandler_Golden runs every case under testdata/<endpoint>/: a subrequest
// as a proxy sends it, then "----------", then the answer: status, headers and,
// after a blank line, the body. Identity headers and WWW-Authenticate the
// answer does not list must be absent; a missing body must be empty.
// {{name}} stands for the credential of fixture key name.
func TestHandler_Golden(t *testing.T) {
	keys := newFixtureKeys(t, testHasher(t))
	e := echo.New()
	NewHandler(newTestVerifier(t, keys.store(), fixedClock(testNow)), slog.New(slog.DiscardHandler)).Register(e)

	files, _ := filepath.Glob("testdata/*/*.txt")
	if len(files) == 0 {
		t.Fatal("no golden files under testdata/")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(file[len("testdata/"):], ".txt"), func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			text := string(raw)
			for name, cred := range keys.creds {
				text = strings.ReplaceAll(text, "{{"+name+"}}", cred)
			}
			in, out, ok := strings.Cut(text, "\n----------\n")
			if !ok {
				t.Fatal("no ---------- separator")
			}
			req := parseGoldenRequest(t, in)
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			checkGoldenAnswer(t, rec, out)
		})
	}
}

func parseGoldenRequest(t *testing.T, in string) *http.Request {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(in))
	var req *http.Request
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if req == nil {
			method, target, _ := strings.Cut(line, " ")
			req = httptest.NewRequest(method, target, nil)
			continue
		}
		name, value, ok := strings.Cut(line, ": ")
		if !ok {
			t.Fatalf("bad header line %q", line)
		}
		req.Header.Add(name, value)
	}
	if req == nil {
		t.Fatal("no request line")
	}
	return req
}

func checkGoldenAnswer(t *testing.T, rec *httptest.ResponseRecorder, out string) {
	t.Helper()
	head, body, _ := strings.Cut(out, "\n\n")
	lines := strings.Split(strings.TrimSpace(head), "\n")
	want, err := strconv.Atoi(lines[0])
	if err != nil {
		t.Fatalf("first answer line %q is not a status", lines[0])
	}
	if rec.Code != want {
		t.Errorf("status = %d; want %d (body %s)", rec.Code, want, rec.Body)
	}
	listed := map[string]bool{}
	for _, line := range lines[1:] {
		name, value, _ := strings.Cut(line, ": ")
		name = http.CanonicalHeaderKey(name)
		listed[name] = true
		if got := rec.Header().Values(name); len(got) != 1 || got[0] != value {
			t.Errorf("header %s = %q; want [%q]", name, got, value)
		}
	}
	for _, name := range append([]string{"Www-Authenticate"}, IdentityHeaders...) {
		if !listed[name] && len(rec.Header().Values(name)) > 0 {
			t.Errorf("header %s = %q; want it absent", name, rec.Header().Values(name))
		}
	}
	if got, want := strings.TrimSpace(rec.Body.String()), strings.TrimSpace(body); got != want {
		t.Errorf("body = %s; want %s", got, want)
	}
}
