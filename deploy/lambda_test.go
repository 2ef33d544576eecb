package deploy_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// lambdaRuntime emulates the AWS Lambda Runtime API for one function
// process: the function asks it for the next invocation and posts the answer
// back, as it does on Vercel.
type lambdaRuntime struct {
	srv     *httptest.Server
	pending chan *invocation

	mu       sync.Mutex
	inflight map[string]*invocation
	seq      int
	initErr  []byte
}

type invocation struct {
	id       string
	event    []byte
	deadline time.Time
	done     chan invocationResult
}

type invocationResult struct {
	response []byte // the function's answer, or nil
	failure  []byte // what it posted to /error instead
}

const runtimePrefix = "/2018-06-01/runtime"

func newLambdaRuntime(t *testing.T) *lambdaRuntime {
	rt := &lambdaRuntime{pending: make(chan *invocation), inflight: map[string]*invocation{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+runtimePrefix+"/invocation/next", rt.next)
	mux.HandleFunc("POST "+runtimePrefix+"/invocation/{id}/response", func(w http.ResponseWriter, r *http.Request) {
		rt.finish(w, r, false)
	})
	mux.HandleFunc("POST "+runtimePrefix+"/invocation/{id}/error", func(w http.ResponseWriter, r *http.Request) {
		rt.finish(w, r, true)
	})
	mux.HandleFunc("POST "+runtimePrefix+"/init/error", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rt.mu.Lock()
		rt.initErr = body
		rt.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	})
	rt.srv = httptest.NewServer(mux)
	t.Cleanup(rt.srv.Close)
	return rt
}

func (rt *lambdaRuntime) initError() []byte {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.initErr
}

// addr is the value of AWS_LAMBDA_RUNTIME_API.
func (rt *lambdaRuntime) addr() string { return rt.srv.Listener.Addr().String() }

// next hands the function the next invocation, waiting for one as Lambda does.
func (rt *lambdaRuntime) next(w http.ResponseWriter, r *http.Request) {
	select {
	case inv := <-rt.pending:
		h := w.Header()
		h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
		h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:iad1:000000000000:function:chatwire")
		h.Set("Content-Type", "application/json")
		_, _ = w.Write(inv.event)
	case <-r.Context().Done():
	}
}

func (rt *lambdaRuntime) finish(w http.ResponseWriter, r *http.Request, failed bool) {
	body, err := io.ReadAll(r.Body)
	rt.mu.Lock()
	inv := rt.inflight[r.PathValue("id")]
	delete(rt.inflight, r.PathValue("id"))
	rt.mu.Unlock()
	if err != nil || inv == nil {
		http.Error(w, "unknown invocation", http.StatusBadRequest)
		return
	}
	if failed {
		inv.done <- invocationResult{failure: body}
	} else {
		inv.done <- invocationResult{response: body}
	}
	w.WriteHeader(http.StatusAccepted)
}

// invoke hands the event to the function and waits for its answer until the
// deadline.
func (rt *lambdaRuntime) invoke(event []byte, maxDuration time.Duration, exited <-chan struct{}) (invocationResult, error) {
	rt.mu.Lock()
	rt.seq++
	inv := &invocation{id: fmt.Sprintf("req-%d", rt.seq), event: event, deadline: time.Now().Add(maxDuration), done: make(chan invocationResult, 1)}
	rt.inflight[inv.id] = inv
	rt.mu.Unlock()
	timeout := time.NewTimer(maxDuration + 5*time.Second)
	defer timeout.Stop()
	select {
	case rt.pending <- inv:
	case <-exited:
		return invocationResult{}, fmt.Errorf("the function exited before taking the invocation")
	case <-timeout.C:
		return invocationResult{}, fmt.Errorf("the function did not ask for the invocation within %v", maxDuration)
	}
	select {
	case res := <-inv.done:
		return res, nil
	case <-exited:
		return invocationResult{}, fmt.Errorf("the function exited during the invocation")
	case <-timeout.C:
		return invocationResult{}, fmt.Errorf("no answer within maxDuration %v", maxDuration)
	}
}

// function is one built bootstrap, running against its own runtime emulator.
type function struct {
	path        string // the URL path, e.g. /api/messages/send
	maxDuration time.Duration
	rt          *lambdaRuntime
	exited      chan struct{}
	logFile     string // the process's stdout and stderr
}

// output is what the process wrote so far.
func (f *function) output() string {
	data, _ := os.ReadFile(f.logFile)
	return string(data)
}

// startFunction runs the bootstrap with exactly env and the Lambda variables,
// in its function directory, as Vercel does.
func startFunction(t *testing.T, path, bootstrap, dir string, maxDuration time.Duration, memory int, env []string) *function {
	t.Helper()
	f := &function{path: path, maxDuration: maxDuration, rt: newLambdaRuntime(t), exited: make(chan struct{}),
		logFile: filepath.Join(t.TempDir(), "output")}
	logFile, err := os.Create(f.logFile)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close() // the child has its own descriptor
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bootstrap)
	cmd.Dir = dir
	cmd.Env = append([]string{
		"AWS_LAMBDA_RUNTIME_API=" + f.rt.addr(),
		"AWS_LAMBDA_FUNCTION_NAME=chatwire" + path,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(memory),
		"AWS_REGION=iad1",
		"LAMBDA_TASK_ROOT=" + dir,
		"_HANDLER=bootstrap",
		"TZ=:UTC",
		"PATH=/usr/local/bin:/usr/bin:/bin",
	}, env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start %s: %v", bootstrap, err)
	}
	go func() {
		_ = cmd.Wait()
		close(f.exited)
	}()
	t.Cleanup(func() {
		cancel()
		<-f.exited
	})
	return f
}

// answer is what a function answered, decoded from the bridge's response.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatalf("answer %d is not JSON: %v: %s", a.status, err, a.body)
	}
	return m
}

// call sends one HTTP request to the function in the shape Vercel's proxy
// gives a Go function: the request as JSON in the Lambda event's body.
func (f *function) call(t *testing.T, method, target string, header http.Header, body []byte) answer {
	t.Helper()
	headers := map[string]any{
		"host":            "chatwire.vercel.app",
		"x-forwarded-for": "203.0.113.7",
		"x-real-ip":       "203.0.113.7",
		"x-vercel-id":     "iad1::test",
	}
	for name, values := range header {
		// The proxy sends header names in lower case.
		if len(values) == 1 {
			headers[strings.ToLower(name)] = values[0]
		} else {
			headers[strings.ToLower(name)] = values
		}
	}
	if body != nil {
		headers["content-length"] = strconv.Itoa(len(body))
	}
	req, err := json.Marshal(map[string]any{
		"host": "chatwire.vercel.app", "path": target, "method": method, "headers": headers,
		"encoding": "base64", "body": base64.StdEncoding.EncodeToString(body),
	})
	if err != nil {
		t.Fatal(err)
	}
	event, err := json.Marshal(map[string]string{"Action": "Invoke", "body": string(req)})
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.rt.invoke(event, f.maxDuration, f.exited)
	if err != nil {
		t.Fatalf("%s %s: %v\ninit error: %s\nfunction output:\n%s", method, target, err, f.rt.initError(), f.output())
	}
	if res.failure != nil {
		t.Fatalf("%s %s: the function reported an error: %s\nfunction output:\n%s", method, target, res.failure, f.output())
	}
	var out struct {
		StatusCode int                 `json:"statusCode"`
		Headers    map[string][]string `json:"headers"`
		Encoding   string              `json:"encoding"`
		Body       string              `json:"body"`
	}
	if err := json.Unmarshal(res.response, &out); err != nil {
		t.Fatalf("%s %s: response %s: %v", method, target, res.response, err)
	}
	a := answer{status: out.StatusCode, header: http.Header(out.Headers), body: []byte(out.Body)}
	if out.Encoding == "base64" {
		if a.body, err = base64.StdEncoding.DecodeString(out.Body); err != nil {
			t.Fatalf("%s %s: body: %v", method, target, err)
		}
	}
	return a
}
