package main

import (
	"errors"
	"strings"
	"testing"
)

func TestPromptPassword(t *testing.T) {
	tests := []struct {
		name    string
		answers []string
		want    string
		wantErr string
	}{
		{"Confirmed", []string{"correct horse battery", "correct horse battery"}, "correct horse battery", ""},
		{"Differ", []string{"correct horse battery", "correct horse batery"}, "", "the two passwords differ"},
		{"Empty", []string{""}, "", "no password given"},
		{"ReadFails", nil, "", "read the password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w strings.Builder
			answers := tt.answers
			read := func() (string, error) {
				if len(answers) == 0 {
					return "", errors.New("EOF")
				}
				a := answers[0]
				answers = answers[1:]
				return a, nil
			}
			got, err := promptPassword(&w, "alice", read)
			if got != tt.want || (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("got %q, %v; want %q, %q", got, err, tt.want, tt.wantErr)
			}
			if !strings.HasPrefix(w.String(), "Password for alice: ") {
				t.Errorf("prompt %q; want Password for alice: ", w.String())
			}
			if strings.Contains(w.String(), "correct") {
				t.Errorf("the prompt echoed the password: %q", w.String())
			}
		})
	}
}
