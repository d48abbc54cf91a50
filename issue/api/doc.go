// Package api is authgate's management REST API under /v1 over an
// issue.Service: the route table and what each route admits (routes.go), who
// the caller is (caller.go), one error shape (errors.go), and per noun a file
// with its handlers and the JSON types they answer with, built from the
// issue package's domain types (Key, User, Role, Session, PersonalToken, …).
//
// Statuses: 400 invalid_request for a bad body, query or field, naming it;
// 401 unauthenticated without a good credential, saying what the route wants;
// 403 forbidden for a credential without the permission (named), or one the
// management API does not admit (personal tokens, static keys); 404
// not_found, naming the missing thing where the client named it; 409
// conflict; 429 too_many_requests and 503 busy with Retry-After; anything
// else a 500 whose detail goes to the log. Every error answers ErrorBody.
//
// POST /v1/auth/oauth/login exchanges a native app's ID token from a
// configured OpenID provider for the tokens /v1/auth/login answers with; the
// API checks the token through an ExternalVerifier (SetExternal), which
// cmd/authgate builds over the providers, so that this package never imports
// the OpenID client. Provider access tokens are refused (exchange.go says why).
//
// openapi.json is the OpenAPI 3.0 document of every route, written by hand and
// served at GET /openapi.json, and as a page rendered from it at GET /docs
// (docs.go); TestOpenAPI_AgreesWithRoutes holds it to the route table, and
// the tests validate every answer they receive against it (package apitest).
//
// What a route may change is decided by the issue.Service's authority rule,
// whichever route asks; the route table says only who may ask.
package api
