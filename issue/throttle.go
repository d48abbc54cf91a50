package issue

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// maxThrottled bounds how many client IPs an ipThrottle remembers.
const maxThrottled = 10_000

// ipThrottle limits attempts per client IP, in memory: each IP may make burst
// attempts at once, refilled evenly over window. It guards the password check,
// whose cost an attacker would otherwise choose. Safe for concurrent use.
type ipThrottle struct {
	every  rate.Limit
	burst  int
	window time.Duration // an IP idle this long has a full bucket again: forget it

	mu    sync.Mutex
	ips   map[string]*ipEntry
	swept time.Time
}

type ipEntry struct {
	lim  *rate.Limiter
	seen time.Time
}

func newIPThrottle(burst int, window time.Duration) *ipThrottle {
	return &ipThrottle{every: rate.Limit(float64(burst) / window.Seconds()), burst: burst, window: window,
		ips: map[string]*ipEntry{}}
}

// take charges one attempt to ip at now. It returns how long to wait when the
// IP has none left, and otherwise a refund that gives the attempt back (call
// it when the attempt succeeded: only failures should count).
func (t *ipThrottle) take(ip string, now time.Time) (refund func(), wait time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.ips[ip]
	if e == nil {
		t.makeRoom(now)
		e = &ipEntry{lim: rate.NewLimiter(t.every, t.burst)}
		t.ips[ip] = e
	}
	e.seen = now
	r := e.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return nil, d
	}
	return func() { r.CancelAt(now) }, 0
}

// makeRoom keeps the map under maxThrottled: it forgets IPs idle for a window
// (their bucket is full again, as a new one would be), at most once a minute,
// and otherwise one IP at random. An attacker with that many addresses gets
// past this throttle whatever it does; the account lockout still holds.
func (t *ipThrottle) makeRoom(now time.Time) {
	if len(t.ips) < maxThrottled {
		return
	}
	if now.Sub(t.swept) >= time.Minute {
		t.swept = now
		for ip, e := range t.ips {
			if now.Sub(e.seen) >= t.window {
				delete(t.ips, ip)
			}
		}
	}
	for ip := range t.ips {
		if len(t.ips) < maxThrottled {
			break
		}
		delete(t.ips, ip)
	}
}
