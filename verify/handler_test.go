package verify

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// TestHandler_Golden runs every case under testdata/<endpoint>/: a subrequest
// as a proxy sends it, then "----------", then the answer: status, headers and,
// after a blank line, the body. Identity headers, WWW-Authenticate and
// Location the answer does not list must be absent; a missing body must be
// empty. {{name}} stands for the credential of the fixture key, personal
// token, session, static key or JWT name. An allow must list every identity
// header, empty or not. The handler has a portal (fakePortal), except for the
// cases under testdata/no-portal/.
func TestHandler_Golden(t *testing.T) {
	keys := newFixtureKeys(t, testHasher(t))
	tokens := newJWTFixture(t, fixedClock(testNow))
	creds := tokens.creds(t)
	for name, cred := range keys.creds {
		creds[name] = cred
	}
	e, bare := echo.New(), echo.New()
	v := newTestVerifierAll(t, keys, fixedClock(testNow), tokens.options())
	NewHandler(v, slog.New(slog.DiscardHandler), HandlerOptions{Portal: fakePortal{}}).Register(e)
	NewHandler(v, slog.New(slog.DiscardHandler), HandlerOptions{}).Register(bare)

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
			for name, cred := range creds {
				text = strings.ReplaceAll(text, "{{"+name+"}}", cred)
			}
			if i := strings.Index(text, "{{"); i >= 0 {
				t.Fatalf("no fixture credential for %.40s", text[i:])
			}
			in, out, ok := strings.Cut(text, "\n----------\n")
			if !ok {
				t.Fatal("no ---------- separator")
			}
			req := parseGoldenRequest(t, in)
			rec := httptest.NewRecorder()
			if strings.HasPrefix(file, "testdata/no-portal/") {
				bare.ServeHTTP(rec, req)
			} else {
				e.ServeHTTP(rec, req)
			}
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
		name, value, _ := strings.Cut(line, ":") // "Name:" alone lists an empty value
		name, value = http.CanonicalHeaderKey(name), strings.TrimSpace(value)
		listed[name] = true
		if got := rec.Header().Values(name); len(got) != 1 || got[0] != value {
			t.Errorf("header %s = %q; want [%q]", name, got, value)
		}
	}
	for _, name := range append([]string{"Www-Authenticate", "Location"}, IdentityHeaders...) {
		if !listed[name] && len(rec.Header().Values(name)) > 0 {
			t.Errorf("header %s = %q; want it absent", name, rec.Header().Values(name))
		}
	}
	for _, name := range IdentityHeaders {
		if want/100 == 2 && !listed[name] {
			t.Errorf("the golden allow does not list identity header %s", name)
		}
	}
	if got, want := strings.TrimSpace(rec.Body.String()), strings.TrimSpace(body); got != want {
		t.Errorf("body = %s; want %s", got, want)
	}
}

// A proxy may announce a body it never sends (nginx without
// proxy_set_header Content-Length ""). authgate must answer anyway, at once,
// rather than wait for bytes that are not coming.
func TestHandler_NeverWaitsForABody(t *testing.T) {
	keys := newFixtureKeys(t, testHasher(t))
	e := echo.New()
	NewHandler(newTestVerifier(t, keys.store(), fixedClock(testNow)), slog.New(slog.DiscardHandler), HandlerOptions{}).Register(e)
	srv := httptest.NewServer(e)
	defer srv.Close()
	for _, tc := range []struct{ name, request string }{
		{"AuthRequestAnnouncedBody", "GET /auth-request HTTP/1.1\r\nHost: a\r\nX-Original-Method: POST\r\nX-Original-URI: /x\r\n" +
			"X-Api-Key: " + keys.creds["active"] + "\r\nContent-Length: 17\r\n\r\n"},
		{"ForwardAuthChunkedBody", "POST /forward-auth HTTP/1.1\r\nHost: a\r\nX-Forwarded-Method: POST\r\nX-Forwarded-Proto: https\r\n" +
			"X-Forwarded-Host: a\r\nX-Forwarded-Uri: /x\r\nTransfer-Encoding: chunked\r\n\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(5 * time.Second)) // a hang, not a speed target
			if _, err := conn.Write([]byte(tc.request)); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("no answer while the announced body is missing: %v", err)
			}
			if resp.StatusCode != 200 && resp.StatusCode != 401 {
				t.Fatalf("status = %d; want the verdict on the headers alone", resp.StatusCode)
			}
		})
	}
}

func TestHandler_DenyCarriesARequestID(t *testing.T) {
	e := echo.New()
	NewHandler(newTestVerifier(t, newFixtureKeys(t, testHasher(t)).store(), fixedClock(testNow)), slog.New(slog.DiscardHandler), HandlerOptions{}).Register(e)
	made := map[string]bool{}
	for _, tc := range []struct{ name, sent, want string }{
		{"FromTheProxy", "9f1c2e", "9f1c2e"},
		{"NoneSent", "", ""},
		{"Unusable", strings.Repeat("x", 65), ""},
		{"NoneSentAgain", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/auth-request", nil)
			r.Header.Set("X-Original-Method", "GET")
			r.Header.Set("X-Original-URI", "/")
			if tc.sent != "" {
				r.Header.Set("X-Request-Id", tc.sent)
			}
			w := httptest.NewRecorder()
			e.ServeHTTP(w, r)
			got := w.Header().Get("X-Request-Id")
			if w.Code != 401 || got == "" || (tc.want != "" && got != tc.want) || (tc.want == "" && (got == tc.sent || made[got])) {
				t.Fatalf("status %d, X-Request-Id %q; want 401 with id %q (or a fresh, unused one when empty)", w.Code, got, tc.want)
			}
			made[got] = true
		})
	}
}

// The parsed-requirement cache keeps each query once, up to maxRequirements;
// past that a new query is parsed and answered but not kept.
func TestHandler_RequirementCacheBound(t *testing.T) {
	h := NewHandler(nil, slog.New(slog.DiscardHandler), HandlerOptions{})
	kept := func(q string) bool {
		t.Helper()
		if _, err := h.requirement(q); err != nil {
			t.Fatal(err)
		}
		_, ok := (*h.reqs.Load())[q]
		return ok
	}
	for i := range maxRequirements {
		q := "scope=events:read&scope=cameras:" + strconv.Itoa(i)
		if !kept(q) || !kept(q) {
			t.Fatalf("query %d of %d not kept", i+1, maxRequirements)
		}
	}
	if n := len(*h.reqs.Load()); n != maxRequirements {
		t.Fatalf("%d queries kept after %d distinct ones, each seen twice; want %d", n, maxRequirements, maxRequirements)
	}
	if kept("scope=events:write") {
		t.Fatalf("a query past the bound of %d was kept", maxRequirements)
	}
	if req, err := h.requirement("scope=events:write"); err != nil || req == nil {
		t.Fatalf("a query past the bound: %v, %v; want it parsed", req, err)
	}
}

// A misconfiguration shows the client its ConfigError's message, and a fixed
// one when the error only wraps ErrMisconfigured.
func TestHandler_DenyMisconfigured(t *testing.T) {
	h, e := NewHandler(nil, slog.New(slog.DiscardHandler), HandlerOptions{}), echo.New()
	for _, tt := range []struct {
		name string
		err  error
		want string
	}{
		{"ConfigError", fmt.Errorf("target: %w", &ConfigError{Msg: "send X-Forwarded-Uri"}), "send X-Forwarded-Uri"},
		{"SentinelOnly", fmt.Errorf("x: %w", ErrMisconfigured),
			"the proxy did not call authgate the way this endpoint needs (see authgate's log)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			d := &Decision{At: testNow}
			d.note(credRef{}, tt.err)
			h.deny(e.NewContext(httptest.NewRequest("GET", PathForwardAuth, nil), rec), forwardAuth, d, nil, tt.err)
			var got denyBody
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != 500 ||
				got.Error != CodeProxyMisconfigured || got.Description != tt.want {
				t.Fatalf("got %d %s; want 500 %s %q", rec.Code, rec.Body, CodeProxyMisconfigured, tt.want)
			}
		})
	}
}

// The handler reads the verifier's clock once per request, whatever it
// decides: an allow of a cached key or JWT, a deny of a malformed key (with
// its line written, under the flood budget) or of an unknown one. The deny
// list is judged at that reading, never at a clock of its own. A clock read
// costs about 0.1 µs on a VM; this keeps a second one from creeping back.
func TestHandler_OneClockReadPerRequest(t *testing.T) {
	var reads atomic.Int64
	clock := func() time.Time { reads.Add(1); return testNow }
	keys := newFixtureKeys(t, testHasher(t))
	f := newJWTFixture(t, clock)
	f.deny.TrustUntil(testNow.Add(time.Hour)) // as the feed does: Current must be judged
	v := newTestVerifierJWT(t, keys.store(), clock, f.options())
	jwt := f.token(t, nil)
	logs := slog.New(slog.NewJSONHandler(io.Discard, nil)) // deny lines at Info are written
	for _, observed := range []bool{false, true} {
		var o HandlerOptions
		if observed {
			o.Observer = &recorder{}
		}
		e := echo.New()
		NewHandler(v, logs, o).Register(e)
		for _, tt := range []struct {
			name, header, value string
			want                int
		}{
			{"cached key", "X-Api-Key", keys.creds["active"], http.StatusOK},
			{"cached JWT", "Authorization", "Bearer " + jwt, http.StatusOK},
			{"malformed key", "X-Api-Key", "agk_garbage", http.StatusUnauthorized},
			{"unknown key, cached as missing", "X-Api-Key", keys.creds["unknown"], http.StatusUnauthorized},
		} {
			serve := func() int {
				r := httptest.NewRequest(http.MethodGet, PathForwardAuth, nil)
				r.Header = http.Header{"X-Forwarded-Method": {"GET"}, "X-Forwarded-Proto": {"https"},
					"X-Forwarded-Host": {"app.example"}, "X-Forwarded-Uri": {"/events"}, tt.header: {tt.value}}
				w := httptest.NewRecorder()
				e.ServeHTTP(w, r)
				return w.Code
			}
			serve() // fills the caches: a miss reads the clock for the entry's expiry
			const n = 10
			before := reads.Load()
			for range n {
				if got := serve(); got != tt.want {
					t.Fatalf("observed %t, %s: status %d; want %d", observed, tt.name, got, tt.want)
				}
			}
			if got := reads.Load() - before; got != n {
				t.Errorf("observed %t, %s: %d clock reads for %d requests; want one each", observed, tt.name, got, n)
			}
		}
	}
}
