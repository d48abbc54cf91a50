package api

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"
)

//go:embed docs.html
var docsTemplate string

//go:embed docs.css
var docsCSS string

// docsPolicy admits nothing but the page's own inline stylesheet, by its
// hash: no script, no other origin, never framed.
var docsPolicy = "default-src 'none'; style-src 'sha256-" + cssHash() + "'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

func cssHash() string {
	sum := sha256.Sum256([]byte(docsCSS))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// docsPage is the page GET /docs answers with, rendered once from the
// embedded document.
var docsPage = sync.OnceValues(func() ([]byte, error) { return renderDocs(openAPIDocument) })

// docs is GET /docs: the OpenAPI document as a page for people, rendered on
// the server; no script and nothing from elsewhere.
func (a *API) docs(c echo.Context) error {
	page, err := docsPage()
	if err != nil {
		return err // the document is embedded: TestDocs_Page catches this
	}
	h := c.Response().Header()
	h.Set("Content-Security-Policy", docsPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set(echo.HeaderCacheControl, "no-cache")
	return c.HTMLBlob(http.StatusOK, page)
}

// The parts of an OpenAPI document the page shows.
type (
	oaDocument struct {
		Info struct {
			Title, Version, Description string
		}
		Tags []struct {
			Name, Description string
		}
		Paths      map[string]map[string]oaOperation
		Components struct {
			Schemas   map[string]oaSchema
			Responses map[string]oaResponse
		}
	}
	oaOperation struct {
		OperationID string `json:"operationId"`
		Summary     string
		Tags        []string
		Access      string `json:"x-authgate-access"`
		Permission  string `json:"x-authgate-permission"`
		Parameters  []struct {
			Name, In, Description string
			Required              bool
			Schema                oaSchema
		}
		RequestBody *struct {
			Required bool
			Content  map[string]struct{ Schema oaSchema }
		} `json:"requestBody"`
		Responses map[string]oaResponse
	}
	oaResponse struct {
		Ref         string `json:"$ref"`
		Description string
		Content     map[string]struct{ Schema oaSchema }
	}
	oaSchema struct {
		Ref         string `json:"$ref"`
		Type        string
		Format      string
		Pattern     string
		Enum        []string
		Nullable    bool
		Description string
		Required    []string
		Items       *oaSchema
		Properties  map[string]oaSchema
	}
)

// docsOperation is one operation as the page lists it.
type docsOperation struct {
	Method, Path, ID, Summary, Access, Permission string
	Body, BodyLink                                string // BodyLink: the schema's name, when it is a component
	Params                                        []docsParam
	Responses                                     []docsResponse
}

type docsParam struct{ Name, In, Type, Description string }

type docsResponse struct{ Code, Description, Schema, Link string }

type docsTag struct {
	Name, Description string
	Operations        []docsOperation
}

type docsSchema struct {
	Name, Description string
	Fields            []docsParam // In: required or optional
}

var methodOrder = []string{"get", "post", "put", "patch", "delete"}

// renderDocs renders the page from an OpenAPI document.
func renderDocs(raw []byte) ([]byte, error) {
	var doc oaDocument
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("openapi document: %w", err)
	}
	byTag := map[string]*docsTag{}
	var tags []*docsTag
	for _, t := range doc.Tags {
		byTag[t.Name] = &docsTag{Name: t.Name, Description: t.Description}
		tags = append(tags, byTag[t.Name])
	}
	paths := make([]string, 0, len(doc.Paths))
	for p := range doc.Paths {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		for _, m := range methodOrder {
			op, ok := doc.Paths[p][m]
			if !ok {
				continue
			}
			if len(op.Tags) == 0 || byTag[op.Tags[0]] == nil {
				return nil, fmt.Errorf("openapi document: %s %s: no declared tag", m, p)
			}
			t := byTag[op.Tags[0]]
			t.Operations = append(t.Operations, docOperationOf(doc, strings.ToUpper(m), p, op))
		}
	}
	names := make([]string, 0, len(doc.Components.Schemas))
	for n := range doc.Components.Schemas {
		names = append(names, n)
	}
	slices.Sort(names)
	schemas := make([]docsSchema, 0, len(names))
	for _, n := range names {
		s := doc.Components.Schemas[n]
		ds := docsSchema{Name: n, Description: s.Description}
		fields := make([]string, 0, len(s.Properties))
		for f := range s.Properties {
			fields = append(fields, f)
		}
		slices.Sort(fields)
		for _, f := range fields {
			need := "optional"
			if slices.Contains(s.Required, f) {
				need = "required"
			}
			ds.Fields = append(ds.Fields, docsParam{Name: f, In: need, Type: typeOf(s.Properties[f]), Description: s.Properties[f].Description})
		}
		schemas = append(schemas, ds)
	}
	tmpl, err := template.New("docs").Funcs(template.FuncMap{"lower": strings.ToLower}).Parse(docsTemplate)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	err = tmpl.Execute(&b, map[string]any{"Info": doc.Info, "Tags": tags, "Schemas": schemas, "CSS": template.CSS(docsCSS)})
	return b.Bytes(), err
}

func docOperationOf(doc oaDocument, method, path string, op oaOperation) docsOperation {
	d := docsOperation{Method: method, Path: path, ID: op.OperationID, Summary: op.Summary, Access: op.Access, Permission: op.Permission}
	for _, p := range op.Parameters {
		d.Params = append(d.Params, docsParam{Name: p.Name, In: p.In, Type: typeOf(p.Schema), Description: p.Description})
	}
	if rb := op.RequestBody; rb != nil {
		for _, c := range rb.Content {
			d.Body, d.BodyLink = typeOf(c.Schema), componentOf(c.Schema)
		}
		if !rb.Required {
			d.Body += " (optional)"
		}
	}
	codes := make([]string, 0, len(op.Responses))
	for c := range op.Responses {
		codes = append(codes, c)
	}
	slices.Sort(codes) // "default" after the numbers
	for _, c := range codes {
		r := op.Responses[c]
		if name, ok := strings.CutPrefix(r.Ref, "#/components/responses/"); ok {
			r = doc.Components.Responses[name]
		}
		dr := docsResponse{Code: c, Description: r.Description}
		for _, ct := range r.Content {
			dr.Schema, dr.Link = typeOf(ct.Schema), componentOf(ct.Schema)
		}
		d.Responses = append(d.Responses, dr)
	}
	return d
}

// typeOf names a schema briefly: a component's name, or its type.
func typeOf(s oaSchema) string {
	var t string
	switch {
	case s.Ref != "":
		t = strings.TrimPrefix(s.Ref, "#/components/schemas/")
	case s.Type == "array" && s.Items != nil:
		t = "[" + typeOf(*s.Items) + "]"
	case len(s.Enum) > 0:
		t = strings.Join(s.Enum, " | ")
	case s.Format != "":
		t = s.Type + " (" + s.Format + ")"
	case s.Pattern != "":
		t = s.Type + " " + s.Pattern
	default:
		t = s.Type
	}
	if s.Nullable {
		t += " or null"
	}
	return t
}

// componentOf is the name of the component a schema refers to, or "".
func componentOf(s oaSchema) string { return strings.TrimPrefix(s.Ref, "#/components/schemas/") }
