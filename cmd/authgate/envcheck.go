package main

import (
	"reflect"
	"slices"
	"strings"
)

// notConfig are AUTHGATE_ variables that the scripts and tests read, not authgate.
var notConfig = []string{"AUTHGATE_PG_BIN_GLOB", "AUTHGATE_CACHE", "AUTHGATE_SCREENSHOTS", "AUTHGATE_OIDC_PROVIDER"}

// unknownVariables returns a warning for each AUTHGATE_ variable of environ
// that authgate does not read, naming the closest one it does: a misspelt
// variable is otherwise silently ignored. Sorted, for stable output.
func unknownVariables(environ map[string]string) []string {
	var known []string
	t := reflect.TypeFor[Config]()
	for i := range t.NumField() {
		if name := t.Field(i).Tag.Get("env"); name != "" {
			known = append(known, name)
		}
	}
	var warnings []string
	for name := range environ {
		if !strings.HasPrefix(name, "AUTHGATE_") || slices.Contains(known, name) || slices.Contains(notConfig, name) {
			continue
		}
		best, dist := "", 0
		for _, k := range known {
			d := editDistance(name, k)
			if strings.HasPrefix(k, name+"_") { // a word left out: AUTHGATE_MANAGEMENT
				d = 1
			}
			if best == "" || d < dist {
				best, dist = k, d
			}
		}
		w := name + " is not a known variable"
		if dist <= max(2, len(name)/4) {
			w += "; did you mean " + best + "?"
		} else {
			w += " ('authgate --help' lists them)"
		}
		warnings = append(warnings, w)
	}
	slices.Sort(warnings)
	return warnings
}

// editDistance is the Levenshtein distance between a and b, in bytes (the
// names are ASCII).
func editDistance(a, b string) int {
	prev, cur := make([]int, len(b)+1), make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
