package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chatwire/chatwire/lib/chat"
	"github.com/chatwire/chatwire/lib/config"
	"github.com/chatwire/chatwire/lib/httpapi"
	"github.com/chatwire/chatwire/lib/pusherlocal"
	"github.com/chatwire/chatwire/lib/store"
)

// childServeArg makes chatbench serve chatwire instead of measuring it. The
// server runs in a child process (the same binary), not in the harness's
// own: its memory and CPU time are then its own to report, its garbage
// collector does not pause the clients, and it stands exactly where the
// Socket.IO peer stands, in a process of its own.
const childServeArg = "__serve-chatwire"

// The Pusher app of the local Pusher-protocol server.
const (
	pusherAppID = "4242"
	pusherKey   = "chatbench-key"
)

// serveChild runs chatwire's routes (httpapi.NewHandler, as `chatwire serve`
// mounts them) and lib/pusherlocal on 127.0.0.1:0, prints their addresses as
// one JSON line, and serves until stdin closes (the parent ended) or ctx ends.
func serveChild(ctx context.Context, getenv func(string) string, stdin io.Reader, stdout io.Writer) error {
	log, closeLog, err := childLogger(getenv)
	if err != nil {
		return err
	}
	defer closeLog()
	if path := getenv("CHATBENCH_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	pusher, err := pusherlocal.New(pusherlocal.Config{
		AppID: getenv("PUSHER_APP_ID"), Key: getenv("PUSHER_KEY"), Secret: getenv("PUSHER_SECRET"), Logger: log,
	})
	if err != nil {
		return err
	}
	if err := pusher.Start("127.0.0.1:0"); err != nil {
		return err
	}
	defer pusher.Close()
	cfg, err := config.Load(func(k string) string {
		switch k {
		case "PUSHER_HOST":
			return pusher.Addr()
		case "PUSHER_USE_TLS":
			return "false"
		}
		return getenv(k)
	})
	if err != nil {
		return err
	}
	trips := &roundTripCounter{}
	pool, err := store.OpenWith(ctx, cfg.DatabaseURL, func(c *pgxpool.Config) { c.ConnConfig.Tracer = trips })
	if err != nil {
		return err
	}
	defer pool.Close()
	// As serve runs it.
	deps, err := httpapi.NewDeps(cfg, pool, log, httpapi.Options{Chat: chat.Options{AckDelay: chat.LongLivedAckDelay}})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/", httpapi.NewHandler(deps))
	mux.Handle(pgCounterPath, trips)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()

	line, _ := json.Marshal(childAddrs{App: "http://" + ln.Addr().String(), Pusher: pusher.Addr()})
	fmt.Fprintf(stdout, "%s\n", line)

	stdinClosed := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, stdin)
		close(stdinClosed)
	}()
	select {
	case <-ctx.Done():
	case <-stdinClosed:
	}
	return nil
}

// childLogger is a child's JSON log, to $CHATBENCH_LOG when it is set.
func childLogger(getenv func(string) string) (*slog.Logger, func(), error) {
	path := getenv("CHATBENCH_LOG")
	if path == "" {
		return slog.New(slog.DiscardHandler), func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, err
	}
	return httpapi.NewLogger(f), func() { f.Close() }, nil
}

type childAddrs struct {
	App    string `json:"app"`
	Pusher string `json:"pusher"`
	Port   int    `json:"listening"` // the Socket.IO peer's line
}

// process is a server chatbench started: chatwire's child or the peer.
type process struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	addrs childAddrs
}

// startProcess starts cmd and waits (up to a minute) for its first stdout
// line, the JSON of its addresses. Its stderr goes to logPath.
func startProcess(ctx context.Context, cmd *exec.Cmd, logPath string) (*process, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child holds its own descriptor
	cmd.Stderr = logFile
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, stdin: stdin}
	first := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if !sc.Scan() {
			first <- fmt.Errorf("%s exited before it listened; see %s", filepath.Base(cmd.Path), logPath)
			return
		}
		first <- json.Unmarshal(sc.Bytes(), &p.addrs)
		for sc.Scan() { // keep the pipe drained
		}
	}()
	select {
	case err = <-first:
	case <-time.After(time.Minute):
		err = errors.New("no address line within a minute")
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		p.stop()
		return nil, fmt.Errorf("start %s: %w", filepath.Base(cmd.Path), err)
	}
	return p, nil
}

func (p *process) pid() int { return p.cmd.Process.Pid }

// stop closes the child's stdin and signals it, then waits up to 5 s before
// killing it.
func (p *process) stop() {
	p.stdin.Close()
	_ = p.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
}

// startChatwire starts chatwire and its Pusher-protocol server in a child
// process on db, with a Postgres pool of poolSize connections.
func startChatwire(ctx context.Context, db *database, s secrets, poolSize int, dir, cpuProfile string) (*process, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, self, childServeArg)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"DATABASE_URL=" + withParams(db.url, map[string]string{
			"pool_max_conns": strconv.Itoa(poolSize), "application_name": "chatwire"}),
		"AUTH_JWT_SECRET=" + s.jwt,
		"PUSHER_APP_ID=" + pusherAppID,
		"PUSHER_KEY=" + pusherKey,
		"PUSHER_SECRET=" + s.pusher,
		"CHATBENCH_LOG=" + filepath.Join(dir, "chatwire-access.log"),
	}
	if cpuProfile != "" {
		abs, err := filepath.Abs(cpuProfile)
		if err != nil {
			return nil, err
		}
		cmd.Env = append(cmd.Env, "CHATBENCH_CPUPROFILE="+abs)
	}
	cmd.WaitDelay = 5 * time.Second
	return startProcess(ctx, cmd, filepath.Join(dir, "chatwire.log"))
}

// secrets of one chatbench run, random each time.
type secrets struct {
	jwt    string
	pusher string
}

func newSecrets() secrets {
	return secrets{jwt: randomHex(24), pusher: randomHex(16)}
}
