package main

import (
	"slices"
	"testing"
)

func TestUnknownVariables(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"Known", map[string]string{"AUTHGATE_CACHE_TTL": "1s", "DATABASE_URL": "x", "HOME": "/root"}, nil},
		{"ScriptVariables", map[string]string{"AUTHGATE_PG_BIN_GLOB": "x", "AUTHGATE_CACHE": "x"}, nil},
		{"ExtraLetter", map[string]string{"AUTHGATE_CACHE_TTLL": "1s"},
			[]string{"AUTHGATE_CACHE_TTLL is not a known variable; did you mean AUTHGATE_CACHE_TTL?"}},
		{"Swapped", map[string]string{"AUTHGATE_SECRTE": "x"},
			[]string{"AUTHGATE_SECRTE is not a known variable; did you mean AUTHGATE_SECRET?"}},
		{"MissingWord", map[string]string{"AUTHGATE_MANAGEMENT": "x"},
			[]string{"AUTHGATE_MANAGEMENT is not a known variable; did you mean AUTHGATE_MANAGEMENT_ADDR?"}},
		{"NothingClose", map[string]string{"AUTHGATE_FROBNICATE_EVERYTHING": "x"},
			[]string{"AUTHGATE_FROBNICATE_EVERYTHING is not a known variable ('authgate --help' lists them)"}},
		{"Sorted", map[string]string{"AUTHGATE_LOG_LEVLE": "x", "AUTHGATE_ADR": "x"},
			[]string{"AUTHGATE_ADR is not a known variable; did you mean AUTHGATE_ADDR?",
				"AUTHGATE_LOG_LEVLE is not a known variable; did you mean AUTHGATE_LOG_LEVEL?"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := unknownVariables(tt.env); !slices.Equal(got, tt.want) {
				t.Errorf("got %q; want %q", got, tt.want)
			}
		})
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "", 3}, {"", "abc", 3}, {"kitten", "sitting", 3}, {"TTL", "TTLL", 1}, {"SECRTE", "SECRET", 2},
	}
	for _, tt := range tests {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d; want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
