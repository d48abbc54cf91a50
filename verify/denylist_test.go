package verify

import (
	"strconv"
	"sync"
	"testing"
	"time"
)

func TestDenyList(t *testing.T) {
	now := testNow
	d := NewDenyList(func() time.Time { return now })
	d.Add("ses_a", testNow.Add(time.Minute))
	d.Add("ses_b", testNow.Add(time.Hour))
	d.Add("ses_b", testNow.Add(time.Minute)) // a late, shorter repeat: keeps the hour
	d.Add("ses_c", testNow.Add(time.Minute))
	d.Add("ses_c", testNow.Add(2*time.Minute)) // extended
	steps := []struct {
		name string
		at   time.Duration
		sid  string
		want bool
	}{
		{"Unknown", 0, "ses_x", false},
		{"Empty", 0, "", false},
		{"Revoked", 0, "ses_a", true},
		{"JustBeforeUntil", time.Minute - time.Nanosecond, "ses_a", true},
		{"AtUntil", time.Minute, "ses_a", false},
		{"ShorterRepeatIgnored", 30 * time.Minute, "ses_b", true},
		{"Extended", 90 * time.Second, "ses_c", true},
		{"ExtendedUntil", 2 * time.Minute, "ses_c", false},
	}
	for _, s := range steps {
		now = testNow.Add(s.at)
		if got := d.Revoked(s.sid); got != s.want {
			t.Errorf("%s: Revoked(%q) at +%v = %t; want %t", s.name, s.sid, s.at, got, s.want)
		}
	}
}

func TestDenyList_Prune(t *testing.T) {
	now := testNow
	d := NewDenyList(func() time.Time { return now })
	d.Add("ses_a", testNow.Add(time.Minute))
	d.Add("ses_b", testNow.Add(time.Hour))
	if got := d.Len(); got != 2 {
		t.Fatalf("Len = %d; want 2", got)
	}
	now = testNow.Add(time.Minute)
	d.Prune()
	if got := d.Len(); got != 1 || !d.Revoked("ses_b") {
		t.Fatalf("after Prune: Len = %d, Revoked(ses_b) = %t; want 1, true", got, d.Revoked("ses_b"))
	}
}

func TestDenyList_Concurrent(t *testing.T) {
	d := NewDenyList(nil)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 500 {
				sid := "ses_" + strconv.Itoa(w) + "_" + strconv.Itoa(i)
				d.Add(sid, time.Now().Add(time.Duration(i%3-1)*time.Hour))
				d.Revoked(sid)
				if i%100 == 0 {
					d.Prune()
				}
			}
		})
	}
	wg.Wait()
	d.Prune()
	if got := d.Len(); got == 0 || got >= 2000 {
		t.Fatalf("Len after Prune = %d; want the unexpired third or so of 2000", got)
	}
	held := 0
	d.until.Range(func(any, any) bool { held++; return true })
	if got := d.Len(); got != held {
		t.Fatalf("Len = %d, but the list holds %d: the count drifted under concurrent Add and Prune", got, held)
	}
}
