package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/chatwire/chatwire/lib/auth"
	"github.com/chatwire/chatwire/lib/pusherlocal"
)

// coldStartMain wraps api/messages/send.go's handler the way Vercel's Go
// runtime does: a generated main package that serves the exported handler.
// It prints its address once it listens.
const coldStartMain = `package main

import (
	"fmt"
	"net"
	"net/http"
	"os"

	messages "github.com/chatwire/chatwire/api/messages"
)

func main() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().String())
	_ = http.Serve(ln, http.HandlerFunc(messages.SendMessage))
}
`

// coldStartResult is the cold start of the send function.
type coldStartResult struct {
	Runs          int       `json:"runs"`
	BinaryMB      float64   `json:"binary_mb"`
	MedianMs      float64   `json:"first_send_median_ms"`
	P90Ms         float64   `json:"first_send_p90_ms"`
	MinMs         float64   `json:"first_send_min_ms"`
	MaxMs         float64   `json:"first_send_max_ms"`
	ListenMedian  float64   `json:"start_to_listening_median_ms"`
	SendMedian    float64   `json:"listening_to_first_send_median_ms"`
	WarmMedianMs  float64   `json:"second_send_median_ms"`
	FirstSendsMs  []float64 `json:"first_send_ms"`
	BuildCommand  string    `json:"build_command"`
	DatabaseNotes string    `json:"database"`
}

// coldStart builds api/messages' handler into its own binary, as Vercel
// builds one function, and times -cold-runs fresh processes from exec to
// their first successful send (201), which includes the process start, the
// lazy configuration, the first Postgres connection, the insert and the
// Pusher call. A second send on the same process shows the warm latency.
func (b *bench) coldStart(ctx context.Context) error {
	if err := b.openDatabase(ctx, false); err != nil {
		return err
	}
	bin, buildCmd, err := b.buildFunction(ctx)
	if err != nil {
		return err
	}
	pusher, err := pusherlocal.New(pusherlocal.Config{AppID: pusherAppID, Key: pusherKey, Secret: b.secrets.pusher})
	if err != nil {
		return err
	}
	if err := pusher.Start("127.0.0.1:0"); err != nil {
		return err
	}
	defer pusher.Close()
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"DATABASE_URL=" + b.db.url, // as deployed: the serverless pool defaults
		"AUTH_JWT_SECRET=" + b.secrets.jwt,
		"PUSHER_APP_ID=" + pusherAppID, "PUSHER_KEY=" + pusherKey, "PUSHER_SECRET=" + b.secrets.pusher,
		"PUSHER_HOST=" + pusher.Addr(), "PUSHER_USE_TLS=false",
	}
	res := &coldStartResult{Runs: b.opts.coldRuns, BuildCommand: buildCmd,
		DatabaseNotes: "Postgres on loopback: the first send opens a TCP connection with no TLS and trust auth"}
	if fi, err := os.Stat(bin); err == nil {
		res.BinaryMB = round1(float64(fi.Size()) / (1 << 20))
	}
	var first, listen, send, warm []time.Duration
	for i := range b.opts.coldRuns {
		f, l, w, err := coldRun(ctx, bin, env, fmt.Sprintf("cold%d", i), b.secrets.jwt)
		if err != nil {
			return fmt.Errorf("cold start %d: %w", i+1, err)
		}
		first, listen, send, warm = append(first, f), append(listen, l), append(send, f-l), append(warm, w)
		res.FirstSendsMs = append(res.FirstSendsMs, pct([]time.Duration{f}, 1))
	}
	for _, d := range [][]time.Duration{first, listen, send, warm} {
		slices.Sort(d)
	}
	res.MedianMs, res.P90Ms, res.MinMs, res.MaxMs = pct(first, .5), pct(first, .9), pct(first, 0), pct(first, 1)
	res.ListenMedian, res.SendMedian, res.WarmMedianMs = pct(listen, .5), pct(send, .5), pct(warm, .5)
	b.report.ColdStart = res

	fmt.Fprintf(b.out, "\n== cold-start (api/messages/send.go in its own binary, %.1f MB; %d runs)\n", res.BinaryMB, res.Runs)
	fmt.Fprintf(b.out, "exec to first successful send: median %.1f ms, p90 %.1f ms, min %.1f ms, max %.1f ms\n", res.MedianMs, res.P90Ms, res.MinMs, res.MaxMs)
	fmt.Fprintf(b.out, "  of which exec to listening: median %.1f ms; listening to first send answered: median %.1f ms\n", res.ListenMedian, res.SendMedian)
	fmt.Fprintf(b.out, "second send on the same process: median %.1f ms\n", res.WarmMedianMs)

	c := lineChart{title: fmt.Sprintf("cold-start: exec to first successful send (%d runs)", res.Runs),
		xLabel: "run", yLabel: "ms", hline: &tick{150, "150 ms target"}}
	s := series{name: "first send"}
	for i, v := range res.FirstSendsMs {
		s.xs, s.ys = append(s.xs, float64(i+1)), append(s.ys, v)
	}
	c.series = append(c.series, s)
	return b.writePlot("cold-start.svg", c.svg())
}

// buildFunction writes the wrapper as a module of its own in a workspace
// with the repository, so it builds against this checkout, and builds it
// with the flags of Vercel's Go builder.
func (b *bench) buildFunction(ctx context.Context) (bin, command string, err error) {
	root, err := repoRoot()
	if err != nil {
		return "", "", err
	}
	dir := filepath.Join(b.dir, "coldstart")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	goVersion := "1.26.8"
	if raw, err := os.ReadFile(filepath.Join(root, "go.mod")); err == nil {
		for _, line := range strings.Split(string(raw), "\n") {
			if v, ok := strings.CutPrefix(line, "go "); ok {
				goVersion = strings.TrimSpace(v)
			}
		}
	}
	files := map[string]string{
		"main.go": coldStartMain,
		"go.mod":  "module chatbench.local/coldstart\n\ngo " + goVersion + "\n",
		"go.work": "go " + goVersion + "\n\nuse (\n\t.\n\t" + root + "\n)\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return "", "", err
		}
	}
	bin = filepath.Join(dir, "send-function")
	args := []string{"build", "-ldflags=-s -w", "-o", bin, "."}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK="+filepath.Join(dir, "go.work"), "CGO_ENABLED=0")
	fmt.Fprintf(b.log, "chatbench: building the send function in %s\n", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("build the send function: %w: %s", err, out)
	}
	return bin, "CGO_ENABLED=0 go " + strings.Join(args[:2], " ") + " (main serving messages.SendMessage)", nil
}

// coldRun starts the function and returns exec→first 201, exec→listening,
// and the latency of a second send.
func coldRun(ctx context.Context, bin string, env []string, user, jwtSecret string) (first, listen, warm time.Duration, err error) {
	tok, err := auth.SignHS256(jwtSecret, auth.User{ID: user, Name: user}, time.Hour)
	if err != nil {
		return 0, 0, 0, err
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return 0, 0, 0, err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, 0, err
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	sc := bufio.NewScanner(stdout)
	if !sc.Scan() {
		return 0, 0, 0, fmt.Errorf("the function did not listen: %s", stderr.String())
	}
	listen = time.Since(start)
	addr := strings.TrimSpace(sc.Text())
	sendOnce := func(body string) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/api/messages/send",
			strings.NewReader(`{"to":"coldpeer","body":"`+body+`"}`))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := client.Do(req)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			var buf bytes.Buffer
			_, _ = buf.ReadFrom(res.Body)
			return fmt.Errorf("status %d: %.300s", res.StatusCode, buf.String())
		}
		return nil
	}
	if err := sendOnce("first"); err != nil {
		return 0, 0, 0, err
	}
	first = time.Since(start)
	t := time.Now()
	if err := sendOnce("second"); err != nil {
		return 0, 0, 0, err
	}
	return first, listen, time.Since(t), nil
}
