package usage_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/usage"
	"github.com/authgate/authgate/verify"
)

// memStore is a Store that sums what it is given, and fails while fail is set.
type memStore struct {
	mu      sync.Mutex
	sums    map[string]int64 // by "credential hour reason"
	batches int
	fail    atomic.Bool
}

func newMemStore() *memStore { return &memStore{sums: map[string]int64{}} }

func (s *memStore) UsageAdd(_ context.Context, counts []issue.UsageCount) error {
	if s.fail.Load() {
		return errors.New("database unreachable")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.batches++
	seen := map[string]bool{}
	for _, c := range counts {
		k := row(c.CredentialID, c.Hour, c.Reason)
		if seen[k] {
			return fmt.Errorf("%s twice in one batch", k)
		}
		seen[k] = true
		s.sums[k] += c.Count
	}
	return nil
}

func (s *memStore) got() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.sums)
}

func row(id string, hour time.Time, reason string) string {
	return id + " " + hour.UTC().Format("2006-01-02T15") + " " + reason
}

// clock is a settable clock.
type clock struct{ t atomic.Int64 }

func newClock(t time.Time) *clock        { c := &clock{}; c.t.Store(t.UnixNano()); return c }
func (c *clock) now() time.Time          { return time.Unix(0, c.t.Load()) }
func (c *clock) advance(d time.Duration) { c.t.Add(int64(d)) }

var t0 = time.Date(2026, 11, 30, 9, 59, 0, 0, time.UTC)

func allow(id string) *verify.Decision {
	return &verify.Decision{Outcome: verify.OutcomeAllow, Kind: verify.KindAPIKey, CredentialID: id}
}

func deny(id string, r verify.Reason) *verify.Decision {
	return &verify.Decision{Outcome: verify.OutcomeDeny, Reason: r, Kind: verify.KindAPIKey, CredentialID: id}
}

func flush(t *testing.T, c *usage.Counter) {
	t.Helper()
	if err := c.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func checkSums(t *testing.T, s *memStore, want map[string]int64) {
	t.Helper()
	if got := s.got(); !maps.Equal(got, want) {
		t.Errorf("stored %v; want %v", got, want)
	}
}

func TestCounter_Observe(t *testing.T) {
	clk, s := newClock(t0), newMemStore()
	c := usage.NewCounter(s, usage.Options{Now: clk.now})
	for _, d := range []*verify.Decision{
		allow("key_a"), allow("key_a"), allow("tok_b"),
		deny("key_a", verify.ReasonWrongSecret), deny("key_a", verify.ReasonWrongSecret),
		deny("key_a", verify.ReasonMissingScope), deny("tok_b", verify.ReasonExpired),
		{Outcome: verify.OutcomeRateLimited, Reason: verify.ReasonRateLimited, CredentialID: "key_a"},
		{Outcome: verify.OutcomeRateLimited, CredentialID: "key_a"}, // a rate limit is one, whatever the reason says
		{Outcome: verify.OutcomeError, CredentialID: "key_a"},       // an error without a reason is internal
		// Not counted: no credential was found.
		deny("", verify.ReasonUnknown), deny("", verify.ReasonNoCredential), allow(""),
	} {
		c.Observe(d)
	}
	flush(t, c)
	h := t0.Truncate(time.Hour)
	checkSums(t, s, map[string]int64{
		row("key_a", h, ""): 2, row("tok_b", h, ""): 1,
		row("key_a", h, "wrong_secret"): 2, row("key_a", h, "missing_scope"): 1, row("tok_b", h, "expired"): 1,
		row("key_a", h, "rate_limited"): 2, row("key_a", h, "internal"): 1,
	})

	// A flush writes only what came since the last one; one with nothing new writes nothing.
	c.Observe(allow("key_a"))
	flush(t, c)
	flush(t, c)
	if got := s.got()[row("key_a", h, "")]; got != 3 {
		t.Errorf("key_a allowed = %d after another allow; want 3", got)
	}
	if s.batches != 2 {
		t.Errorf("%d batches written; want 2 (none for an empty flush)", s.batches)
	}
}

// A Decision that carries its time is counted in that hour, not in the
// counter's: the verifier read the clock once for the request.
func TestCounter_ObserveInTheDecisionsHour(t *testing.T) {
	clk, s := newClock(t0), newMemStore()
	c := usage.NewCounter(s, usage.Options{Now: clk.now})
	d := allow("key_a")
	d.At = t0.Add(3 * time.Hour)
	c.Observe(d)
	c.Observe(allow("key_a")) // no time of its own: the counter's clock
	flush(t, c)
	checkSums(t, s, map[string]int64{
		row("key_a", t0.Add(3*time.Hour).Truncate(time.Hour), ""): 1,
		row("key_a", t0.Truncate(time.Hour), ""):                  1,
	})
}

// One key answered from many cores at once (Decisions with different slots)
// is counted in several shards and written as one count.
func TestCounter_ObserveAcrossSlots(t *testing.T) {
	clk, s := newClock(t0), newMemStore()
	c := usage.NewCounter(s, usage.Options{Now: clk.now})
	for slot := range uint32(100) {
		d := allow("key_a")
		d.Slot = slot
		c.Observe(d)
	}
	flush(t, c)
	checkSums(t, s, map[string]int64{row("key_a", t0.Truncate(time.Hour), ""): 100})
	if s.batches != 1 || len(s.got()) != 1 {
		t.Errorf("%d batches, %d rows written; want 1 batch of 1 row", s.batches, len(s.got()))
	}
}

func TestCounter_HourRollover(t *testing.T) {
	clk, s := newClock(t0), newMemStore()
	c := usage.NewCounter(s, usage.Options{Now: clk.now, MaxPending: 1})
	c.Observe(allow("key_a"))
	clk.advance(2 * time.Minute) // 10:01
	c.Observe(allow("key_a"))    // a new hour: another key, beyond the bound of 1 until 09:00's is flushed
	flush(t, c)
	c.Observe(allow("key_a"))
	flush(t, c)
	checkSums(t, s, map[string]int64{
		row("key_a", t0.Truncate(time.Hour), ""): 1, row("key_a", t0.Add(time.Hour).Truncate(time.Hour), ""): 1,
	})
	// The flush removed 09:00's key, so 10:00's had room again.
	c.Observe(allow("key_a"))
	flush(t, c)
	if got := s.got()[row("key_a", t0.Add(time.Hour).Truncate(time.Hour), "")]; got != 2 {
		t.Errorf("10:00 allowed = %d; want 2 (the first was dropped at the bound, two counted after)", got)
	}
}

func TestCounter_Bound(t *testing.T) {
	clk, s := newClock(t0), newMemStore()
	var logs bytes.Buffer
	c := usage.NewCounter(s, usage.Options{Now: clk.now, MaxPending: 2, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	for range 3 {
		c.Observe(allow("key_a"))
		c.Observe(deny("key_a", verify.ReasonRevoked))
		c.Observe(allow("key_c")) // a third key: dropped
	}
	flush(t, c)
	h := t0.Truncate(time.Hour)
	checkSums(t, s, map[string]int64{row("key_a", h, ""): 3, row("key_a", h, "revoked"): 3})
	if n := strings.Count(logs.String(), "usage counts dropped"); n != 1 || !strings.Contains(logs.String(), "answers=3") {
		t.Errorf("logs = %q; want one warning for 3 dropped answers", logs.String())
	}
	logs.Reset()
	flush(t, c)
	if logs.Len() != 0 {
		t.Errorf("a flush without drops logged %q", logs.String())
	}
	// The keys of the hour keep their places until the hour is over.
	clk.advance(time.Hour)
	flush(t, c)
	c.Observe(allow("key_c"))
	flush(t, c)
	if got := s.got()[row("key_c", h.Add(time.Hour), "")]; got != 1 {
		t.Errorf("key_c allowed = %d in the next hour; want 1", got)
	}
}

func TestCounter_FlushRetries(t *testing.T) {
	clk, s := newClock(t0), newMemStore()
	c := usage.NewCounter(s, usage.Options{Now: clk.now})
	h := t0.Truncate(time.Hour)
	c.Observe(allow("key_a"))
	c.Observe(deny("tok_b", verify.ReasonDisabled))
	s.fail.Store(true)
	if err := c.Flush(context.Background()); err == nil {
		t.Fatal("Flush with the store failing = nil; want its error")
	}
	c.Observe(allow("key_a"))
	clk.advance(time.Hour)
	c.Observe(allow("key_a"))
	if err := c.Flush(context.Background()); err == nil {
		t.Fatal("second Flush with the store failing = nil; want its error")
	}
	s.fail.Store(false)
	flush(t, c)
	checkSums(t, s, map[string]int64{row("key_a", h, ""): 2, row("tok_b", h, "disabled"): 1, row("key_a", h.Add(time.Hour), ""): 1})
	flush(t, c) // written once only
	checkSums(t, s, map[string]int64{row("key_a", h, ""): 2, row("tok_b", h, "disabled"): 1, row("key_a", h.Add(time.Hour), ""): 1})
}

func TestCounter_FlushRetriesBounded(t *testing.T) {
	clk, s := newClock(t0), newMemStore()
	var logs bytes.Buffer
	c := usage.NewCounter(s, usage.Options{Now: clk.now, MaxPending: 2, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	s.fail.Store(true)
	c.Observe(allow("key_a"))
	c.Observe(allow("key_b"))
	_ = c.Flush(context.Background()) // carries key_a, key_b
	clk.advance(time.Hour)
	c.Observe(allow("key_c")) // room among the counting keys (last hour's were removed), none among the carried
	_ = c.Flush(context.Background())
	if !strings.Contains(logs.String(), "answers=1") {
		t.Errorf("logs = %q; want a warning for key_c's answer", logs.String())
	}
	s.fail.Store(false)
	flush(t, c)
	h := t0.Truncate(time.Hour)
	checkSums(t, s, map[string]int64{row("key_a", h, ""): 1, row("key_b", h, ""): 1})
}

// TestCounter_ConcurrentObserve counts from many goroutines while flushes
// run: no answer is lost or counted twice. Run it with -race.
func TestCounter_ConcurrentObserve(t *testing.T) {
	clk, s := newClock(t0), newMemStore()
	c := usage.NewCounter(s, usage.Options{Now: clk.now})
	const workers, each = 8, 5000
	var wg sync.WaitGroup
	stop := make(chan struct{})
	flushed := make(chan error, 1)
	go func() {
		var err error
		for {
			select {
			case <-stop:
				flushed <- err
				return
			default:
				err = errors.Join(err, c.Flush(context.Background()))
			}
		}
	}()
	for w := range workers {
		wg.Go(func() {
			id := fmt.Sprintf("key_%d", w%3)
			for i := range each {
				if i%2 == 0 {
					c.Observe(allow(id))
				} else {
					c.Observe(deny(id, verify.ReasonWrongSecret))
				}
				if w == 0 && i == each/2 {
					clk.advance(time.Hour) // the hour turns mid-run
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	if err := <-flushed; err != nil {
		t.Fatal(err)
	}
	flush(t, c)
	var total int64
	for _, n := range s.got() {
		total += n
	}
	if total != workers*each {
		t.Errorf("%d answers stored; want %d", total, workers*each)
	}
}

func TestCounter_RunFlushesOnTickAndAtShutdown(t *testing.T) {
	s := newMemStore()
	c := usage.NewCounter(s, usage.Options{Interval: 10 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	c.Observe(allow("key_a"))
	for deadline := time.Now().Add(5 * time.Second); len(s.got()) == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("Run wrote nothing within 5 s at an interval of 10 ms")
		}
	}
	// Observed before the shutdown: flushed by a tick or by the final flush,
	// either way once. (One observed after Run has made its final flush is
	// lost: the verify handler stops before the counter.)
	c.Observe(allow("key_b"))
	cancel()
	<-done
	var n int64
	for k, v := range s.got() {
		if strings.HasPrefix(k, "key_b ") {
			n += v
		}
	}
	if n != 1 {
		t.Errorf("key_b stored %d times after Run ended; want 1", n)
	}
}
