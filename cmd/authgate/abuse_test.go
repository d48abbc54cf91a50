package main

// Abuse runs: a real Main over HTTP against real Postgres, all traffic on
// 127.0.0.0/8. They print what they measure (memory, rates, times) and assert
// only behaviour: which statuses come back, that throttled answers say when to
// retry, that a trickling client is cut off. Run them with
//
//	go test -count=1 -run TestMain_Abuse -v ./cmd/authgate/

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate/db/dbtest"
	"github.com/authgate/authgate/verify"
)

func TestMain_AbuseLoginBurst(t *testing.T) {
	if raceEnabled {
		// The bound on concurrent hashes keeps this short under -race too; the
		// figures are then the race detector's, several times the real ones.
		t.Log("figures under -race: memory and time are inflated; make bench prints the real ones")
	}
	const clients = 200
	env := testEnv(dbtest.URL(t))
	admin := bootstrap(t, env)
	m := startMain(t, env)
	createAlice(t, env, client{t, m.ManagementURL()}, admin)
	url := m.ManagementURL() + "/v1/auth/login"

	before := readMemory()
	if before.rssKB == 0 {
		t.Fatal("the memory figures need /proc/self/status (Linux)")
	}
	hwmReset := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil // VmHWM := VmRSS
	stopSampling := sampleMemory()

	// Each client has an address of its own, so the per-address login
	// throttle sees 200 strangers: only the account and the server are shared.
	answers := make([]answer, clients)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range clients {
		hc := clientFrom(t, net.IPv4(127, 0, byte(i/100), byte(2+i%100)))
		wg.Go(func() {
			defer hc.CloseIdleConnections()
			<-start
			answers[i] = post(hc, url, `{"login":"alice","password":"wrong password, clearly"}`)
		})
	}
	began := time.Now()
	close(start)
	wg.Wait()
	wall := time.Since(began)
	peak := stopSampling()
	after := readMemory()
	runtime.GC()
	debug.FreeOSMemory()
	collected := readMemory()

	counts := countAnswers(t, answers, 401, 429, 503)
	lat := make([]time.Duration, 0, clients)
	for _, a := range answers {
		lat = append(lat, a.took)
	}
	slices.Sort(lat)
	t.Logf("%d concurrent wrong-password logins for one account from %d addresses: %v wall, latency p50 %v p99 %v max %v",
		clients, clients, wall.Round(time.Millisecond), lat[len(lat)/2].Round(time.Millisecond),
		lat[len(lat)*99/100].Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond))
	t.Logf("statuses: %s", counts)
	logMemory(t, before, peak, after, collected, hwmReset)

	assertLockedAfter(t, url, answers)
}

// assertLockedAfter fails the test unless the account is locked after a
// burst with enough wrong passwords checked (some may have been turned away
// busy, unchecked) to reach AUTHGATE_LOCKOUT_THRESHOLD: even the right
// password is refused then.
func assertLockedAfter(t *testing.T, url string, burst []answer) {
	t.Helper()
	wrong := 0
	for _, a := range burst {
		if a.status == 401 {
			wrong++
		}
	}
	if wrong < 5 { // the default AUTHGATE_LOCKOUT_THRESHOLD
		return
	}
	hc := clientFrom(t, net.IPv4(127, 0, 3, 1))
	defer hc.CloseIdleConnections()
	a := post(hc, url, `{"login":"alice","password":"`+alicePassword+`"}`)
	if a.status != 429 || a.retryAfter == "" {
		t.Fatalf("the right password after %d wrong ones: %d, Retry-After %q; want 429 with Retry-After (locked)", wrong, a.status, a.retryAfter)
	}
}

func TestMain_AbuseTrickledBody(t *testing.T) {
	const conns = 100 // per row, all at once
	const bound = 3 * readTimeout
	env := testEnv(dbtest.URL(t))
	m := startMain(t, env)
	addr := strings.TrimPrefix(m.URL(), "http://")
	tests := []struct {
		name, head string
	}{
		{"Login", "POST /v1/auth/login HTTP/1.1"},
		// The verify handler answers at once without reading the body, but
		// net/http still reads what was announced before it closes.
		{"ForwardAuth", "GET /forward-auth HTTP/1.1\r\nX-Forwarded-Method: GET\r\nX-Forwarded-Proto: https\r\n" +
			"X-Forwarded-Host: app.example\r\nX-Forwarded-Uri: /events"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			closed := make([]trickle, conns)
			var wg sync.WaitGroup
			for i := range conns {
				wg.Go(func() { closed[i] = trickleBody(addr, tt.head, bound) })
			}
			wg.Wait()
			var held, answered []time.Duration
			answers := map[string]int{}
			for _, c := range closed {
				if c.err != nil {
					t.Fatal(c.err)
				}
				held, answered = append(held, c.held), append(answered, c.answered)
				answers[c.status]++
			}
			slices.Sort(held)
			slices.Sort(answered)
			t.Logf("%d connections sending one body byte a second (Content-Length 100): answered after %v to %v, closed after %v to %v (ReadTimeout %v); answers %v",
				conns, answered[0].Round(10*time.Millisecond), answered[len(answered)-1].Round(10*time.Millisecond),
				held[0].Round(10*time.Millisecond), held[len(held)-1].Round(10*time.Millisecond), readTimeout, answers)
		})
	}
}

func TestMain_AbuseRefreshFlood(t *testing.T) {
	const workers, run = 4, 2 * time.Second
	env := testEnv(dbtest.URL(t))
	m := startMain(t, env)
	url := m.ManagementURL() + "/v1/auth/refresh"
	hc := clientFrom(t, net.IPv4(127, 0, 2, 1)) // one address for every request
	defer hc.CloseIdleConnections()

	var mu sync.Mutex
	var answers []answer
	began := time.Now()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			var mine []answer
			for time.Since(began) < run {
				token := verify.NewKey(verify.PrefixRefreshToken).Reveal() // well formed, known to nobody
				mine = append(mine, post(hc, url, `{"refresh_token":"`+token+`"}`))
			}
			mu.Lock()
			answers = append(answers, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	wall := time.Since(began)
	counts := countAnswers(t, answers, 401, 429)
	t.Logf("garbage refresh tokens from one address, %d at a time for %v: %d answers, %.0f/s; statuses: %s",
		workers, wall.Round(time.Millisecond), len(answers), float64(len(answers))/wall.Seconds(), counts)
}

// answer is what one request got.
type answer struct {
	status     int
	retryAfter string
	took       time.Duration
	err        error
}

func post(hc *http.Client, url, body string) answer {
	start := time.Now()
	resp, err := hc.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		return answer{err: err, took: time.Since(start)}
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return answer{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), took: time.Since(start)}
}

// countAnswers fails the test unless every answer has one of the allowed
// statuses, and every 429 and 503 carries Retry-After; it returns the counts
// of every allowed status, as text.
func countAnswers(t *testing.T, answers []answer, allowed ...int) string {
	t.Helper()
	counts := map[int]int{}
	for _, a := range answers {
		switch {
		case a.err != nil:
			t.Errorf("no answer: %v", a.err)
		case !slices.Contains(allowed, a.status):
			t.Errorf("status %d; want one of %v", a.status, allowed)
		case (a.status == 429 || a.status == 503) && a.retryAfter == "":
			t.Errorf("status %d without Retry-After", a.status)
		}
		counts[a.status]++
	}
	var b strings.Builder
	for _, code := range []int{200, 401, 429, 503} {
		fmt.Fprintf(&b, "%d×%d ", counts[code], code)
	}
	return strings.TrimSpace(b.String())
}

// clientFrom returns an HTTP client whose connections leave from ip, which
// must be a loopback address: the server sees each such client as a peer of
// its own.
func clientFrom(t *testing.T, ip net.IP) *http.Client {
	t.Helper()
	if !ip.IsLoopback() {
		t.Fatalf("%s is not a loopback address", ip)
	}
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: 5 * time.Second}
	return &http.Client{
		Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 16},
		Timeout:   2 * writeTimeout,
	}
}

// trickle is how one trickling connection ended.
type trickle struct {
	answered time.Duration // from the headers to the status line
	held     time.Duration // from the headers to the server closing the connection
	status   string        // the status line the server answered with, if any
	err      error         // set when the server held on past the bound
}

// trickleBody sends head with Content-Length 100, then one byte of body a
// second, until the server closes the connection or bound passes.
func trickleBody(addr, head string, bound time.Duration) trickle {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return trickle{err: err}
	}
	defer conn.Close()
	start := time.Now()
	fmt.Fprintf(conn, "%s\r\nHost: authgate.test\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n", head)
	done := make(chan trickle)
	go func() {
		r := bufio.NewReader(conn)
		status, _ := r.ReadString('\n')
		answered := time.Since(start)
		io.Copy(io.Discard, r) // until the server closes the connection
		done <- trickle{answered: answered, held: time.Since(start), status: strings.TrimSpace(status)}
	}()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	timeout := time.After(bound)
	for {
		select {
		case tr := <-done:
			return tr
		case <-tick.C:
			conn.Write([]byte(" ")) // an error means the server closed it: the reader sees that too
		case <-timeout:
			conn.Close()
			<-done
			return trickle{err: fmt.Errorf("%s: the server still held a trickling connection after %v (ReadTimeout %v)", head, bound, readTimeout)}
		}
	}
}
