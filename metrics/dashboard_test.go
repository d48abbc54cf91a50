package metrics

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/authgate/authgate/db"
	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/verify"
)

// exportedNames returns every series name a fully watched Metrics exports.
func exportedNames(t *testing.T) map[string]bool {
	t.Helper()
	m := New()
	err := m.Watch(Sources{
		Cache:     func() verify.CacheStats { return verify.CacheStats{} },
		Pool:      func() db.PoolStats { return db.PoolStats{} },
		HashQueue: func() issue.HashQueue { return issue.HashQueue{} },
		DenyList:  func() DenyListStats { return DenyListStats{LastRead: time.Now()} },
		Listeners: map[string]Listener{"authgate_keys": fakeListener{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	families, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range families {
		names[f.GetName()] = true
		if f.GetType() == dto.MetricType_HISTOGRAM {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				names[f.GetName()+s] = true
			}
		}
	}
	return names
}

// TestDashboard_Metrics checks deploy/grafana/authgate.json against the
// registry: every metric its queries name is exported, and every authgate
// metric is on it.
func TestDashboard_Metrics(t *testing.T) {
	b, err := os.ReadFile("../deploy/grafana/authgate.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("dashboard is not JSON: %v", err)
	}
	exported := exportedNames(t)
	metricName := regexp.MustCompile(`\b(?:authgate|go|process)_[a-z0-9_]+\b`)
	used := map[string]bool{}
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			names := metricName.FindAllString(q.Expr, -1)
			if len(names) == 0 {
				t.Errorf("panel %q: query %q names no metric", p.Title, q.Expr)
			}
			for _, n := range names {
				used[n] = true
				if !exported[n] {
					t.Errorf("panel %q: %s is not a metric authgate exports", p.Title, n)
				}
			}
		}
	}
	for n := range exported {
		if strings.HasPrefix(n, "authgate_") && !used[n] && !used[n+"_bucket"] &&
			!strings.HasSuffix(n, "_sum") && !strings.HasSuffix(n, "_count") && !strings.HasSuffix(n, "_bucket") {
			t.Errorf("%s is on no panel of the dashboard", n)
		}
	}
}
