// Package localgw runs versitygw, an S3-compatible server that checks SigV4
// signatures, with its posix backend: the storage of `chatwire dev` and of
// the tests. It starts the installed binary (go install
// github.com/versity/versitygw/cmd/versitygw@v1.8.0); it never downloads one.
package localgw

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Version is the versitygw release chatwire is tested with.
const Version = "v1.8.0"

// InstallCommand installs the binary this package looks for.
const InstallCommand = "go install github.com/versity/versitygw/cmd/versitygw@" + Version

// ErrNotInstalled means no versitygw binary was found.
var ErrNotInstalled = errors.New("versitygw is not installed; install it with: " + InstallCommand)

// FindBinary returns the versitygw to run: $VERSITYGW, then PATH, then the
// folder `go install` writes to ($GOBIN, $GOPATH/bin, ~/go/bin).
func FindBinary(getenv func(string) string) (string, error) {
	if p := getenv("VERSITYGW"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("VERSITYGW=%s: %w", p, err)
		}
		return p, nil
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	var dirs []string
	if d := getenv("GOBIN"); d != "" {
		dirs = append(dirs, d)
	}
	if d := getenv("GOPATH"); d != "" {
		for _, p := range filepath.SplitList(d) {
			dirs = append(dirs, filepath.Join(p, "bin"))
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, "go", "bin"))
	}
	for _, d := range dirs {
		p := filepath.Join(d, "versitygw")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return "", ErrNotInstalled
}

// Options start a server.
type Options struct {
	Binary string
	// Dir holds the buckets (one folder each); it is created.
	Dir string
	// Addr is host:port to listen on; empty: a free loopback port.
	Addr            string
	AccessKeyID     string
	SecretAccessKey string
	Region          string // default us-east-1
	// CORSOrigin, when set, is sent as Access-Control-Allow-Origin, so a
	// browser page on that origin can PUT and GET presigned URLs.
	CORSOrigin string
	// Log receives the server's output; nil discards it.
	Log *os.File
}

// Server is a running versitygw.
type Server struct {
	// Endpoint is the server's URL, http://host:port.
	Endpoint string
	cmd      *exec.Cmd
	done     chan struct{}
	stopOnce sync.Once
}

// Start starts the server and waits until it answers HTTP.
func Start(ctx context.Context, o Options) (*Server, error) {
	if o.Binary == "" {
		return nil, ErrNotInstalled
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("localgw: %w", err)
	}
	addr := o.Addr
	if addr == "" {
		port, err := freePort()
		if err != nil {
			return nil, fmt.Errorf("localgw: free port: %w", err)
		}
		addr = "127.0.0.1:" + strconv.Itoa(port)
	}
	region := o.Region
	if region == "" {
		region = "us-east-1"
	}
	args := []string{"--port", addr, "--region", region, "--quiet"}
	if o.CORSOrigin != "" {
		args = append(args, "--cors-allow-origin", o.CORSOrigin)
	}
	args = append(args, "posix", o.Dir)
	cmd := exec.Command(o.Binary, args...)
	// Keys go by environment, not argv, so `ps` does not show them.
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY_ID="+o.AccessKeyID, "ROOT_SECRET_ACCESS_KEY="+o.SecretAccessKey)
	if o.Log != nil {
		cmd.Stdout, cmd.Stderr = o.Log, o.Log
	}
	// Its own process group: a Ctrl-C meant for chatwire reaches it through Stop.
	cmd.SysProcAttr = ownProcessGroup()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("localgw: start %s: %w", o.Binary, err)
	}
	s := &Server{Endpoint: "http://" + addr, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(s.done) }()
	if err := s.waitReady(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// waitReady polls until the server answers (any HTTP status: it refuses the
// unsigned request) or exits.
func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.Endpoint+"/", nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("localgw: versitygw exited at start (%v); is its port taken?", s.cmd.ProcessState)
		case <-ctx.Done():
			return fmt.Errorf("localgw: versitygw did not answer on %s: %w", s.Endpoint, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Stop ends the server (SIGTERM, then SIGKILL after 5 s) and waits for it.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		_ = s.cmd.Process.Signal(terminate)
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	})
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Host returns the host:port of the endpoint.
func (s *Server) Host() string { return strings.TrimPrefix(s.Endpoint, "http://") }
