package idp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// githubAPI reads a GitHub identity from its REST API at base
// (https://api.github.com) and checks an OAuth app's tokens there.
type githubAPI struct{ base string }

// githubHeaders are what GitHub asks every REST call to send.
func githubHeaders(r *http.Request) {
	r.Header.Set("Accept", "application/vnd.github+json")
	r.Header.Set("X-GitHub-Api-Version", "2022-11-28")
}

func (g githubAPI) identify(ctx context.Context, hc *http.Client, token string) (map[string]any, error) {
	auth := func(r *http.Request) { githubHeaders(r); bearer(token)(r) }
	var user, emails json.RawMessage
	if err := (call{what: "GitHub /user", url: g.base + "/user", set: auth}).do(ctx, hc, &user); err != nil {
		return nil, err
	}
	if err := (call{what: "GitHub /user/emails", url: g.base + "/user/emails", set: auth}).do(ctx, hc, &emails); err != nil {
		return nil, err
	}
	claims, err := githubUser(user)
	if err != nil {
		return nil, err
	}
	email, verified, err := githubPrimaryEmail(emails)
	if err != nil {
		return nil, err
	}
	if email != "" {
		claims["email"], claims["email_verified"] = email, verified
	}
	return claims, nil
}

// githubUser maps GET /user's answer to claims: sub is the numeric id in
// decimal (never the login, which its owner can change and someone else can
// then take), preferred_username the login, name the name; the answer's
// other fields are kept as they are. Its email is left out: it is the public
// profile email, of unknown verification (githubPrimaryEmail has the
// verified one). Returns ErrInvalid for an answer without a positive id or
// a login.
func githubUser(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var claims map[string]any
	if err := dec.Decode(&claims); err != nil {
		return nil, fmt.Errorf("%w: GitHub /user: %v", ErrInvalid, err)
	}
	n, _ := claims["id"].(json.Number)
	id, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil || id <= 0 {
		return nil, fmt.Errorf("%w: GitHub /user: id %q is not a positive integer", ErrInvalid, clean(string(n)))
	}
	login := str(claims["login"])
	if login == "" {
		return nil, fmt.Errorf("%w: GitHub /user: no login", ErrInvalid)
	}
	delete(claims, "email")
	claims["sub"] = strconv.FormatInt(id, 10)
	claims["preferred_username"] = login
	return claims, nil
}

// githubPrimaryEmail picks the primary address from GET /user/emails's
// answer, and whether GitHub says it is verified; "" when none is primary.
func githubPrimaryEmail(b []byte) (email string, verified bool, err error) {
	var list []struct {
		Email    string `json:"email"`
		Primary  bool   `json:"primary"`
		Verified bool   `json:"verified"`
	}
	if err := json.Unmarshal(b, &list); err != nil {
		return "", false, fmt.Errorf("%w: GitHub /user/emails: %v", ErrInvalid, err)
	}
	for _, e := range list {
		if e.Primary && e.Email != "" {
			return e.Email, e.Verified, nil
		}
	}
	return "", false, nil
}

// checkToken asks GitHub's "Check a token" whether token belongs to the
// OAuth app client_id (authenticated as it, with its secret): 200 with the
// token's user when it does; 404 when it is not a valid token of that app,
// 422 for a malformed one (ErrInvalid). A 401 means authgate's own
// credentials were refused: ErrUnavailable, for the operator to fix.
// Only client_id is asked: authgate holds no other app's secret.
func (g githubAPI) checkToken(ctx context.Context, hc *http.Client, p *provider, token string) (string, error) {
	if p.cfg.ClientSecret == "" {
		return "", &UnsupportedError{Provider: p.cfg.ID, Field: "access_token", Msg: p.cfg.ID + " has no client secret " +
			"configured, and GitHub checks an app's token only when asked with the app's client id and secret"}
	}
	body, _ := json.Marshal(map[string]string{"access_token": token})
	auth := func(r *http.Request) {
		githubHeaders(r)
		r.Header.Set("Content-Type", "application/json")
		r.SetBasicAuth(p.cfg.ClientID, p.cfg.ClientSecret)
	}
	var answer json.RawMessage
	err := (call{what: "GitHub check a token", method: http.MethodPost, body: body, set: auth,
		url:     g.base + "/applications/" + url.PathEscape(p.cfg.ClientID) + "/token",
		refused: []int{http.StatusNotFound, http.StatusUnprocessableEntity}}).do(ctx, hc, &answer)
	if err != nil {
		return "", err
	}
	return githubCheckedUser(answer, p.cfg.ClientID)
}

// githubCheckedUser reads "Check a token"'s answer: the id of the token's
// user, once the answer's app is clientID. Returns ErrInvalid otherwise.
func githubCheckedUser(b []byte, clientID string) (string, error) {
	var answer struct {
		App struct {
			ClientID string `json:"client_id"`
		} `json:"app"`
		User struct {
			ID json.Number `json:"id"`
		} `json:"user"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&answer); err != nil {
		return "", fmt.Errorf("%w: GitHub check a token: %v", ErrInvalid, err)
	}
	if answer.App.ClientID != clientID {
		return "", fmt.Errorf("%w: GitHub says the token is of app %q, not %s", ErrInvalid, clean(answer.App.ClientID), clientID)
	}
	id, err := strconv.ParseInt(string(answer.User.ID), 10, 64)
	if err != nil || id <= 0 {
		return "", fmt.Errorf("%w: GitHub check a token: user id %q is not a positive integer", ErrInvalid, clean(string(answer.User.ID)))
	}
	return strconv.FormatInt(id, 10), nil
}
