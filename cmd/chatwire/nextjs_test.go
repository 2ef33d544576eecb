package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/chatwire/chatwire/lib/nodetest"
)

// exampleDir is examples/nextjs, seen from this package.
var exampleDir = filepath.Join("..", "..", "examples", "nextjs")

// TestNextjsExample runs e2e/nextjs.test.mjs: two users drive the example
// Next.js app (next build, then next start) in Chromium against a real
// `chatwire dev`. It is the CI step "examples/nextjs" of .ci/run, which
// builds the app first; `go test ./...` skips it so that it runs once.
func TestNextjsExample(t *testing.T) {
	if os.Getenv("CHATWIRE_NEXTJS_EXAMPLE") == "" {
		t.Skip("set CHATWIRE_NEXTJS_EXAMPLE=1 after `npm ci --prefix examples/nextjs && npm run build --prefix examples/nextjs` (the CI step does)")
	}
	requireBrowserTools(t)
	requireExampleBuild(t)
	repo, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	appURL := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))

	dir := t.TempDir()
	t.Chdir(dir)
	env := browserDevEnv(t, dir)
	for name, value := range map[string]string{
		"AUTH_JWT_SECRET":      testSecret,
		"PUSHER_APP_ID":        testPusherAppID,
		"PUSHER_KEY":           testPusherKey,
		"PUSHER_SECRET":        testPusherSecret,
		"CORS_ALLOWED_ORIGINS": appURL,
	} {
		env[name] = value
	}
	cmd := startCommand(t, env, devArgs...)
	t.Chdir(repo)
	client := newClient(t)
	waitHealthy(t, client, cmd.addrs.App)

	pusherHost, pusherPort, err := net.SplitHostPort(cmd.addrs.Pusher)
	if err != nil {
		t.Fatal(err)
	}
	startNext(t, client, appURL,
		"CHATWIRE_URL="+cmd.addrs.App,
		"CHATWIRE_PUSHER_KEY="+testPusherKey,
		"CHATWIRE_PUSHER_WS_HOST="+pusherHost,
		"CHATWIRE_PUSHER_WS_PORT="+pusherPort,
		"AUTH_JWT_SECRET="+testSecret,
	)
	nodetest.Run(t, "nextjs.test.mjs", 4*time.Minute,
		"APP_URL="+appURL,
		"API_URL="+cmd.addrs.App,
		"PUSHER_HOST="+cmd.addrs.Pusher,
		"CHROMIUM="+chromiumPath,
	)
	cmd.stopCleanly(t)
}

// requireExampleBuild fails the test without the example's `next build`
// output (the CI step builds it; a local run may have forgotten).
func requireExampleBuild(t *testing.T) {
	t.Helper()
	for _, path := range []string{
		filepath.Join(exampleDir, "node_modules", ".bin", "next"),
		filepath.Join(exampleDir, ".next", "BUILD_ID"),
	} {
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("%s missing: run npm ci --prefix examples/nextjs && npm run build --prefix examples/nextjs", path)
		}
	}
}

// startNext runs `next start` on appURL's port with env added, and waits
// until it answers. It is stopped (with its process group) when the test ends.
func startNext(t *testing.T, client *http.Client, appURL string, env ...string) {
	t.Helper()
	_, port, err := net.SplitHostPort(appURL[len("http://"):])
	if err != nil {
		t.Fatal(err)
	}
	next := exec.Command(filepath.Join("node_modules", ".bin", "next"), "start", "--hostname", "127.0.0.1", "--port", port)
	next.Dir = exampleDir
	next.Env = append(os.Environ(), append(env, "NEXT_TELEMETRY_DISABLED=1", "NODE_ENV=production")...)
	var output syncBuffer
	next.Stdout, next.Stderr = &output, &output
	next.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := next.Start(); err != nil {
		t.Fatalf("next start: %v", err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-next.Process.Pid, syscall.SIGTERM)
		_ = next.Wait()
		t.Logf("next start:\n%s", output.String())
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := client.Get(appURL + "/")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("next start did not answer 200 at %s within 60 s (last: %v)\n%s", appURL, err, output.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// freePort returns a loopback port nothing listens on right now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
