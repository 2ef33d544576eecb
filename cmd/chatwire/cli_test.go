package main

import (
	"context"
	"strings"
	"testing"
)

func TestUsage(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantExit   int // 0: run returns nil
		wantStdout string
		wantStderr string
	}{
		{"no command", nil, 2, "", "Commands:"},
		{"unknown command", []string{"bogus"}, 2, "", "Commands:"},
		{"-h lists the commands", []string{"-h"}, 0, "Commands:", ""},
		{"help", []string{"help"}, 0, "serve", ""},
		{"command -h", []string{"serve", "-h"}, 0, "PORT", ""},
		{"unknown flag", []string{"serve", "--nope"}, 2, "", "Usage: chatwire serve"},
		{"stray argument", []string{"migrate", "now"}, 2, "", "Usage: chatwire migrate"},
		{"token without user", []string{"token"}, 2, "", "Usage: chatwire token"},
		{"token with two users", []string{"token", "alice", "bob"}, 2, "", "Usage: chatwire token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr strings.Builder
			err := run(context.Background(), append([]string{"chatwire"}, tt.args...), envFrom(nil), &stdout, &stderr)
			exit := 0
			if err != nil {
				exit = exitCode(err)
			}
			if got, want := exit, tt.wantExit; got != want {
				t.Fatalf("exit code = %d, want %d (err %v)", got, want, err)
			}
			if !strings.Contains(stdout.String(), tt.wantStdout) {
				t.Errorf("stdout = %q, want it to contain %q", stdout.String(), tt.wantStdout)
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), tt.wantStderr)
			}
		})
	}
}

func TestUsageListsEveryCommand(t *testing.T) {
	var stdout strings.Builder
	if err := run(context.Background(), []string{"chatwire", "-h"}, envFrom(nil), &stdout, &strings.Builder{}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"dev", "serve", "migrate", "token", "pusher"} {
		if !strings.Contains(stdout.String(), "  "+name+" ") {
			t.Errorf("usage does not list %q:\n%s", name, stdout.String())
		}
	}
}

func TestExitCodeOfOtherErrors(t *testing.T) {
	err := run(context.Background(), []string{"chatwire", "token", "alice"}, envFrom(nil), &strings.Builder{}, &strings.Builder{})
	if err == nil {
		t.Fatal("token without AUTH_JWT_SECRET succeeded")
	}
	if got, want := exitCode(err), 1; got != want {
		t.Errorf("exit code = %d, want %d", got, want)
	}
}
