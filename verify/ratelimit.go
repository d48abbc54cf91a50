package verify

import (
	"fmt"
	"hash/maphash"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// RateRule is a rate limit: Requests per Window, with bursts of up to Burst
// requests at once. It is a GCRA (the token bucket as a single timestamp):
// one request costs Window/Requests, and a credential idle for Burst of those
// (Window×Burst/Requests) may send Burst requests at once.
type RateRule struct {
	Requests int
	Window   time.Duration
	Burst    int
}

// Limits on a rule, so that every figure fits the arithmetic and a header.
const (
	maxRateRequests = 1_000_000
	maxRateWindow   = 24 * time.Hour
)

// ParseRate reads a rule as a verify URL states it: requests/window, the
// window a unit (s, m, h) or a Go duration ("100/m", "10/s", "5/10s"), and
// burst ("" for the default, Requests). Errors say what is wrong.
func ParseRate(rate, burst string) (RateRule, error) {
	n, w, ok := strings.Cut(rate, "/")
	if !ok {
		return RateRule{}, fmt.Errorf("rate %s must be requests/window, e.g. 100/m or 5/10s", quote(rate))
	}
	var r RateRule
	var err error
	if r.Requests, err = strconv.Atoi(n); err != nil || r.Requests < 1 || r.Requests > maxRateRequests {
		return RateRule{}, fmt.Errorf("rate %s: requests must be a whole number from 1 to %d", quote(rate), maxRateRequests)
	}
	switch w {
	case "s":
		r.Window = time.Second
	case "m":
		r.Window = time.Minute
	case "h":
		r.Window = time.Hour
	default:
		if r.Window, err = time.ParseDuration(w); err != nil {
			return RateRule{}, fmt.Errorf("rate %s: the window must be s, m, h or a duration such as 10s", quote(rate))
		}
	}
	if r.Window < time.Second || r.Window > maxRateWindow || r.Window%time.Second != 0 {
		return RateRule{}, fmt.Errorf("rate %s: the window must be whole seconds from 1s to 24h", quote(rate))
	}
	r.Burst = r.Requests
	if burst != "" {
		if r.Burst, err = strconv.Atoi(burst); err != nil || r.Burst < 1 || r.Burst > maxRateRequests {
			return RateRule{}, fmt.Errorf("burst %s must be a whole number from 1 to %d", quote(burst), maxRateRequests)
		}
	}
	if !r.Valid() {
		return RateRule{}, fmt.Errorf("rate %s with burst %d: a full burst would take longer than 24h to come back; "+
			"lower the burst or raise the rate", quote(rate), r.Burst)
	}
	return r, nil
}

// Valid reports whether r is a rule the limiter can keep: its figures in
// their ranges, and a full burst back within maxRateWindow (so that no
// arithmetic overflows).
func (r RateRule) Valid() bool {
	if r.Requests < 1 || r.Requests > maxRateRequests || r.Burst < 1 || r.Burst > maxRateRequests ||
		r.Window < time.Second || r.Window > maxRateWindow {
		return false
	}
	return float64(r.Window)*float64(r.Burst)/float64(r.Requests) <= float64(maxRateWindow)
}

// interval is the time one request costs.
func (r RateRule) interval() time.Duration { return r.Window / time.Duration(r.Requests) }

// String is the rule as a verify URL states it.
func (r RateRule) String() string {
	return strconv.Itoa(r.Requests) + "/" + r.Window.String() + " burst " + strconv.Itoa(r.Burst)
}

// Limiter decides rate limits in memory, without allocating once a
// credential's cell exists: one GCRA cell per credential and rule, in
// sharded maps bounded to a total number of cells. When a shard is full, an
// idle cell (one whose bucket is full again: forgetting it loses nothing) is
// dropped, or failing that any one, and that credential starts afresh.
// Safe for concurrent use.
type Limiter struct {
	shards [limiterShards]limiterShard
	seed   maphash.Seed
	max    int // cells per shard
	now    func() time.Time
}

const limiterShards = 64

// DefaultLimiterCells is the bound NewHandler gives a limiter of its own.
const DefaultLimiterCells = 100_000

type limiterShard struct {
	mu    sync.Mutex
	cells map[limitKey]*limitCell
}

// limitKey names a cell: whose requests, counted where (the verify URL's
// query: routes sharing a verify URL share a budget), under which rule. A
// value, so that looking one up allocates nothing.
type limitKey struct {
	who, where string
	rule       RateRule
}

// limitCell is a GCRA: tat is the theoretical arrival time (unix ns) of the
// next request were they spaced evenly. pending counts the requests it
// admitted since the last Drain, for other instances to charge.
type limitCell struct {
	tat     atomic.Int64
	pending atomic.Int64
}

// NewLimiter returns a limiter holding at most cells cells (at least one
// per shard), on the clock now (nil: time.Now).
func NewLimiter(cells int, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	l := &Limiter{seed: maphash.MakeSeed(), max: max(cells/limiterShards, 1), now: now}
	for i := range l.shards {
		l.shards[i].cells = map[limitKey]*limitCell{}
	}
	return l
}

// Len returns how many cells the limiter holds.
func (l *Limiter) Len() int {
	n := 0
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		n += len(s.cells)
		s.mu.Unlock()
	}
	return n
}

// Verdict is a rate limit's answer for one request.
type Verdict struct {
	Allowed    bool
	Remaining  int           // requests that may follow at once
	RetryAfter time.Duration // when not Allowed: until the next request may pass
	Reset      time.Duration // until the bucket is full again
}

// Allow takes one request of who at where (a name for the budget: the
// verify URL) under rule, if the rule lets it pass.
func (l *Limiter) Allow(who, where string, rule RateRule) Verdict {
	c := l.cell(limitKey{who, where, rule})
	now := l.now().UnixNano()
	t := int64(rule.interval())
	tolerance := t * int64(rule.Burst) // how far ahead of now tat may run
	for {
		tat := c.tat.Load()
		next := max(tat, now) + t
		if next-now > tolerance {
			return Verdict{RetryAfter: time.Duration(next - tolerance - now), Reset: time.Duration(tat - now)}
		}
		if c.tat.CompareAndSwap(tat, next) {
			c.pending.Add(1)
			return Verdict{Allowed: true, Remaining: int((tolerance - (next - now)) / t), Reset: time.Duration(next - now)}
		}
	}
}

// cell returns the cell for k, making room for it when its shard is full.
func (l *Limiter) cell(k limitKey) *limitCell {
	s := &l.shards[maphash.String(l.seed, k.who)%limiterShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.cells[k]; ok {
		return c
	}
	if len(s.cells) >= l.max {
		l.evict(s)
	}
	c := &limitCell{}
	s.cells[k] = c
	return c
}

// evict drops one cell of s: an idle one among the first few the map
// yields, else the first.
func (l *Limiter) evict(s *limiterShard) {
	now := l.now().UnixNano()
	var victim limitKey
	seen := 0
	for k, c := range s.cells {
		if seen == 0 {
			victim = k
		}
		if c.tat.Load() <= now {
			victim = k
			break
		}
		if seen++; seen == 8 {
			break
		}
	}
	delete(s.cells, victim)
}

// RateCount is a number of requests one credential had admitted under one
// rule at one verify URL: what instances tell each other (Drain, Absorb).
type RateCount struct {
	Who, Where string
	Rule       RateRule
	N          int64
}

// Drain returns, and forgets, the requests each cell admitted since the last
// Drain: this instance's share, for the others to Absorb.
func (l *Limiter) Drain() []RateCount {
	var out []RateCount
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		for k, c := range s.cells {
			if n := c.pending.Swap(0); n > 0 {
				out = append(out, RateCount{Who: k.who, Where: k.where, Rule: k.rule, N: n})
			}
		}
		s.mu.Unlock()
	}
	return out
}

// Absorb charges requests another instance admitted to this instance's
// cells, as if they had been admitted here (without counting them as this
// instance's own), so that a credential spread over instances converges to
// its limit. A cell is charged at most a full bucket ahead of now: beyond
// that the credential is refused here until it would be anyway.
func (l *Limiter) Absorb(counts []RateCount) {
	now := l.now().UnixNano()
	for _, rc := range counts {
		if rc.N <= 0 || !rc.Rule.Valid() {
			continue
		}
		c := l.cell(limitKey{rc.Who, rc.Where, rc.Rule})
		t := int64(rc.Rule.interval())
		ceiling := now + t*int64(rc.Rule.Burst)
		for {
			tat := c.tat.Load()
			next := min(max(tat, now)+t*rc.N, ceiling)
			if next <= tat || c.tat.CompareAndSwap(tat, next) {
				break
			}
		}
	}
}
