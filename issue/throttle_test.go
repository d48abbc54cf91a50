package issue

import (
	"strconv"
	"testing"
	"time"
)

func TestIPThrottle_Take(t *testing.T) {
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	th := newIPThrottle(3, time.Minute) // 3 at once, one more every 20 s
	for i := range 3 {
		if _, wait := th.take("a", now); wait != 0 {
			t.Fatalf("attempt %d: wait %v; want none", i+1, wait)
		}
	}
	if _, wait := th.take("a", now); wait != 20*time.Second {
		t.Fatalf("4th attempt: wait %v; want 20s", wait)
	}
	if _, wait := th.take("b", now); wait != 0 {
		t.Fatalf("another IP: wait %v; want none", wait)
	}
	// A refunded attempt (a success) does not count.
	refund, _ := th.take("c", now)
	refund()
	for i := range 3 {
		if _, wait := th.take("c", now); wait != 0 {
			t.Fatalf("after a refund, attempt %d: wait %v; want none", i+1, wait)
		}
	}
	if _, wait := th.take("a", now.Add(20*time.Second)); wait != 0 {
		t.Fatalf("after 20 s: wait %v; want one attempt refilled", wait)
	}
}

func TestIPThrottle_Bounded(t *testing.T) {
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	th := newIPThrottle(3, time.Minute)
	for i := range maxThrottled + 100 {
		th.take("ip"+strconv.Itoa(i), now)
	}
	if n := len(th.ips); n > maxThrottled {
		t.Fatalf("%d IPs remembered; want at most %d", n, maxThrottled)
	}
	// Once idle for a window, they are all swept at the next new IP.
	th.take("late", now.Add(2*time.Minute))
	if n := len(th.ips); n != 1 {
		t.Fatalf("%d IPs remembered after they went idle; want only the new one", n)
	}
}
