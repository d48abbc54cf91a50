// Package apitest holds the management API's answers to its OpenAPI document
// (api.OpenAPI), for tests: Middleware for tests that serve the API in
// process, Check for tests that call a running server. It is imported by
// tests only, so the validator it uses never reaches the binary.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"

	"github.com/authgate/authgate/issue/api"
)

// Document returns the management API's OpenAPI document, loaded and
// checked against the OpenAPI 3.0 rules once per test binary.
var Document = sync.OnceValues(func() (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(api.OpenAPI())
	if err != nil {
		return nil, fmt.Errorf("load openapi.json: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("openapi.json is not valid OpenAPI 3.0: %w", err)
	}
	return doc, nil
})

// Path is the OpenAPI form of an Echo route path: /v1/keys/:id is
// /v1/keys/{id}.
func Path(echoPath string) string {
	segs := strings.Split(echoPath, "/")
	for i, s := range segs {
		if name, ok := strings.CutPrefix(s, ":"); ok {
			segs[i] = "{" + name + "}"
		}
	}
	return strings.Join(segs, "/")
}

// Match returns the document's path that urlPath (as sent, without the
// query) falls under, preferring literal segments to parameters, and the
// values of its parameters; "" when none does.
func Match(doc *openapi3.T, urlPath string) (string, map[string]string) {
	got := strings.Split(urlPath, "/")
	best, bestLiterals, params := "", -1, map[string]string(nil)
	for tmpl := range doc.Paths.Map() {
		want := strings.Split(tmpl, "/")
		if len(want) != len(got) {
			continue
		}
		literals, ps := 0, map[string]string{}
		for i, w := range want {
			switch {
			case strings.HasPrefix(w, "{") && strings.HasSuffix(w, "}") && got[i] != "":
				ps[w[1:len(w)-1]] = got[i]
			case w == got[i]:
				literals++
			default:
				literals = -1
			}
			if literals < 0 {
				break
			}
		}
		if literals > bestLiterals {
			best, bestLiterals, params = tmpl, literals, ps
		}
	}
	return best, params
}

// Check validates one answer to r against the document: the operation at
// path (an OpenAPI path template, "" for none) and r's method must list the
// status, and the body must match its schema. An answer no operation
// describes (an unknown path, a method not allowed) must be a 4xx ErrorBody.
func Check(r *http.Request, path string, params map[string]string, status int, header http.Header, body []byte) error {
	doc, err := Document()
	if err != nil {
		return err
	}
	if r.Method == http.MethodHead {
		return nil
	}
	var op *openapi3.Operation
	item := doc.Paths.Value(path)
	if item != nil {
		op = item.GetOperation(r.Method)
	}
	if op == nil {
		return checkUndocumented(doc, r, status, body)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: r, PathParams: params,
			Route: &routers.Route{Spec: doc, Path: path, PathItem: item, Method: r.Method, Operation: op}},
		Status: status, Header: header, Body: io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return fmt.Errorf("%s %s (%s): %d %.300s: %w", r.Method, r.URL.Path, path, status, body, err)
	}
	return nil
}

func checkUndocumented(doc *openapi3.T, r *http.Request, status int, body []byte) error {
	if status < 400 || status >= 500 {
		return fmt.Errorf("%s %s: %d from a route the document does not describe", r.Method, r.URL.Path, status)
	}
	var v any
	err := json.Unmarshal(body, &v)
	if err == nil {
		err = doc.Components.Schemas["ErrorBody"].Value.VisitJSON(v, openapi3.VisitAsResponse())
	}
	if err != nil {
		return fmt.Errorf("%s %s: %d %.300s: not an ErrorBody: %w", r.Method, r.URL.Path, status, body, err)
	}
	return nil
}

// Middleware validates every answer of the Echo it is used on (e.Use,
// after Register) with Check, and fails t when it ends if any did not
// validate. It answers a handler's error itself, through the Echo's error
// handler, so that it sees what the client gets.
func Middleware(t testing.TB) echo.MiddlewareFunc {
	var mu sync.Mutex
	var failures []string
	var n int
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		t.Logf("%d answers validated against openapi.json", n)
		for _, f := range failures {
			t.Errorf("answer does not match openapi.json: %s", f)
		}
	})
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			res := c.Response()
			tee := &teeWriter{ResponseWriter: res.Writer}
			res.Writer = tee
			if err := next(c); err != nil {
				c.Error(err)
			}
			params := map[string]string{}
			for i, n := range c.ParamNames() {
				if i < len(c.ParamValues()) {
					params[n] = c.ParamValues()[i]
				}
			}
			err := Check(c.Request(), Path(c.Path()), params, res.Status, res.Header(), tee.body.Bytes())
			mu.Lock()
			n++
			if err != nil {
				failures = append(failures, err.Error())
			}
			mu.Unlock()
			return nil
		}
	}
}

// teeWriter keeps a copy of the body it writes.
type teeWriter struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (w *teeWriter) Write(b []byte) (int, error) {
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

func (w *teeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// CheckResponse validates, with Check, an answer a running server gave over
// HTTP to a path of the document or under /v1; the answers of other paths
// (the verify endpoints, the portal) are not the document's, and pass.
func CheckResponse(resp *http.Response, body []byte) error {
	doc, err := Document()
	if err != nil {
		return err
	}
	urlPath := resp.Request.URL.EscapedPath()
	path, params := Match(doc, urlPath)
	if path == "" && urlPath != "/v1" && !strings.HasPrefix(urlPath, "/v1/") {
		return nil
	}
	return Check(resp.Request, path, params, resp.StatusCode, resp.Header, body)
}
