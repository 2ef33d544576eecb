package bridge

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// event wraps a request as Vercel's proxy does: JSON in the Lambda event's body.
func testEvent(t *testing.T, req map[string]any) []byte {
	t.Helper()
	inner, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(map[string]string{"Action": "Invoke", "body": string(inner)})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestInvokeGivesTheHandlerTheRequestAndEncodesItsAnswer(t *testing.T) {
	var seen *http.Request
	var seenBody string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r
		b, _ := io.ReadAll(r.Body)
		seenBody = string(b)
		w.Header().Add("Set-Cookie", "a=1")
		w.Header().Add("Set-Cookie", "b=2")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte("made"))
	})
	raw := testEvent(t, map[string]any{
		"host": "chat.example.com", "path": "/api/messages/history?with=bob&limit=2", "method": "POST",
		"headers": map[string]any{
			"host": "chat.example.com", "content-type": "application/json", "x-real-ip": "203.0.113.9",
			"accept": []string{"a/b", "c/d"}, "content-length": "7",
		},
		"encoding": "base64", "body": base64.StdEncoding.EncodeToString([]byte(`{"x":1}`)),
	})
	out, err := invoke(context.Background(), h, raw)
	if err != nil {
		t.Fatal(err)
	}
	if seen.Method != "POST" || seen.URL.Path != "/api/messages/history" || seen.URL.Query().Get("with") != "bob" {
		t.Errorf("request = %s %s", seen.Method, seen.URL)
	}
	if seen.Host != "chat.example.com" || seen.RemoteAddr != "203.0.113.9" || seen.ContentLength != 7 {
		t.Errorf("host %q remote %q length %d", seen.Host, seen.RemoteAddr, seen.ContentLength)
	}
	if got := seen.Header.Values("Accept"); len(got) != 2 || seen.Header.Get("Content-Type") != "application/json" {
		t.Errorf("headers = %v", seen.Header)
	}
	if seenBody != `{"x":1}` {
		t.Errorf("body = %q", seenBody)
	}
	var res response
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	body, _ := base64.StdEncoding.DecodeString(res.Body)
	if res.StatusCode != http.StatusCreated || res.Encoding != "base64" || string(body) != "made" || len(res.Headers["Set-Cookie"]) != 2 {
		t.Errorf("response = %+v (body %q)", res, body)
	}
}

func TestInvokeTakesAPlainBodyAndReportsBadEventsAndPanics(t *testing.T) {
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		_, _ = w.Write(b)
	})
	out, err := invoke(context.Background(), echo, testEvent(t, map[string]any{"path": "/", "method": "PUT", "body": "plain"}))
	if err != nil {
		t.Fatal(err)
	}
	var res response
	_ = json.Unmarshal(out, &res)
	if body, _ := base64.StdEncoding.DecodeString(res.Body); res.StatusCode != http.StatusOK || string(body) != "plain" {
		t.Errorf("response = %+v", res)
	}
	if _, err := invoke(context.Background(), echo, []byte(`{"body":"not json"}`)); err == nil {
		t.Error("a body that is no request was served")
	}
	panics := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })
	if _, err := invoke(context.Background(), panics, testEvent(t, map[string]any{"path": "/", "method": "GET"})); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("panic: err = %v", err)
	}
}

// The loop against a Runtime API: it takes invocations in turn, posts each
// answer, gives the handler the invocation's deadline, and posts an error
// for an event it cannot serve.
func TestRuntimeLoopAnswersEachInvocation(t *testing.T) {
	deadline := time.Now().Add(time.Minute).Truncate(time.Millisecond)
	events := [][]byte{
		testEvent(t, map[string]any{"path": "/one", "method": "GET"}),
		[]byte(`{"body":"{"}`),
	}
	var (
		mu      sync.Mutex
		answers []string
		next    int
	)
	done := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		i := next
		next++
		mu.Unlock()
		if i >= len(events) {
			<-r.Context().Done()
			return
		}
		w.Header().Set("Lambda-Runtime-Aws-Request-Id", []string{"a", "b"}[i])
		w.Header().Set("Lambda-Runtime-Deadline-Ms", strconvMillis(deadline))
		_, _ = w.Write(events[i])
	})
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/{kind}", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		answers = append(answers, r.PathValue("id")+" "+r.PathValue("kind")+" "+string(b))
		if len(answers) == len(events) {
			close(done)
		}
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	var gotDeadline time.Time
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotDeadline, _ = r.Context().Deadline()
		_, _ = w.Write([]byte("one"))
	})
	rt := &runtimeAPI{base: srv.URL + "/2018-06-01/runtime", client: srv.Client()}
	go func() { _ = serve(rt, h) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the loop did not answer both invocations")
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.HasPrefix(answers[0], "a response ") || !strings.Contains(answers[0], base64.StdEncoding.EncodeToString([]byte("one"))) {
		t.Errorf("first answer = %s", answers[0])
	}
	if !strings.HasPrefix(answers[1], "b error ") || !strings.Contains(answers[1], "errorMessage") {
		t.Errorf("second answer = %s", answers[1])
	}
	if !gotDeadline.Equal(deadline) {
		t.Errorf("handler deadline = %v, want %v", gotDeadline, deadline)
	}
}

func strconvMillis(t time.Time) string {
	b, _ := json.Marshal(t.UnixMilli())
	return string(b)
}
