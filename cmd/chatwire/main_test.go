package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatwire/chatwire/lib/dbtest"
)

// The tests run the real commands through cli.run, as main does, with an
// environment of their own and port 0; the cli.ready hook tells them the
// ports. They are not parallel: the dev tests change the working directory,
// and the goroutine check needs a quiet process.

func TestMain(m *testing.M) { dbtest.Main(m) }

// runningCommand is a command started in the background by startCommand.
type runningCommand struct {
	addrs    listening
	stdout   *syncBuffer
	stderr   *syncBuffer
	cancel   context.CancelFunc
	finished chan struct{}
	err      error // set before finished is closed
}

// startCommand runs `chatwire args...` with env as its whole environment and
// returns once the command is ready. It is stopped when the test ends if the
// test did not stop it.
func startCommand(t *testing.T, env map[string]string, args ...string) *runningCommand {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &runningCommand{stdout: &syncBuffer{}, stderr: &syncBuffer{}, cancel: cancel, finished: make(chan struct{})}
	ready := make(chan listening, 1)
	c := &cli{getenv: envFrom(env), stdout: r.stdout, stderr: r.stderr, ready: func(l listening) { ready <- l }}
	go func() {
		defer close(r.finished)
		r.err = c.run(ctx, append([]string{"chatwire"}, args...))
	}()
	t.Cleanup(func() {
		if err := r.stop(t); err != nil {
			t.Errorf("chatwire %s: %v", args[0], err)
		}
	})

	select {
	case r.addrs = <-ready:
		return r
	case <-r.finished:
		t.Fatalf("chatwire %s ended before it was ready: %v\nstderr:\n%s", strings.Join(args, " "), r.err, r.stderr)
	case <-time.After(90 * time.Second):
		t.Fatalf("chatwire %s not ready after 90 s\nstderr:\n%s", strings.Join(args, " "), r.stderr)
	}
	return nil
}

// stop cancels the command's context, as SIGINT does, and returns what run
// returned. Calling it again returns the same.
func (r *runningCommand) stop(t *testing.T) error {
	t.Helper()
	r.cancel()
	select {
	case <-r.finished:
		return r.err
	case <-time.After(60 * time.Second):
		t.Fatalf("still running 60 s after cancel\nstderr:\n%s", r.stderr)
		return nil
	}
}

// stopCleanly stops the command and checks that run returned nil and that
// every address it listened on is closed.
func (r *runningCommand) stopCleanly(t *testing.T) {
	t.Helper()
	if err := r.stop(t); err != nil {
		t.Fatalf("run returned %v, want nil\nstderr:\n%s", err, r.stderr)
	}
	if r.addrs.App != "" {
		u, err := url.Parse(r.addrs.App)
		if err != nil {
			t.Fatal(err)
		}
		requireClosed(t, u.Host)
	}
	if r.addrs.Metrics != "" && r.addrs.Metrics != r.addrs.App {
		u, err := url.Parse(r.addrs.Metrics)
		if err != nil {
			t.Fatal(err)
		}
		requireClosed(t, u.Host)
	}
	for _, addr := range []string{r.addrs.Pusher, r.addrs.Postgres} {
		if addr != "" {
			requireClosed(t, addr)
		}
	}
}

func requireClosed(t *testing.T, hostPort string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", hostPort, time.Second)
	if err == nil {
		conn.Close()
		t.Fatalf("%s still accepts connections after the command stopped", hostPort)
	}
}

func envFrom(env map[string]string) func(string) string {
	return func(name string) string { return env[name] }
}

// newClient returns an HTTP client of the test's own, whose idle
// connections are closed when the test ends.
func newClient(t *testing.T) *http.Client {
	t.Helper()
	transport := &http.Transport{}
	t.Cleanup(transport.CloseIdleConnections)
	return &http.Client{Transport: transport, Timeout: 10 * time.Second}
}

type healthAnswer struct {
	OK       bool   `json:"ok"`
	Database string `json:"database"`
	Pusher   string `json:"pusher"`
}

// waitHealthy polls /api/health until it answers 200.
func waitHealthy(t *testing.T, client *http.Client, appURL string) healthAnswer {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := client.Get(appURL + "/api/health")
		if err == nil {
			var a healthAnswer
			decodeErr := json.NewDecoder(resp.Body).Decode(&a)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && decodeErr == nil {
				return a
			}
			err = errors.New(resp.Status)
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s/api/health: %v", appURL, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sendMessage posts a message to bob as the token's user and returns the
// status and the answer.
func sendMessage(t *testing.T, client *http.Client, appURL, token, body string) (int, map[string]any) {
	t.Helper()
	payload, _ := json.Marshal(map[string]string{"to": "bob", "body": body})
	req, err := http.NewRequest(http.MethodPost, appURL+"/api/messages/send", bytes.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var answer map[string]any
	if err := json.Unmarshal(raw, &answer); err != nil {
		t.Fatalf("send: %d %q: %v", resp.StatusCode, raw, err)
	}
	return resp.StatusCode, answer
}

// syncBuffer is a bytes.Buffer the command may write while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// checkGoroutines fails the test if goroutines started during it are still
// running a little after it ended. Call it first, so that its check runs
// after every other cleanup.
func checkGoroutines(t *testing.T) {
	t.Helper()
	before := make(map[string]bool)
	for _, g := range goroutines() {
		before[g.id] = true
	}
	t.Cleanup(func() {
		deadline := time.Now().Add(10 * time.Second)
		for {
			var leaked []string
			for _, g := range goroutines() {
				if !before[g.id] {
					leaked = append(leaked, g.stack)
				}
			}
			if len(leaked) == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("%d goroutines outlived the test:\n\n%s", len(leaked), strings.Join(leaked, "\n\n"))
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

type goroutine struct{ id, stack string }

func goroutines() []goroutine {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var all []goroutine
	for _, stack := range strings.Split(string(buf), "\n\n") {
		// "goroutine 42 [running]:"
		fields := strings.Fields(stack)
		if len(fields) < 2 || fields[0] != "goroutine" {
			continue
		}
		all = append(all, goroutine{id: fields[1], stack: stack})
	}
	return all
}
