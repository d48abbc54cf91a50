package deploy_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// proxy knows how to run one shipped configuration: which files to copy, what
// to change in them (only addresses, ports and paths), and the command line.
type proxy struct {
	name string
	// configure writes the templated configuration into dir and returns the
	// arguments and extra environment to run the proxy with.
	configure func(t *testing.T, dir string, addrs addresses) (args, env []string)
}

// addresses are what the test puts in place of the shipped ones.
type addresses struct {
	listen   string // where the proxy listens (host:port)
	authgate string
	upstream string
	portal   string    // the authgate serving the portal host; "" means authgate
	tls      *testCert // serve https with this certificate instead of plain http
}

var proxies = []proxy{
	{name: "nginx", configure: configureNginx},
	{name: "traefik", configure: configureTraefik},
	{name: "caddy", configure: configureCaddy},
}

func configureNginx(t *testing.T, dir string, a addresses) (args, env []string) {
	snippets, _ := filepath.Glob("nginx/authgate-*.conf")
	for _, f := range snippets {
		copyFile(t, f, filepath.Join(dir, filepath.Base(f)))
	}
	listen, certs := "listen "+a.listen+";", ""
	if a.tls != nil {
		listen = "listen " + a.listen + " ssl;"
		certs = "\n    ssl_certificate " + a.tls.certFile + ";\n    ssl_certificate_key " + a.tls.keyFile + ";"
	}
	oldnew := []string{
		"listen 80;", listen,
		"server authgate:8080;", "server " + a.authgate + ";",
		"server app:80;", "server " + a.upstream + ";",
		// Temporary files under the test's directory rather than the system's.
		"http {", "http {\n    client_body_temp_path tmp/body;\n    proxy_temp_path tmp/proxy;\n" +
			"    fastcgi_temp_path tmp/fastcgi;\n    uwsgi_temp_path tmp/uwsgi;\n    scgi_temp_path tmp/scgi;" + certs,
	}
	if a.portal != "" {
		oldnew = append(oldnew, "proxy_pass http://authgate;", "proxy_pass http://"+a.portal+";")
	}
	template(t, "nginx/nginx.conf", filepath.Join(dir, "nginx.conf"), oldnew...)
	os.MkdirAll(filepath.Join(dir, "tmp"), 0o755)
	return []string{"-p", dir + "/", "-e", "stderr", "-c", filepath.Join(dir, "nginx.conf"),
		"-g", "daemon off; pid " + filepath.Join(dir, "nginx.pid") + ";"}, nil
}

func configureTraefik(t *testing.T, dir string, a addresses) (args, env []string) {
	static := []string{
		`address: ":80"`, `address: "` + a.listen + `"`,
		"/etc/traefik/dynamic.yml", filepath.Join(dir, "dynamic.yml"),
	}
	dynamic := []string{
		"http://authgate:8080/forward-auth", "http://" + a.authgate + "/forward-auth",
		"http://app:80", "http://" + a.upstream,
	}
	portal := a.portal
	if portal == "" {
		portal = a.authgate
	}
	dynamic = append(dynamic, `url: "http://authgate:8080"`, `url: "http://`+portal+`"`)
	if a.tls != nil {
		// TLS on the entry point for every router, with the test's certificate as the default.
		static = append(static, "      encodedCharacters:", "      tls: {}\n      encodedCharacters:")
		dynamic = append(dynamic, "\nhttp:\n", "\ntls:\n  stores:\n    default:\n      defaultCertificate:\n"+
			"        certFile: "+a.tls.certFile+"\n        keyFile: "+a.tls.keyFile+"\n\nhttp:\n")
	}
	template(t, "traefik/traefik.yml", filepath.Join(dir, "traefik.yml"), static...)
	template(t, "traefik/dynamic.yml", filepath.Join(dir, "dynamic.yml"), dynamic...)
	return []string{"--configFile=" + filepath.Join(dir, "traefik.yml")}, nil
}

func configureCaddy(t *testing.T, dir string, a addresses) (args, env []string) {
	// A site address alone listens on every interface; bind keeps it on loopback.
	site := "\nhttp://" + a.listen + " {\n\tbind 127.0.0.1"
	if a.tls != nil {
		// No host in the address: the site answers every host name on the port.
		_, port, _ := strings.Cut(a.listen, ":")
		site = "\nhttps://:" + port + " {\n\tbind 127.0.0.1\n\ttls " + a.tls.certFile + " " + a.tls.keyFile
	}
	portal := a.portal
	if portal == "" {
		portal = a.authgate
	}
	template(t, "caddy/Caddyfile", filepath.Join(dir, "Caddyfile"),
		"\n:80 {", site,
		"forward_auth authgate:8080", "forward_auth "+a.authgate,
		"reverse_proxy authgate:8080", "reverse_proxy "+portal,
		"reverse_proxy app:80", "reverse_proxy "+a.upstream,
	)
	// Caddy keeps state under XDG dirs; keep it in the test's directory.
	return []string{"run", "--config", filepath.Join(dir, "Caddyfile"), "--adapter", "caddyfile"},
		[]string{"XDG_DATA_HOME=" + dir, "XDG_CONFIG_HOME=" + dir}
}

// template copies src to dst, replacing each old with its new, and fails if
// an old string is not in src: the shipped file must stay what the test runs.
func template(t *testing.T, src, dst string, oldnew ...string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for i := 0; i < len(oldnew); i += 2 {
		if !strings.Contains(s, oldnew[i]) {
			t.Fatalf("%s no longer contains %q; update the test's templating", src, oldnew[i])
		}
		s = strings.ReplaceAll(s, oldnew[i], oldnew[i+1])
	}
	if err := os.WriteFile(dst, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	template(t, src, dst)
}

// proxyBinary finds the installed proxy with scripts/proxies.sh, which knows
// the pinned versions. A missing proxy fails the test under CI=true and skips
// it elsewhere, saying how to install it.
func proxyBinary(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("../scripts/proxies.sh", "paths").Output()
	if err != nil {
		t.Fatalf("scripts/proxies.sh paths: %v", err)
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if n, p, ok := strings.Cut(sc.Text(), "="); ok && n == name && p != "" {
			return p
		}
	}
	skipOrFail(t, fmt.Sprintf("%s is not installed; run: scripts/proxies.sh ensure %s (make test does)", name, name))
	return ""
}
