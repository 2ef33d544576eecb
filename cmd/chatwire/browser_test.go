package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chatwire/chatwire/lib/dbtest"
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
	// dev keeps .chatwire/secrets.env in its working directory, read at
	// start only; nodetest then needs the repository's to find e2e/.
	t.Chdir(t.TempDir())
	cmd := startCommand(t, map[string]string{"DATABASE_URL": dbtest.NewDatabase(t)}, devArgs...)
	t.Chdir(repo)
	waitHealthy(t, newClient(t), cmd.addrs.App)

	nodetest.Run(t, "browser.test.mjs", 4*time.Minute,
		"APP_URL="+cmd.addrs.App,
		"CHROMIUM="+chromiumPath,
	)
	cmd.stopCleanly(t)
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
