package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chatwire/chatwire/lib/auth"
	"github.com/chatwire/chatwire/lib/dbtest"
	"github.com/chatwire/chatwire/lib/localpg"
)

var devArgs = []string{"dev", "--addr", "127.0.0.1:0", "--pusher-addr", "127.0.0.1:0"}

func TestDevWithDatabaseURL(t *testing.T) {
	checkGoroutines(t)
	t.Chdir(t.TempDir()) // .chatwire/ lands there
	env := map[string]string{"DATABASE_URL": dbtest.NewDatabase(t)}
	client := newClient(t)

	cmd := startCommand(t, env, devArgs...)
	banner := cmd.stdout.String()
	firstLine, _, _ := strings.Cut(banner, "\n")
	if got, want := firstLine, fmt.Sprintf("chatwire dev: listening app=%s pusher=%s", cmd.addrs.App, cmd.addrs.Pusher); got != want {
		t.Errorf("first line = %q, want %q", got, want)
	}
	if got, want := waitHealthy(t, client, cmd.addrs.App), (healthAnswer{OK: true, Database: "ok", Pusher: "ok"}); got != want {
		t.Errorf("health = %+v, want %+v", got, want)
	}
	token := bannerToken(t, banner, "TOKEN")
	bannerToken(t, banner, "BOB_TOKEN")
	bannerToken(t, banner, "CAROL_TOKEN") // every demo user has one
	pusherHost, pusherPort, _ := strings.Cut(cmd.addrs.Pusher, ":")
	for _, line := range []string{
		"CHATWIRE_URL=" + cmd.addrs.App,
		"CHATWIRE_PUSHER_WS_HOST=" + pusherHost,
		"CHATWIRE_PUSHER_WS_PORT=" + pusherPort,
		"CORS      " + devCORSOrigins,
	} {
		if !strings.Contains(banner, line) {
			t.Errorf("banner lacks %q:\n%s", line, banner)
		}
	}
	// A Next.js app on its default port calls the API with no CORS set up.
	preflight, err := http.NewRequest(http.MethodOptions, cmd.addrs.App+"/api/messages/send", nil)
	if err != nil {
		t.Fatal(err)
	}
	preflight.Header.Set("Origin", "http://localhost:3000")
	preflight.Header.Set("Access-Control-Request-Method", "POST")
	preflight.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
	res, err := client.Do(preflight)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got, want := res.Header.Get("Access-Control-Allow-Origin"), "http://localhost:3000"; got != want {
		t.Errorf("preflight from Next's default origin: Access-Control-Allow-Origin = %q, want %q", got, want)
	}
	if !strings.Contains(banner, "curl -s -X POST "+cmd.addrs.App+"/api/messages/send") {
		t.Errorf("banner lacks the curl line:\n%s", banner)
	}
	status, answer := sendMessage(t, client, cmd.addrs.App, token, "hello from dev")
	if got, want := status, http.StatusCreated; got != want {
		t.Fatalf("send status = %d, want %d: %v", got, want, answer)
	}
	if got, want := answer["published"], true; got != want {
		t.Errorf("published = %v, want %v", got, want)
	}
	// The relay runs beside the API: its probes and health are on /metrics
	// and /healthz.
	if metrics := getText(t, client, cmd.addrs.App+"/metrics"); !strings.Contains(metrics, "chatwire_relay_poll_duration_seconds_count") {
		t.Errorf("dev's /metrics lacks the relay's probes:\n%s", metrics)
	}
	if health := getText(t, client, cmd.addrs.App+"/healthz"); !strings.Contains(health, `"ok":true`) {
		t.Errorf("dev's /healthz = %s", health)
	}

	secrets := readSecretsFile(t)
	if !strings.Contains(banner, secrets["PUSHER_KEY"]) || !strings.Contains(banner, secrets["PUSHER_APP_ID"]) {
		t.Errorf("banner lacks the Pusher key or app id:\n%s", banner)
	}
	for _, name := range []string{"AUTH_JWT_SECRET", "PUSHER_SECRET", "DB_WEBHOOK_SECRET", "CRON_SECRET"} {
		if strings.Contains(cmd.stdout.String()+cmd.stderr.String(), secrets[name]) {
			t.Errorf("the output shows %s", name)
		}
	}
	cmd.stopCleanly(t)

	// A restart keeps the secrets, so the first run's token still works.
	again := startCommand(t, env, devArgs...)
	waitHealthy(t, client, again.addrs.App)
	if status, answer := sendMessage(t, client, again.addrs.App, token, "still me"); status != http.StatusCreated {
		t.Fatalf("send with the first run's token: status %d: %v", status, answer)
	}
	if got := readSecretsFile(t); fmt.Sprint(got) != fmt.Sprint(secrets) {
		t.Errorf("secrets changed across restarts")
	}
	again.stopCleanly(t)
}

func TestDevEnvironmentWinsOverGeneratedSecrets(t *testing.T) {
	checkGoroutines(t)
	t.Chdir(t.TempDir())
	env := map[string]string{
		"DATABASE_URL":    dbtest.NewDatabase(t),
		"AUTH_JWT_SECRET": testSecret,
		"PUSHER_APP_ID":   testPusherAppID,
		"PUSHER_KEY":      testPusherKey,
		"PUSHER_SECRET":   testPusherSecret,
	}
	cmd := startCommand(t, env, devArgs...)
	client := newClient(t)
	if got := waitHealthy(t, client, cmd.addrs.App); got.Pusher != "ok" {
		t.Errorf("health pusher = %q, want ok", got.Pusher)
	}
	banner := cmd.stdout.String()
	if !strings.Contains(banner, "app id "+testPusherAppID+", key "+testPusherKey) {
		t.Errorf("banner does not show the environment's Pusher app:\n%s", banner)
	}
	verifier, err := auth.NewVerifier(auth.Config{JWTSecret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	user, err := verifier.Verify(context.Background(), bannerToken(t, banner, "TOKEN"))
	if err != nil {
		t.Fatalf("the banner's token is not signed with the environment's AUTH_JWT_SECRET: %v", err)
	}
	if got, want := user.ID, "alice"; got != want {
		t.Errorf("token user = %q, want %q", got, want)
	}
	cmd.stopCleanly(t)
}

func TestDevFailsFastOnABadVariable(t *testing.T) {
	t.Chdir(t.TempDir())
	// No DATABASE_URL: the check must come before Postgres is started.
	err := run(context.Background(), append([]string{"chatwire"}, devArgs...),
		envFrom(map[string]string{"AUTH_JWT_SECRET": "short-secret-value"}), &strings.Builder{}, &strings.Builder{})
	if err == nil || !strings.Contains(err.Error(), "AUTH_JWT_SECRET") {
		t.Fatalf("err = %v, want one naming AUTH_JWT_SECRET", err)
	}
	if strings.Contains(err.Error(), "short-secret-value") {
		t.Errorf("error %q shows the secret", err)
	}
	if _, err := os.Stat(filepath.Join(devDir, "postgres")); err == nil {
		t.Error("Postgres was set up despite the bad variable")
	}
}

// TestDevWithPrivatePostgres is the whole no-account setup: initdb, pg_ctl,
// migrations, Pusher and the API. It takes a few seconds.
func TestDevWithPrivatePostgres(t *testing.T) {
	if _, err := localpg.FindBinDir(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	checkGoroutines(t)
	dir := t.TempDir()
	// As root, localpg runs Postgres as an unprivileged user, who must reach
	// .chatwire/postgres; t.TempDir's directories are private to us.
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)

	cmd := startCommand(t, map[string]string{}, devArgs...)
	if cmd.addrs.Postgres == "" {
		t.Fatal("no private Postgres reported")
	}
	client := newClient(t)
	if got, want := waitHealthy(t, client, cmd.addrs.App), (healthAnswer{OK: true, Database: "ok", Pusher: "ok"}); got != want {
		t.Errorf("health = %+v, want %+v", got, want)
	}
	status, answer := sendMessage(t, client, cmd.addrs.App, bannerToken(t, cmd.stdout.String(), "TOKEN"), "hello, private Postgres")
	if got, want := status, http.StatusCreated; got != want {
		t.Fatalf("send status = %d, want %d: %v", got, want, answer)
	}
	if !strings.Contains(cmd.stdout.String(), "private server in "+filepath.Join(dir, devDir, "postgres")) {
		t.Errorf("Postgres does not live under .chatwire/ of the working directory:\n%s", cmd.stdout)
	}
	cmd.stopCleanly(t) // includes: Postgres no longer listens
}

// bannerToken returns the token the banner exports as variable.
func bannerToken(t *testing.T, banner, variable string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^\s*export ` + variable + `=(\S+)`).FindStringSubmatch(banner)
	if m == nil {
		t.Fatalf("banner exports no %s:\n%s", variable, banner)
	}
	return m[1]
}

// readSecretsFile checks that .chatwire/secrets.env is private and complete.
func readSecretsFile(t *testing.T) map[string]string {
	t.Helper()
	path := filepath.Join(devDir, "secrets.env")
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := info.Mode().Perm(), os.FileMode(0o600); got != want {
		t.Errorf("%s mode = %v, want %v", path, got, want)
	}
	secrets, err := readEnvFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range devSecretNames() {
		if secrets[name] == "" {
			t.Errorf("%s lacks %s", path, name)
		}
	}
	if len(secrets["AUTH_JWT_SECRET"]) < auth.MinSecretBytes {
		t.Errorf("AUTH_JWT_SECRET has %d bytes, want at least %d", len(secrets["AUTH_JWT_SECRET"]), auth.MinSecretBytes)
	}
	return secrets
}
