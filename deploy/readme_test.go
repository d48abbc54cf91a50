package deploy_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// walkthroughs are the README sections whose first sh block a new user types,
// in this order, in one shell.
var walkthroughs = []string{
	"## Five minutes with curl",
	"### Users, roles and logins",
	"### Personal tokens: kiosks, Home Assistant cards, camera streams",
}

// expectStatus matches a command whose comment says which HTTP status it
// prints (curl -w '%{http_code}\n' … # → 403).
var expectStatus = regexp.MustCompile(`^(curl .*)\s+# → (\d{3})$`)

// TestREADME_Walkthrough runs the README's walkthroughs as written, against
// the built binary on a database of its own: the only change is the address
// (the README's 127.0.0.1:8080 becomes the test's) and the admin key, which a
// person pastes from make run's output. Every curl fails the walkthrough on an
// HTTP error unless its comment says which status to expect; those must print
// exactly that status.
func TestREADME_Walkthrough(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "jq", "make"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the README walkthrough needs %s: install it (apt-get install %s)", tool, tool)
		}
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	a := startAuthgate(t)
	var script strings.Builder
	script.WriteString("set -euo pipefail\ncurl() { command curl --fail-with-body \"$@\"; }\n")
	for _, heading := range walkthroughs {
		block, err := firstShellBlock(string(readme), heading)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range logicalLines(block) {
			line = strings.ReplaceAll(line, "http://127.0.0.1:8080", "http://"+a.addr)
			switch m := expectStatus.FindStringSubmatch(line); {
			case strings.HasPrefix(line, "ADMIN=agk_…"):
				continue // the key make run printed: the test's own
			case m != nil:
				script.WriteString("got=$(command " + m[1] + ")\n")
				script.WriteString(`[ "$got" = ` + m[2] + ` ] || { echo "want ` + m[2] + `, got $got: ` +
					strings.ReplaceAll(m[1], `"`, `'`) + `" >&2; exit 1; }` + "\n")
			default:
				script.WriteString(line + "\n")
			}
		}
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "-c", script.String())
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "ADMIN="+a.adminKey, "DATABASE_URL="+a.databaseURL, "AUTHGATE_SECRET="+a.secret)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("the README walkthrough failed (%v):\n%s\n--- script ---\n%s", err, out.String(), script.String())
	}
	for _, want := range []string{"X-Auth-Kind: api_key", "X-Auth-Kind: jwt", `"username":"bob"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the walkthrough's output lacks %q:\n%s", want, out.String())
		}
	}
}

// firstShellBlock returns the body of the first ```sh block after heading.
func firstShellBlock(doc, heading string) (string, error) {
	_, after, ok := strings.Cut(doc, "\n"+heading+"\n")
	if !ok {
		return "", fmt.Errorf("README.md has no heading %q", heading)
	}
	_, after, ok = strings.Cut(after, "```sh\n")
	if !ok {
		return "", fmt.Errorf("README.md has no sh block after %q", heading)
	}
	block, _, ok := strings.Cut(after, "```\n")
	if !ok {
		return "", fmt.Errorf("README.md: the sh block after %q does not end", heading)
	}
	return block, nil
}

// logicalLines joins lines continued with a trailing backslash.
func logicalLines(block string) []string {
	var out []string
	var cur strings.Builder
	for line := range strings.Lines(block) {
		line = strings.TrimRight(line, "\n")
		if strings.HasSuffix(line, `\`) {
			cur.WriteString(strings.TrimSuffix(line, `\`))
			continue
		}
		cur.WriteString(line)
		out = append(out, strings.TrimSpace(cur.String()))
		cur.Reset()
	}
	return out
}
