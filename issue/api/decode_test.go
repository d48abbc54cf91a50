package api

import (
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/authgate/authgate/issue"
)

func TestValidPathParams(t *testing.T) {
	e := echo.New()
	e.HTTPErrorHandler = ErrorHandler(slog.New(slog.DiscardHandler))
	e.GET("/k/:id/r/:role", func(c echo.Context) error { return c.String(200, c.Param("id")) }, validPathParams)
	tests := []struct {
		name, path string
		want       int
	}{
		{"Plain", "/k/key_1/r/viewer", 200},
		{"EscapedColon", "/k/key_1/r/a%3Ab", 200},
		{"Unicode", "/k/cl%C3%A9/r/x", 200},
		{"AtTheBound", "/k/" + strings.Repeat("x", 200) + "/r/x", 200},
		{"NUL", "/k/%00/r/x", 404},
		{"NULInSecond", "/k/x/r/a%00", 404},
		{"InvalidUTF8", "/k/%FF/r/x", 404},
		{"TruncatedUTF8", "/k/%C3/r/x", 404},
		{"Newline", "/k/a%0Ab/r/x", 404},
		{"DEL", "/k/a%7F/r/x", 404},
		{"C1", "/k/a%C2%85/r/x", 404},
		{"TooLong", "/k/" + strings.Repeat("x", 201) + "/r/x", 404},
		{"NULBehindEscapedSlash", "/k/a%2F%00/r/x", 404},
		{"DoubleEscapedNULIsText", "/k/a%2F%2500/r/x", 200}, // decoded once: "a/%00"
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			e.ServeHTTP(w, httptest.NewRequest("GET", tt.path, nil))
			if w.Code != tt.want {
				t.Fatalf("got %d %s; want %d", w.Code, w.Body, tt.want)
			}
		})
	}
}

func TestQueryParams(t *testing.T) {
	tests := []struct {
		name, query string
		want        string // q.Encode() when parsed
		field, err  string // the refusal
	}{
		{"Empty", "", "", "", ""},
		{"Plain", "actor=a&limit=5", "actor=a&limit=5", "", ""},
		{"Escaped", "actor=a%3Bx&b=%25", "actor=a%3Bx&b=%25", "", ""},
		{"Semicolon", "actor=a;x", "", "actor", "';'"},
		{"SemicolonLater", "limit=5&action=b;c=d", "", "action", "';'"},
		{"SemicolonInName", "a;b=1", "", "a", "';'"},
		{"BadEscapeInValue", "actor=%zz", "", "actor", "percent-escape"},
		{"TruncatedEscape", "cursor=%", "", "cursor", "percent-escape"},
		{"BadEscapeInName", "act%zzor=a", "", "", "percent-escape"},
		{"NULInNameNotEchoed", "%00;=1", "", "", "';'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := echo.New().NewContext(httptest.NewRequest("GET", "/?"+tt.query, nil), httptest.NewRecorder())
			q, err := queryParams(c)
			var fe *issue.FieldError
			switch {
			case tt.err == "" && (err != nil || q.Encode() != tt.want):
				t.Fatalf("got %v, %v; want %s", q, err, tt.want)
			case tt.err != "" && (!errors.As(err, &fe) || fe.Field != tt.field || !strings.Contains(fe.Msg, tt.err)):
				t.Fatalf("got %v; want a *FieldError for %q mentioning %q", err, tt.field, tt.err)
			}
		})
	}
}
