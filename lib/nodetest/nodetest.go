// Package nodetest runs the Node tests under e2e/ (node --test with the real
// pusher-js from npm) from Go tests, which start the servers they talk to.
package nodetest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Run runs `node --test e2e/<script>` with env added to the environment and
// fails tb with node's output when a Node test fails. Without node or
// `npm ci --prefix e2e` it skips, or fails when CI is set.
func Run(tb testing.TB, script string, timeout time.Duration, env ...string) {
	tb.Helper()
	dir, err := e2eDir()
	if err != nil {
		tb.Fatalf("nodetest: %v", err)
	}
	node, err := exec.LookPath("node")
	if _, statErr := os.Stat(filepath.Join(dir, "node_modules", "pusher-js")); err != nil || statErr != nil {
		msg := "node or e2e/node_modules/pusher-js missing; run npm ci --prefix e2e"
		if os.Getenv("CI") != "" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=spec", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		tb.Fatalf("node --test %s failed: %v\n%s", script, err, out)
	}
	tb.Logf("node --test %s:\n%s", script, out)
}

// e2eDir finds e2e/ beside the module's go.mod, from any package directory.
func e2eDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "e2e"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}
