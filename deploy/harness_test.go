package deploy_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/authgate/authgate/db/dbtest"
)

// The harness runs each shipped proxy configuration for real, on 127.0.0.1:
// client → proxy → authgate (the built binary, on its own fresh database) and
// upstream (an in-process recorder of the headers it receives).

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitPort polls addr until something accepts connections, or fails the test
// with the process's log when it does not within 20 s or the process exits.
func waitPort(t *testing.T, p *process, addr string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return
		}
		if p.exited() {
			t.Fatalf("%s exited before listening on %s:\n%s", p.name, addr, p.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s did not listen on %s within 20 s:\n%s", p.name, addr, p.log.String())
}

// process is a child process the test owns: stopped by PID (never by name),
// TERM then KILL, when the test ends.
type process struct {
	name string
	cmd  *exec.Cmd
	log  *syncBuffer
	done chan struct{}
}

func start(t *testing.T, name, dir string, env []string, bin string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	p := &process{name: name, cmd: cmd, log: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("--- %s log ---\n%s", name, p.log.String())
		}
	})
	return p
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *process) stop() {
	if p.exited() {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// authgateBin is built once per test binary run, by buildAuthgate.
var (
	authgateOnce sync.Once
	authgatePath string
	authgateErr  error
)

func buildAuthgate(t *testing.T) string {
	t.Helper()
	authgateOnce.Do(func() {
		dir, err := os.MkdirTemp("", "authgate-e2e-")
		if err != nil {
			authgateErr = err
			return
		}
		authgatePath = filepath.Join(dir, "authgate")
		out, err := exec.Command("go", "build", "-o", authgatePath, "../cmd/authgate").CombinedOutput()
		if err != nil {
			authgateErr = fmt.Errorf("go build ../cmd/authgate: %v\n%s", err, out)
		}
	})
	if authgateErr != nil {
		t.Fatal(authgateErr)
	}
	return authgatePath
}

// authgate is one running authgate process with its own database.
type authgate struct {
	addr        string
	adminKey    string
	databaseURL string // what it runs on, for commands run beside it
	secret      string
	env         []string // what it was started with, for a replica
	proc        *process
}

// startAuthgate starts authgate on a database of its own with an admin key;
// env adds to (or overrides) its environment.
func startAuthgate(t *testing.T, env ...string) *authgate {
	t.Helper()
	bin := buildAuthgate(t)
	secret := make([]byte, 32)
	rand.Read(secret)
	a := &authgate{databaseURL: dbtest.URL(t), secret: hex.EncodeToString(secret)}
	a.env = append([]string{
		"DATABASE_URL=" + a.databaseURL,
		"AUTHGATE_SECRET=" + a.secret,
		"AUTHGATE_LOG_LEVEL=debug",
	}, env...)
	cmd := exec.Command(bin, "keys", "create", "--name", "e2e-admin", "--scope", "authgate:admin")
	cmd.Env = append(os.Environ(), a.env...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("authgate keys create: %v", err)
	}
	a.adminKey = strings.TrimSpace(string(out))
	a.serve(t)
	return a
}

// replica starts a second authgate on a's database, secret and environment,
// as a second replica behind a load balancer would run.
func (a *authgate) replica(t *testing.T) *authgate {
	t.Helper()
	r := &authgate{adminKey: a.adminKey, databaseURL: a.databaseURL, secret: a.secret, env: a.env}
	r.serve(t)
	return r
}

func (a *authgate) serve(t *testing.T) {
	t.Helper()
	a.addr = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	a.proc = start(t, "authgate "+a.addr, "", append(a.env[:len(a.env):len(a.env)], "AUTHGATE_ADDR="+a.addr), buildAuthgate(t), "serve")
	waitPort(t, a.proc, a.addr)
}

// api calls authgate's management API with the admin key and decodes the answer into out.
func (a *authgate) api(t *testing.T, method, path string, body, out any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, "http://"+a.addr+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+a.adminKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, data, err)
		}
	}
}

type createdKey struct {
	ID  string `json:"id"`
	Key string `json:"key"`
}

func (a *authgate) createKey(t *testing.T, name string, scopes ...string) createdKey {
	t.Helper()
	var k createdKey
	a.api(t, http.MethodPost, "/v1/keys", map[string]any{"name": name, "scopes": scopes}, &k)
	return k
}

// upstream records what reaches the app behind the proxy. Each test request
// carries a unique path segment, so what the upstream saw is looked up by it.
type upstream struct {
	addr string
	mu   sync.Mutex
	seen map[string]*http.Request // request tag → what arrived (headers and URI)
}

// upstreamMark is a response header only the upstream sets: a response that
// has it came from the app, not from the proxy or authgate.
const upstreamMark = "X-Test-Upstream"

func startUpstream(t *testing.T) *upstream {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &upstream{addr: l.Addr().String(), seen: map[string]*http.Request{}}
	srv := &http.Server{Handler: u, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return u
}

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	u.mu.Lock()
	u.seen[tagOf(r.URL.Path)] = &http.Request{Header: r.Header.Clone(), RequestURI: r.RequestURI}
	u.mu.Unlock()
	if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		c, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		buf.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			upstreamMark + ": yes\r\n\r\n")
		buf.Flush()
		return
	}
	w.Header().Set(upstreamMark, "yes")
	io.WriteString(w, "upstream "+r.Method+"\n")
}

// saw returns the headers the upstream received for tag, or nil if none arrived.
func (u *upstream) saw(tag string) http.Header {
	if r := u.request(tag); r != nil {
		return r.Header
	}
	return nil
}

// uri returns the request URI the upstream received for tag, or "".
func (u *upstream) uri(tag string) string {
	if r := u.request(tag); r != nil {
		return r.RequestURI
	}
	return ""
}

func (u *upstream) request(tag string) *http.Request {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.seen[tag]
}

// tagOf returns the last path segment, which each test request makes unique.
func tagOf(path string) string { return path[strings.LastIndexByte(path, '/')+1:] }

// response is what the client got.
type response struct {
	status int
	header http.Header
	body   string
}

func (r *response) fromUpstream() bool { return r.header.Get(upstreamMark) == "yes" }

func (r *response) String() string {
	return fmt.Sprintf("%d %v %q", r.status, r.header, r.body)
}

// send writes one request with exactly this request line and these headers on
// a fresh connection (so paths such as /a/../b and //b reach the proxy as
// written) and reads the answer.
func send(t *testing.T, addr, method, target string, header http.Header, body string) *response {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial proxy: %v", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(15 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, target, addr)
	if header.Get("Connection") == "" {
		b.WriteString("Connection: close\r\n")
	}
	for k, vs := range header {
		for _, v := range vs {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	if body != "" {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n" + body)
	if _, err := io.WriteString(c, b.String()); err != nil {
		t.Fatalf("write request: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("%s %s: read response: %v", method, target, err)
	}
	defer resp.Body.Close()
	var data []byte
	if resp.StatusCode != http.StatusSwitchingProtocols {
		data, _ = io.ReadAll(resp.Body)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: string(data)}
}

// uniqueTag returns a path segment no other request in this run uses.
func uniqueTag(name string) string {
	b := make([]byte, 4)
	rand.Read(b)
	return strings.NewReplacer("/", "-", " ", "-").Replace(name) + "-" + hex.EncodeToString(b)
}

// waitFor polls cond every 20 ms until it holds or timeout passes.
func waitFor(ctx context.Context, timeout time.Duration, cond func() bool) bool {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		if cond() {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(20 * time.Millisecond):
		}
	}
}
