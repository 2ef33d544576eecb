// Package bridge is chatwire's own stand-in for the module
// github.com/vercel/go-bridge, package go/bridge, which the main function
// that Vercel's Go builder generates imports. The Go module proxy this
// project's CI reaches does not serve that module, so the Vercel build test
// serves this package to the builder under that path from a local file
// GOPROXY (see deploy/vercel_test.go). A deployment on Vercel uses Vercel's
// own module; this one only has to behave like it.
//
// Start serves an http.Handler over the AWS Lambda Runtime API: it asks the
// API for the next invocation, decodes the request Vercel's proxy put in the
// event, runs the handler and posts the response, for as long as the process
// lives. It uses only the standard library.
package bridge

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// Start serves h for every invocation the Lambda Runtime API at
// $AWS_LAMBDA_RUNTIME_API hands out. It returns only by exiting the process,
// when the API cannot be reached.
func Start(h http.Handler) {
	api := os.Getenv("AWS_LAMBDA_RUNTIME_API")
	if api == "" {
		log.Fatal("go-bridge: AWS_LAMBDA_RUNTIME_API is not set: this binary runs only inside a Lambda runtime")
	}
	rt := &runtimeAPI{base: "http://" + api + "/2018-06-01/runtime", client: &http.Client{}}
	log.Fatalf("go-bridge: %v", serve(rt, h))
}

// serve answers invocations until the Runtime API fails.
func serve(rt *runtimeAPI, h http.Handler) error {
	for {
		inv, err := rt.next()
		if err != nil {
			return err
		}
		res, err := invoke(inv.ctx, h, inv.event)
		inv.cancel()
		if err != nil {
			err = rt.fail(inv.id, err)
		} else {
			err = rt.respond(inv.id, res)
		}
		if err != nil {
			return err
		}
	}
}

// event is the Lambda event: Vercel's proxy puts the HTTP request, as JSON,
// in its body.
type event struct {
	Body string `json:"body"`
}

// request is the HTTP request as Vercel's proxy sends it to a Go function.
type request struct {
	Host    string            `json:"host"`
	Path    string            `json:"path"` // with the query string
	Method  string            `json:"method"`
	Headers map[string]values `json:"headers"`
	// Encoding is "base64" when Body is base64-encoded.
	Encoding string `json:"encoding,omitempty"`
	Body     string `json:"body"`
}

// values is a header's value: the proxy sends one string or a list.
type values []string

func (v *values) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*v = values{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("header value: %w", err)
	}
	*v = many
	return nil
}

// response is what the function answers, the body always base64-encoded.
type response struct {
	StatusCode int                 `json:"statusCode"`
	Headers    map[string][]string `json:"headers"`
	Encoding   string              `json:"encoding"`
	Body       string              `json:"body"`
}

// invoke decodes one event, serves it with h and encodes the answer. A
// handler that panics fails the invocation instead of the process.
func invoke(ctx context.Context, h http.Handler, raw []byte) (_ []byte, err error) {
	r, err := decode(ctx, raw)
	if err != nil {
		return nil, err
	}
	w := &recorder{status: http.StatusOK, header: http.Header{}}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("handler panicked: %v", p)
		}
	}()
	h.ServeHTTP(w, r)
	return json.Marshal(response{
		StatusCode: w.status,
		Headers:    w.header,
		Encoding:   "base64",
		Body:       base64.StdEncoding.EncodeToString(w.body.Bytes()),
	})
}

// decode turns an event into the *http.Request the handler sees.
func decode(ctx context.Context, raw []byte) (*http.Request, error) {
	var ev event
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, fmt.Errorf("event: %w", err)
	}
	var req request
	if err := json.Unmarshal([]byte(ev.Body), &req); err != nil {
		return nil, fmt.Errorf("request in the event body: %w", err)
	}
	body := []byte(req.Body)
	if req.Encoding == "base64" {
		var err error
		if body, err = base64.StdEncoding.DecodeString(req.Body); err != nil {
			return nil, fmt.Errorf("request body: %w", err)
		}
	}
	r, err := http.NewRequestWithContext(ctx, req.Method, req.Path, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("request: %w", err)
	}
	r.RequestURI = req.Path
	r.Host = req.Host
	for name, vs := range req.Headers {
		for _, v := range vs {
			r.Header.Add(name, v)
			switch strings.ToLower(name) {
			case "host":
				// Go keeps the host out of Header.
				r.Host = v
			case "content-length":
				if n, err := strconv.ParseInt(v, 10, 64); err == nil {
					r.ContentLength = n
				}
			case "x-real-ip":
				r.RemoteAddr = v
			}
		}
	}
	r.Header.Del("Host")
	return r, nil
}

// recorder keeps what the handler writes.
type recorder struct {
	status      int
	header      http.Header
	body        bytes.Buffer
	wroteHeader bool
}

func (w *recorder) Header() http.Header { return w.header }

func (w *recorder) WriteHeader(status int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = status, true
	}
}

func (w *recorder) Write(p []byte) (int, error) {
	w.wroteHeader = true
	return w.body.Write(p)
}

// runtimeAPI is a client of the Lambda Runtime API.
type runtimeAPI struct {
	base   string
	client *http.Client
}

// invocation is one event to serve.
type invocation struct {
	id     string
	event  []byte
	ctx    context.Context
	cancel context.CancelFunc
}

// next waits for the next invocation; its context ends at the invocation's
// deadline.
func (rt *runtimeAPI) next() (invocation, error) {
	res, err := rt.client.Get(rt.base + "/invocation/next")
	if err != nil {
		return invocation{}, fmt.Errorf("next invocation: %w", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return invocation{}, fmt.Errorf("next invocation: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		return invocation{}, fmt.Errorf("next invocation: %s: %s", res.Status, body)
	}
	inv := invocation{id: res.Header.Get("Lambda-Runtime-Aws-Request-Id"), event: body}
	if inv.id == "" {
		return invocation{}, errors.New("next invocation: no Lambda-Runtime-Aws-Request-Id")
	}
	inv.ctx, inv.cancel = context.WithCancel(context.Background())
	if ms, err := strconv.ParseInt(res.Header.Get("Lambda-Runtime-Deadline-Ms"), 10, 64); err == nil {
		inv.cancel()
		inv.ctx, inv.cancel = context.WithDeadline(context.Background(), time.UnixMilli(ms))
	}
	return inv, nil
}

func (rt *runtimeAPI) respond(id string, body []byte) error {
	return rt.post("/invocation/"+id+"/response", body)
}

// fail reports an invocation that could not be served, in the Runtime API's
// error shape.
func (rt *runtimeAPI) fail(id string, cause error) error {
	body, err := json.Marshal(map[string]string{"errorMessage": cause.Error(), "errorType": "BridgeError"})
	if err != nil {
		return err
	}
	return rt.post("/invocation/"+id+"/error", body)
}

func (rt *runtimeAPI) post(path string, body []byte) error {
	res, err := rt.client.Post(rt.base+path, "application/json", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("post %s: %w", path, err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	if res.StatusCode != http.StatusAccepted && res.StatusCode != http.StatusOK {
		return fmt.Errorf("post %s: %s", path, res.Status)
	}
	return nil
}
