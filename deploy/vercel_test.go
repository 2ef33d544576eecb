// Package deploy_test runs Vercel's own build of chatwire and drives the
// functions it produced. See TestVercelBuild.
package deploy_test

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chatwire/chatwire/lib/auth"
	"github.com/chatwire/chatwire/lib/dbtest"
	"github.com/chatwire/chatwire/lib/httpapi"
	"github.com/chatwire/chatwire/lib/pusherlocal"
	"github.com/chatwire/chatwire/lib/storagetest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// switchVar turns the test on. It builds 17 functions with the real CLI
// (about a minute of both cores), so it runs once per CI, in its own step of
// .ci/run, not in every `go test ./...`.
const switchVar = "CHATWIRE_VERCEL_BUILD"

// bridgeModule is the module the builder's generated main imports; the
// project's stand-in lives in deploy/go-bridge.
const bridgeModule = "github.com/vercel/go-bridge"

const (
	jwtSecret       = "vercel-build-test-jwt-secret-0123456789"
	pusherAppID     = "4242"
	pusherKey       = "vercel-test-key"
	pusherSecret    = "vercel-test-pusher-secret"
	cronSecret      = "vercel-test-cron-secret"
	dbWebhookSecret = "vercel-test-db-webhook-secret"
)

// TestVercelBuild runs `vercel build --prod` (the CLI pinned in
// deploy/vercel/package-lock.json, which bundles @vercel/go) offline over a
// copy of the repository, as DEPLOY.md says, then checks what it uploaded,
// built and would serve, and starts every built bootstrap against a Lambda
// Runtime API emulator to drive real flows against Postgres.
func TestVercelBuild(t *testing.T) {
	if os.Getenv(switchVar) == "" {
		t.Skipf("the real Vercel build runs in its own CI step; set %s=1 to run it here", switchVar)
	}
	started := time.Now()
	defer func() { t.Logf("the Vercel build test took %v", time.Since(started).Round(time.Second)) }()

	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	requireGoOfGoMod(t, root)
	vercel := installCLI(t, root)

	work := t.TempDir()
	repo := filepath.Join(work, "repo")
	copied := copyRepository(t, root, repo)
	planted := plantSecrets(t, repo)
	writeProjectJSON(t, repo)
	proxy := bridgeProxy(t, root, filepath.Join(work, "goproxy"))

	log := runVercelBuild(t, vercel, repo, proxy, filepath.Join(work, "tmp"))

	t.Run("offline", func(t *testing.T) {
		// The CLI's debug log shows each request it makes as "#N → METHOD url".
		request := regexp.MustCompile(`#\d+ → [A-Z]+ `)
		for _, line := range strings.Split(log, "\n") {
			if request.MatchString(line) {
				t.Errorf("the CLI made a request: %s", line)
			}
		}
	})
	t.Run("go toolchain", func(t *testing.T) {
		if strings.Contains(log, "Downloading go") {
			t.Error("the builder downloaded Go: the Go on PATH is not the one go.mod names")
		}
	})
	t.Run("go.mod and go.sum", func(t *testing.T) { checkModuleFiles(t, root, repo) })
	t.Run("uploaded files", func(t *testing.T) { checkUploaded(t, root, repo, log, copied, planted) })
	t.Run("static output", func(t *testing.T) { checkStatic(t, root, repo) })

	functions := builtFunctions(t, repo)
	t.Run("function configs", func(t *testing.T) { checkFunctionConfigs(t, root, functions) })
	t.Run("flows", func(t *testing.T) { driveFlows(t, repo, functions) })
}

// requireGoOfGoMod fails unless the go on PATH is exactly the version that
// go.mod's toolchain (else go) line names: the builder uses the Go on PATH
// only then, and downloads that version otherwise, which fails offline.
func requireGoOfGoMod(t *testing.T, root string) {
	t.Helper()
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	want := ""
	if m := regexp.MustCompile(`(?m)^go\s+(\S+)`).FindSubmatch(mod); m != nil {
		want = "go" + string(m[1])
	}
	if m := regexp.MustCompile(`(?m)^toolchain\s+(\S+)`).FindSubmatch(mod); m != nil {
		want = string(m[1])
	}
	out, err := exec.Command("go", "env", "GOVERSION").Output()
	if err != nil {
		t.Fatalf("go env GOVERSION: %v", err)
	}
	if got := strings.TrimSpace(string(out)); got != want {
		t.Fatalf("the go on PATH is %s but go.mod asks for %s: Vercel's builder would download %s, which fails offline; put %s on PATH",
			got, want, want, want)
	}
}

// cacheDir holds the installed CLI and npm's cache between runs.
func cacheDir(t *testing.T) string {
	dir := os.Getenv("CHATWIRE_VERCEL_CACHE")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "chatwire-vercel-cache")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// installCLI installs deploy/vercel's locked packages with `npm ci` into the
// cache (outside the repository, whose ./... would otherwise take the Go
// files inside node_modules for packages), unless the same lock is already
// installed there, and returns the vercel command.
func installCLI(t *testing.T, root string) string {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not on PATH: the Vercel build test needs Node.js and npm", tool)
		}
	}
	cache := cacheDir(t)
	dir := filepath.Join(cache, "cli")
	lock, err := os.ReadFile(filepath.Join(root, "deploy", "vercel", "package-lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	vercel := filepath.Join(dir, "node_modules", ".bin", "vercel")
	if installed, err := os.ReadFile(filepath.Join(dir, "package-lock.json")); err == nil && bytes.Equal(installed, lock) {
		if _, err := os.Stat(vercel); err == nil {
			return vercel
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"package.json", "package-lock.json"} {
		copyFile(t, filepath.Join(root, "deploy", "vercel", name), filepath.Join(dir, name))
	}
	cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--cache", filepath.Join(cache, "npm"))
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
	}
	return vercel
}

// copyRepository copies the files git knows (tracked, or new and not
// ignored) and returns their paths relative to the repository.
func copyRepository(t *testing.T, root, dst string) []string {
	t.Helper()
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	var files []string
	for _, rel := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		src := filepath.Join(root, rel)
		if info, err := os.Lstat(src); err != nil || !info.Mode().IsRegular() {
			continue // deleted in the working tree, or a symlink
		}
		copyFile(t, src, filepath.Join(dst, rel))
		files = append(files, filepath.ToSlash(rel))
	}
	return files
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, info.Mode().Perm()); err != nil {
		t.Fatal(err)
	}
}

// plantSecrets writes the local files a developer's working tree may hold
// and that must never be uploaded: `chatwire dev`'s secrets and env files.
func plantSecrets(t *testing.T, repo string) []string {
	t.Helper()
	planted := []string{".chatwire/secrets.env", ".env", ".env.production.local", "lib/local.env"}
	for _, rel := range planted {
		p := filepath.Join(repo, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("AUTH_JWT_SECRET=planted-secret-must-not-ship\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return planted
}

// writeProjectJSON links the copy to a project, as `vercel link` would, with
// the settings DEPLOY.md gives (framework preset Other), so the build asks
// Vercel's API nothing.
func writeProjectJSON(t *testing.T, repo string) {
	t.Helper()
	dir := filepath.Join(repo, ".vercel")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	project := `{"projectId":"prj_chatwire_ci","orgId":"team_chatwire_ci","settings":{"framework":null}}`
	if err := os.WriteFile(filepath.Join(dir, "project.json"), []byte(project), 0o644); err != nil {
		t.Fatal(err)
	}
}

// bridgeProxy lays out a file GOPROXY serving deploy/go-bridge as the module
// github.com/vercel/go-bridge. The version carries a hash of the sources, so
// a changed bridge is never taken from the module cache in its old form.
func bridgeProxy(t *testing.T, root, dir string) string {
	t.Helper()
	src := filepath.Join(root, "deploy", "go-bridge")
	files := map[string][]byte{"go.mod": []byte("module " + bridgeModule + "\n\ngo 1.22\n")}
	sum := sha256.New()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files[filepath.ToSlash(rel)] = data
		fmt.Fprintf(sum, "%s\x00%d\x00", rel, len(data))
		sum.Write(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := files["go/bridge/bridge.go"]; !ok {
		t.Fatal("deploy/go-bridge/go/bridge/bridge.go is missing")
	}
	version := "v0.0.1-chatwire.h" + hex.EncodeToString(sum.Sum(nil))[:12]

	at := filepath.Join(dir, filepath.FromSlash(bridgeModule), "@v")
	if err := os.MkdirAll(at, 0o755); err != nil {
		t.Fatal(err)
	}
	var zipped bytes.Buffer
	zw := zip.NewWriter(&zipped)
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		w, err := zw.Create(bridgeModule + "@" + version + "/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(files[name]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"list":            []byte(version + "\n"),
		version + ".info": fmt.Appendf(nil, `{"Version":%q,"Time":"2026-01-01T00:00:00Z"}`, version),
		version + ".mod":  files["go.mod"],
		version + ".zip":  zipped.Bytes(),
	} {
		if err := os.WriteFile(filepath.Join(at, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// runVercelBuild runs the CLI in the copy and returns its debug log. Only
// the stand-in bridge comes from the file proxy, and only its path skips
// the checksum database; every other module is the one go.sum pins.
func runVercelBuild(t *testing.T, vercel, repo, proxy, tmp string) string {
	t.Helper()
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	goproxy := "file://" + filepath.ToSlash(proxy)
	if out, err := exec.Command("go", "env", "GOPROXY").Output(); err == nil {
		if upstream := strings.TrimSpace(string(out)); upstream != "" && upstream != "off" {
			goproxy += "," + upstream
		}
	}
	nosumdb := bridgeModule
	if v := os.Getenv("GONOSUMDB"); v != "" {
		nosumdb += "," + v
	}
	// A CLI configuration of the test's own: no developer's login is used,
	// and a user id already known spares the CLI asking Vercel's API for one.
	global := filepath.Join(tmp, "vercel-global-config")
	if err := os.MkdirAll(global, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{
		"auth.json":   `{"userId":"chatwire-ci"}`,
		"config.json": `{"telemetry":{"enabled":false}}`,
	} {
		if err := os.WriteFile(filepath.Join(global, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, vercel, "build", "--prod", "--yes", "--debug", "--global-config", global)
	cmd.Dir = repo
	cmd.Env = append(os.Environ(),
		"GOPROXY="+goproxy,
		"GONOSUMDB="+nosumdb,
		"VERCEL_TELEMETRY_DISABLED=1",
		"NO_UPDATE_NOTIFIER=1",
		// The builder puts each bootstrap in a directory of its own under
		// the temporary directory: keep them in the test's.
		"TMPDIR="+tmp,
	)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("vercel build took %v", time.Since(start).Round(time.Second))
	if err != nil {
		t.Fatalf("vercel build: %v\n%s", err, tail(string(out), 80))
	}
	return string(out)
}

func tail(s string, lines int) string {
	all := strings.Split(s, "\n")
	return strings.Join(all[max(0, len(all)-lines):], "\n")
}

// checkModuleFiles: the builder restores go.mod, and changes go.sum only by
// the lines of the bridge that its generated main imports (it runs
// `go mod tidy` with that import). DEPLOY.md says why.
func checkModuleFiles(t *testing.T, root, repo string) {
	read := func(dir, name string) []byte {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	if !bytes.Equal(read(root, "go.mod"), read(repo, "go.mod")) {
		t.Errorf("vercel build left go.mod changed:\n%s", read(repo, "go.mod"))
	}
	before := lineSet(read(root, "go.sum"))
	after := lineSet(read(repo, "go.sum"))
	for line := range before {
		if !after[line] {
			t.Errorf("vercel build removed a go.sum line: %s", line)
		}
	}
	added := 0
	for line := range after {
		if before[line] {
			continue
		}
		if !strings.HasPrefix(line, bridgeModule+" ") {
			t.Errorf("vercel build added a go.sum line for another module than the bridge: %s", line)
		}
		added++
	}
	if added != 2 {
		t.Errorf("vercel build added %d go.sum lines, want the bridge's 2 (h1: of the module and of its go.mod)", added)
	}
}

func lineSet(data []byte) map[string]bool {
	set := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			set[line] = true
		}
	}
	return set
}

// checkUploaded reads, from the CLI's debug log, which paths .vercelignore
// kept out of the files the build sees (the same rules decide what
// `vercel deploy` uploads), and checks that only what the functions are
// built from, vercel.json and public/ remain, that every package the
// functions import is among them, and that no planted secret is.
func checkUploaded(t *testing.T, root, repo, log string, copied, planted []string) {
	ignored := map[string]bool{}
	prefix := "Ignoring " + repo + string(filepath.Separator)
	for _, line := range strings.Split(log, "\n") {
		if i := strings.Index(line, prefix); i >= 0 {
			ignored[filepath.ToSlash(strings.TrimSpace(line[i+len(prefix):]))] = true
		}
	}
	if len(ignored) == 0 {
		t.Fatal("the build log lists no ignored path: did the CLI's debug output change?")
	}
	isIgnored := func(rel string) bool {
		for p := rel; p != "."; p = path.Dir(p) {
			if ignored[p] {
				return true
			}
		}
		return false
	}
	uploaded := map[string]bool{}
	for _, rel := range append(slices.Clone(copied), planted...) {
		if !isIgnored(rel) {
			uploaded[rel] = true
		}
	}
	allowed := regexp.MustCompile(`^(go\.mod|go\.sum|vercel\.json|public/.+|(api|lib|schema)/.+\.(go|sql))$`)
	for rel := range uploaded {
		if !allowed.MatchString(rel) || strings.HasSuffix(rel, "_test.go") {
			t.Errorf("%s would be uploaded: .vercelignore must keep it out", rel)
		}
	}
	for _, rel := range planted {
		if uploaded[rel] {
			t.Errorf("the planted secret file %s would be uploaded", rel)
		}
	}
	cmd := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.Dir}}{{end}}", "./api/...")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dirs := map[string]bool{}
	for rel := range uploaded {
		dirs[path.Dir(rel)] = true
	}
	for _, dir := range strings.Fields(string(out)) {
		rel, err := filepath.Rel(root, dir)
		if err != nil || strings.HasPrefix(rel, "..") {
			continue // a module dependency, fetched by the builder
		}
		if !dirs[filepath.ToSlash(rel)] {
			t.Errorf("the functions import %s, but .vercelignore keeps it from being uploaded", rel)
		}
	}
}

// checkStatic: the static output is exactly public/, and holds no source,
// schema, dotfile, env file or doc.
func checkStatic(t *testing.T, root, repo string) {
	static := filepath.Join(repo, ".vercel", "output", "static")
	served := map[string]bool{}
	err := filepath.WalkDir(static, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(static, p)
		served[filepath.ToSlash(rel)] = true
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	forbidden := regexp.MustCompile(`(^|/)\.|\.(go|sql|md|mod|sum|env|sh|ts|mjs)$|(^|/)(go\.mod|go\.sum|vercel\.json|package(-lock)?\.json)$`)
	for rel := range served {
		if forbidden.MatchString(rel) {
			t.Errorf("the static output serves %s", rel)
		}
		if _, err := os.Stat(filepath.Join(root, "public", filepath.FromSlash(rel))); err != nil {
			t.Errorf("the static output serves %s, which is not in public/", rel)
		}
	}
	err = filepath.WalkDir(filepath.Join(root, "public"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(filepath.Join(root, "public"), p)
		if !served[filepath.ToSlash(rel)] {
			t.Errorf("public/%s is not in the static output", rel)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// builtFunction is one function of the build output.
type builtFunction struct {
	file   string // the source, e.g. api/messages/send.go
	path   string // the URL path
	dir    string // its .func directory
	config struct {
		Handler     string            `json:"handler"`
		Runtime     string            `json:"runtime"`
		Memory      int               `json:"memory"`
		MaxDuration int               `json:"maxDuration"`
		Environment map[string]string `json:"environment"`
		FilePathMap map[string]string `json:"filePathMap"`
	}
	bootstrap string
}

func builtFunctions(t *testing.T, repo string) map[string]*builtFunction {
	t.Helper()
	out := filepath.Join(repo, ".vercel", "output", "functions")
	functions := map[string]*builtFunction{}
	err := filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() || !strings.HasSuffix(p, ".func") {
			return err
		}
		rel, err := filepath.Rel(out, p)
		if err != nil {
			return err
		}
		urlPath := "/" + strings.TrimSuffix(filepath.ToSlash(rel), ".func")
		f := &builtFunction{file: strings.TrimPrefix(urlPath, "/") + ".go", path: urlPath, dir: p}
		raw, err := os.ReadFile(filepath.Join(p, ".vc-config.json"))
		if err != nil {
			return err
		}
		if err := json.Unmarshal(raw, &f.config); err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		// The CLI leaves the binary where the builder wrote it and maps it
		// in, relative to the project.
		f.bootstrap = filepath.Join(p, f.config.Handler)
		if mapped, ok := f.config.FilePathMap[f.config.Handler]; ok {
			f.bootstrap = filepath.Join(repo, filepath.FromSlash(mapped))
		}
		functions[urlPath] = f
		return filepath.SkipDir
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(functions) == 0 {
		t.Fatal("the build output has no function")
	}
	return functions
}

// checkFunctionConfigs: every route is one function, none is extra, and
// each got its limits from its vercel.json pattern, above its handler's own
// deadline.
func checkFunctionConfigs(t *testing.T, root string, functions map[string]*builtFunction) {
	raw, err := os.ReadFile(filepath.Join(root, "vercel.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Functions map[string]struct {
			MaxDuration int `json:"maxDuration"`
			Memory      int `json:"memory"`
		} `json:"functions"`
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	routes := map[string]*httpapi.Route{}
	for _, r := range httpapi.Routes() {
		routes[r.FunctionPath()] = r
		if functions[r.FunctionPath()] == nil {
			t.Errorf("route %s was not built into a function", r.Path)
		}
	}
	for p, f := range functions {
		route := routes[p]
		if route == nil {
			t.Errorf("function %s serves no route of httpapi.Routes()", p)
			continue
		}
		if f.config.Handler != "bootstrap" || f.config.Runtime != "provided.al2023" {
			t.Errorf("%s: handler %q runtime %q, want bootstrap on provided.al2023", p, f.config.Handler, f.config.Runtime)
		}
		var patterns []string
		for pattern, limits := range cfg.Functions {
			if ok, _ := path.Match(pattern, f.file); !ok {
				continue
			}
			patterns = append(patterns, pattern)
			if f.config.MaxDuration != limits.MaxDuration || f.config.Memory != limits.Memory {
				t.Errorf("%s: built with maxDuration %d memory %d, vercel.json's %s says %d and %d",
					p, f.config.MaxDuration, f.config.Memory, pattern, limits.MaxDuration, limits.Memory)
			}
		}
		if len(patterns) != 1 {
			t.Errorf("%s matches vercel.json patterns %v, want exactly one", f.file, patterns)
		}
		deadline := httpapi.DefaultTimeout
		if route.Timeout > 0 {
			deadline = route.Timeout
		}
		if limit := time.Duration(f.config.MaxDuration) * time.Second; limit <= deadline {
			t.Errorf("%s: maxDuration %v is not above the handler's deadline %v", p, limit, deadline)
		}
	}
}

// driveFlows starts every function with the environment a project would
// set, against a migrated database and a local Pusher-protocol server, and
// drives real requests through the built binaries.
func driveFlows(t *testing.T, repo string, built map[string]*builtFunction) {
	pool, dbURL := dbtest.NewPool(t)
	pusher, err := pusherlocal.New(pusherlocal.Config{AppID: pusherAppID, Key: pusherKey, Secret: pusherSecret})
	if err != nil {
		t.Fatal(err)
	}
	if err := pusher.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pusher.Close() })
	env := []string{
		"DATABASE_URL=" + dbURL,
		"AUTH_JWT_SECRET=" + jwtSecret,
		"PUSHER_APP_ID=" + pusherAppID,
		"PUSHER_KEY=" + pusherKey,
		"PUSHER_SECRET=" + pusherSecret,
		"PUSHER_HOST=" + pusher.Addr(),
		"PUSHER_USE_TLS=false",
		"CRON_SECRET=" + cronSecret,
		"DB_WEBHOOK_SECRET=" + dbWebhookSecret,
	}
	files := storagetest.Start(t)
	env = append(env, "STORAGE_ENDPOINT="+files.Endpoint, "STORAGE_REGION="+files.Region, "STORAGE_BUCKET="+files.Bucket,
		"STORAGE_ACCESS_KEY_ID="+files.AccessKeyID, "STORAGE_SECRET_ACCESS_KEY="+files.SecretAccessKey, "STORAGE_FORCE_PATH_STYLE=true")
	fns := map[string]*function{}
	for p, b := range built {
		projectEnv := slices.Clone(env)
		for k, v := range b.config.Environment {
			projectEnv = append(projectEnv, k+"="+v)
		}
		fns[p] = startFunction(t, p, b.bootstrap, b.dir, time.Duration(b.config.MaxDuration)*time.Second, b.config.Memory, projectEnv)
	}
	fn := func(p string) *function {
		t.Helper()
		f := fns[p]
		if f == nil {
			t.Fatalf("no function for %s", p)
		}
		return f
	}
	bearer := func(user string) http.Header {
		tok, err := auth.SignHS256(jwtSecret, auth.User{ID: user, Name: strings.ToUpper(user[:1]) + user[1:]}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return http.Header{"Authorization": {"Bearer " + tok}}
	}
	jsonBody := func(h http.Header, v any) (http.Header, []byte) {
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		h = h.Clone()
		h.Set("Content-Type", "application/json")
		return h, raw
	}

	t.Run("health", func(t *testing.T) {
		res := fn("/api/health").call(t, http.MethodGet, "/api/health", nil, nil)
		got := res.json(t)
		if res.status != http.StatusOK || got["ok"] != true || got["database"] != "ok" || got["schema"] != "ok" || got["pusher"] != "ok" {
			t.Errorf("health = %d %s, want 200 with database, schema and pusher ok", res.status, res.body)
		}
	})

	t.Run("send then history", func(t *testing.T) {
		h, body := jsonBody(bearer("alice"), map[string]any{"to": "bob", "body": "hello through the built function", "client_id": "vercel-1"})
		sent := fn("/api/messages/send").call(t, http.MethodPost, "/api/messages/send", h, body)
		if sent.status != http.StatusCreated || sent.json(t)["published"] != true {
			t.Fatalf("send = %d %s, want 201 published", sent.status, sent.body)
		}
		id := sent.json(t)["message"].(map[string]any)["id"]
		retry := fn("/api/messages/send").call(t, http.MethodPost, "/api/messages/send", h, body)
		if retry.status != http.StatusOK || retry.json(t)["message"].(map[string]any)["id"] != id {
			t.Errorf("retry = %d %s, want 200 with message %v", retry.status, retry.body, id)
		}
		hist := fn("/api/messages/history").call(t, http.MethodGet, "/api/messages/history?with=alice&limit=10", bearer("bob"), nil)
		msgs, _ := hist.json(t)["messages"].([]any)
		if hist.status != http.StatusOK || len(msgs) != 1 || msgs[0].(map[string]any)["id"] != id {
			t.Errorf("history = %d %s, want the one message %v", hist.status, hist.body, id)
		}
		if rid := hist.header.Get("X-Request-Id"); rid == "" {
			t.Error("history answered without X-Request-Id")
		}
	})

	t.Run("a file through the built functions", func(t *testing.T) {
		file := []byte("bytes of a file")
		h, body := jsonBody(bearer("alice"), map[string]any{"name": "a.txt", "size": len(file), "content_type": "text/plain"})
		grant := fn("/api/attachments").call(t, http.MethodPost, "/api/attachments", h, body)
		if grant.status != http.StatusCreated {
			t.Fatalf("request upload = %d %s, want 201", grant.status, grant.body)
		}
		up := grant.json(t)["upload"].(map[string]any)
		put, err := http.NewRequest(http.MethodPut, up["url"].(string), bytes.NewReader(file))
		if err != nil {
			t.Fatal(err)
		}
		put.Header.Set("Content-Type", "text/plain")
		if resp, err := http.DefaultClient.Do(put); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("PUT to the presigned URL: %v %v", resp, err)
		}
		id := grant.json(t)["attachment"].(map[string]any)["id"].(string)
		h, body = jsonBody(bearer("alice"), map[string]any{"to": "bob", "attachment": map[string]any{"id": id}})
		if sent := fn("/api/messages/send").call(t, http.MethodPost, "/api/messages/send", h, body); sent.status != http.StatusCreated {
			t.Fatalf("send = %d %s, want 201", sent.status, sent.body)
		}
		// vercel.json rewrites /api/attachments/{id} to this function with ?id=.
		for user, want := range map[string]int{"bob": http.StatusFound, "carol": http.StatusNotFound} {
			res := fn(httpapi.AttachmentFile.FunctionPath()).call(t, http.MethodGet, httpapi.AttachmentFile.FunctionPath()+"?id="+id, bearer(user), nil)
			if res.status != want {
				t.Fatalf("GET the file as %s = %d %s, want %d", user, res.status, res.body, want)
			}
			if want != http.StatusFound {
				continue
			}
			resp, err := http.Get(res.header.Get("Location"))
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !bytes.Equal(got, file) {
				t.Fatalf("the redirect gives %d %q", resp.StatusCode, got)
			}
		}
	})

	t.Run("pusher auth", func(t *testing.T) {
		form := url.Values{"socket_id": {"1234.5678"}, "channel_name": {"private-user-bob"}}.Encode()
		h := bearer("bob")
		h.Set("Content-Type", "application/x-www-form-urlencoded")
		res := fn("/api/pusher/auth").call(t, http.MethodPost, "/api/pusher/auth", h, []byte(form))
		mac := hmac.New(sha256.New, []byte(pusherSecret))
		mac.Write([]byte("1234.5678:private-user-bob"))
		if want := pusherKey + ":" + hex.EncodeToString(mac.Sum(nil)); res.status != http.StatusOK || res.json(t)["auth"] != want {
			t.Errorf("pusher auth = %d %s, want 200 with auth %s", res.status, res.body, want)
		}
		h = bearer("alice")
		h.Set("Content-Type", "application/x-www-form-urlencoded")
		if res := fn("/api/pusher/auth").call(t, http.MethodPost, "/api/pusher/auth", h, []byte(form)); res.status != http.StatusForbidden {
			t.Errorf("alice's auth for bob's channel = %d %s, want 403", res.status, res.body)
		}
	})

	t.Run("cron", func(t *testing.T) {
		if res := fn("/api/cron/outbox").call(t, http.MethodGet, "/api/cron/outbox", nil, nil); res.status != http.StatusUnauthorized {
			t.Errorf("cron without its secret = %d %s, want 401", res.status, res.body)
		}
		h := http.Header{"Authorization": {"Bearer " + cronSecret}}
		res := fn("/api/cron/outbox").call(t, http.MethodGet, "/api/cron/outbox", h, nil)
		if _, ok := res.json(t)["republished"]; res.status != http.StatusOK || !ok {
			t.Errorf("cron with its secret = %d %s, want 200 with republished", res.status, res.body)
		}
	})

	t.Run("database webhook", func(t *testing.T) {
		var row string
		err := pool.QueryRow(t.Context(), `INSERT INTO messages (sender_id, receiver_id, body) VALUES ('carol', 'bob', 'from a legacy writer')
RETURNING to_jsonb(messages.*)::text`).Scan(&row)
		if err != nil {
			t.Fatal(err)
		}
		var record map[string]any
		if err := json.Unmarshal([]byte(row), &record); err != nil {
			t.Fatal(err)
		}
		hook := map[string]any{"type": "INSERT", "table": "messages", "schema": "public", "record": record, "old_record": nil}
		h, body := jsonBody(http.Header{"Authorization": {"Bearer wrong"}}, hook)
		if res := fn("/api/webhooks/database").call(t, http.MethodPost, "/api/webhooks/database", h, body); res.status != http.StatusUnauthorized {
			t.Errorf("webhook with a wrong secret = %d %s, want 401", res.status, res.body)
		}
		h.Set("Authorization", "Bearer "+dbWebhookSecret)
		res := fn("/api/webhooks/database").call(t, http.MethodPost, "/api/webhooks/database", h, body)
		if n, _ := res.json(t)["published"].(float64); res.status != http.StatusOK || n < 1 {
			t.Errorf("webhook = %d %s, want 200 publishing the row's events", res.status, res.body)
		}
	})

	t.Run("method check of each function", func(t *testing.T) {
		for _, route := range httpapi.Routes() {
			res := fn(route.FunctionPath()).call(t, http.MethodDelete, route.FunctionPath(), nil, nil)
			if res.status != http.StatusMethodNotAllowed {
				t.Errorf("DELETE %s = %d %s, want 405", route.Path, res.status, res.body)
			}
			if got, want := res.header.Get("Allow"), strings.Join(route.AllowedMethods(), ", "); got != want {
				t.Errorf("DELETE %s: Allow = %q, want %q", route.Path, got, want)
			}
		}
	})

	for p, f := range fns {
		if out := f.output(); strings.Contains(out, "planted-secret") || strings.Contains(out, jwtSecret) {
			t.Errorf("%s logged a secret", p)
		}
	}
}
