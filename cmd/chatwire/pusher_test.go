package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	pusher "github.com/pusher/pusher-http-go/v5"
)

func TestPusherCommandServesTheApp(t *testing.T) {
	checkGoroutines(t)
	env := map[string]string{"PUSHER_APP_ID": testPusherAppID, "PUSHER_KEY": testPusherKey, "PUSHER_SECRET": testPusherSecret}
	cmd := startCommand(t, env, "pusher", "--addr", "127.0.0.1:0", "--webhook", "http://127.0.0.1:3000/api/pusher/webhook")

	// The Pusher server library, configured as the printed instructions say.
	transport := &http.Transport{}
	t.Cleanup(transport.CloseIdleConnections)
	client := pusher.Client{
		AppID: testPusherAppID, Key: testPusherKey, Secret: testPusherSecret,
		Host: cmd.addrs.Pusher, Secure: false,
		HTTPClient: &http.Client{Transport: transport, Timeout: 5 * time.Second},
	}
	if err := client.Trigger("public-test", "greeting", map[string]string{"hello": "world"}); err != nil {
		t.Fatalf("trigger: %v", err)
	}
	wrong := client
	wrong.Secret = "not-the-secret"
	if err := wrong.Trigger("public-test", "greeting", "x"); err == nil {
		t.Error("trigger with the wrong secret succeeded")
	}

	out := cmd.stdout.String()
	for _, want := range []string{"PUSHER_HOST=" + cmd.addrs.Pusher, "PUSHER_KEY=" + testPusherKey, "http://127.0.0.1:3000/api/pusher/webhook"} {
		if !strings.Contains(out, want) {
			t.Errorf("instructions lack %q:\n%s", want, out)
		}
	}
	if strings.Contains(out+cmd.stderr.String(), testPusherSecret) {
		t.Error("the output shows PUSHER_SECRET")
	}
	cmd.stopCleanly(t)
}

func TestPusherCommandNamesMissingVariables(t *testing.T) {
	err := run(context.Background(), []string{"chatwire", "pusher", "--addr", "127.0.0.1:0"},
		envFrom(map[string]string{"PUSHER_APP_ID": "not-a-number"}), &strings.Builder{}, &strings.Builder{})
	if err == nil {
		t.Fatal("pusher started without credentials")
	}
	for _, want := range []string{"PUSHER_APP_ID must be the numeric app id", "PUSHER_KEY is required", "PUSHER_SECRET is required"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}
