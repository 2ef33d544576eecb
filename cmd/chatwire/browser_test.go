package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chatwire/chatwire/lib/dbtest"
	"github.com/chatwire/chatwire/lib/localpg"
	"github.com/chatwire/chatwire/lib/nodetest"
)

// chromiumPath is Debian's Chromium (apt-get install chromium), which
// playwright-core drives: Playwright's own browser download cannot work on
// the CI machines.
const chromiumPath = "/usr/bin/chromium"

// TestBrowserDemo runs e2e/browser.test.mjs: two users in two browser
// contexts chat through the demo page of a real `chatwire dev`.
func TestBrowserDemo(t *testing.T) {
	requireBrowserTools(t)
	checkGoroutines(t)
	repo, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	// dev keeps .chatwire/ in its working directory, used at start only;
	// nodetest then needs the repository's to find e2e/.
	dir := t.TempDir()
	t.Chdir(dir)
	cmd := startCommand(t, browserDevEnv(t, dir), devArgs...)
	t.Chdir(repo)
	waitHealthy(t, newClient(t), cmd.addrs.App)

	nodetest.Run(t, "browser.test.mjs", 4*time.Minute,
		"APP_URL="+cmd.addrs.App,
		"CHROMIUM="+chromiumPath,
	)
	cmd.stopCleanly(t)
}

// browserDevEnv is dev's environment: none, so that dev starts its private
// Postgres (1 to 2 s), when a PostgreSQL install is found. Poll hands out an
// event only once every older transaction of the whole database cluster has
// ended, so on the shared test cluster another package's long transaction
// could hold back the poll the outage test times. Without an install, a
// database of the shared cluster.
func browserDevEnv(t *testing.T, dir string) map[string]string {
	t.Helper()
	if _, err := localpg.FindBinDir(); err != nil {
		t.Logf("no PostgreSQL install for a private server (%v); using the shared test cluster", err)
		return map[string]string{"DATABASE_URL": dbtest.NewDatabase(t)}
	}
	// As root, localpg runs Postgres as an unprivileged user, who must reach
	// .chatwire/postgres; t.TempDir's directories are private to us.
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return map[string]string{}
}

// requireBrowserTools skips the test, or fails it when CI is set, without
// Chromium or e2e's playwright-core.
func requireBrowserTools(t *testing.T) {
	t.Helper()
	missing := ""
	if _, err := os.Stat(chromiumPath); err != nil {
		missing = chromiumPath + " (apt-get install -y chromium)"
	} else if _, err := os.Stat(filepath.Join("..", "..", "e2e", "node_modules", "playwright-core")); err != nil {
		missing = "e2e/node_modules/playwright-core (npm ci --prefix e2e)"
	}
	if missing == "" {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("browser tests need %s", missing)
	}
	t.Skipf("browser tests need %s", missing)
}
