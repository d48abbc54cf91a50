package portal

import (
	"fmt"
	"time"
	"unicode/utf8"
)

// span says a lifetime in whole days when it is one, else in hours: "30
// days", "24 hours".
func span(d time.Duration) string {
	if d >= 48*time.Hour && d%(24*time.Hour) == 0 {
		return plural(int(d/(24*time.Hour)), "day")
	}
	return plural(int((d+time.Hour-1)/time.Hour), "hour")
}

// when shows a time to people, in UTC, to the minute.
func when(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// machineTime is t for a <time datetime> attribute.
func machineTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// day shows a date to people.
func day(t time.Time) string { return t.UTC().Format("2006-01-02") }

// truncate cuts s to at most n runes.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}

// ago says how long before now t was, roughly: "just now", "5 minutes ago",
// "3 days ago".
func ago(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%s ago", plural(int(d/time.Minute), "minute"))
	case d < 48*time.Hour:
		return fmt.Sprintf("%s ago", plural(int(d/time.Hour), "hour"))
	}
	return fmt.Sprintf("%s ago", plural(int(d/(24*time.Hour)), "day"))
}
