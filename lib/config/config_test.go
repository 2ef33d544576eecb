package config_test

import (
	"strings"
	"testing"

	"github.com/chatwire/chatwire/lib/config"
)

func env(overrides map[string]string) func(string) string {
	base := map[string]string{
		"DATABASE_URL":    "postgres://postgres:pw-secret@127.0.0.1:5432/db",
		"PUSHER_APP_ID":   "123",
		"PUSHER_KEY":      "key",
		"PUSHER_SECRET":   "pusher-secret-value",
		"PUSHER_CLUSTER":  "eu",
		"AUTH_JWT_SECRET": "0123456789abcdef0123456789abcdef-jwt",
	}
	for k, v := range overrides {
		base[k] = v
	}
	return func(k string) string { return base[k] }
}

func TestLoadAcceptsAMinimalProductionEnvironment(t *testing.T) {
	c, err := config.Load(env(nil))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !c.Pusher.UseTLS {
		t.Errorf("UseTLS = false, want true by default")
	}
	if got, want := c.MigrationURL(), c.DatabaseURL; got != want {
		t.Errorf("MigrationURL = %q, want DATABASE_URL", got)
	}
}

func TestLoadNamesTheVariableAndNeverEchoesSecrets(t *testing.T) {
	cases := []struct {
		name      string
		overrides map[string]string
		want      string
	}{
		{"missing database", map[string]string{"DATABASE_URL": ""}, "DATABASE_URL is required"},
		{"bad database scheme", map[string]string{"DATABASE_URL": "mysql://x"}, "DATABASE_URL must start with postgres://"},
		{"missing pusher key", map[string]string{"PUSHER_KEY": ""}, "PUSHER_KEY is required"},
		{"non-numeric app id", map[string]string{"PUSHER_APP_ID": "abc"}, "PUSHER_APP_ID"},
		{"no cluster nor host", map[string]string{"PUSHER_CLUSTER": ""}, "PUSHER_CLUSTER is required"},
		{"plain text to a remote host", map[string]string{"PUSHER_HOST": "pusher.example.com:80", "PUSHER_USE_TLS": "false"}, "PUSHER_USE_TLS=false"},
		{"bad bool", map[string]string{"PUSHER_USE_TLS": "maybe"}, "PUSHER_USE_TLS must be true or false"},
		{"no auth", map[string]string{"AUTH_JWT_SECRET": ""}, "AUTH_JWT_SECRET or AUTH_JWKS_URL is required"},
		{"both auth", map[string]string{"AUTH_JWKS_URL": "https://x/jwks"}, "only one of"},
		{"short secret", map[string]string{"AUTH_JWT_SECRET": "short-secret-value"}, "at least 32 characters"},
		{"plain jwks", map[string]string{"AUTH_JWT_SECRET": "", "AUTH_JWKS_URL": "http://example.com/jwks"}, "AUTH_JWKS_URL must be an https URL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Load(env(tc.overrides))
			if err == nil {
				t.Fatalf("Load accepted the environment, want an error mentioning %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
			for _, secret := range []string{"pw-secret", "pusher-secret-value", "0123456789abcdef", "short-secret-value"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q echoes a secret", err)
				}
			}
		})
	}
}

func TestLoadAllowsPlainTextOnlyToLoopback(t *testing.T) {
	for _, host := range []string{"127.0.0.1:6001", "localhost:6001", "[::1]:6001"} {
		c, err := config.Load(env(map[string]string{"PUSHER_HOST": host, "PUSHER_USE_TLS": "false", "PUSHER_CLUSTER": ""}))
		if err != nil {
			t.Fatalf("host %s: %v", host, err)
		}
		if c.Pusher.UseTLS {
			t.Errorf("host %s: UseTLS = true, want false", host)
		}
	}
}

func TestLoadWithRealtimeDisabledNeedsNoPusher(t *testing.T) {
	c, err := config.Load(env(map[string]string{"REALTIME_DISABLED": "true", "PUSHER_APP_ID": "", "PUSHER_KEY": "", "PUSHER_SECRET": "", "PUSHER_CLUSTER": ""}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !c.Pusher.Disabled {
		t.Errorf("Disabled = false, want true")
	}
}

func TestLoadReadsCORSOrigins(t *testing.T) {
	c, err := config.Load(env(map[string]string{"CORS_ALLOWED_ORIGINS": "https://a.example, https://b.example/"}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got, want := strings.Join(c.CORSAllowedOrigins, " "), "https://a.example https://b.example"; got != want {
		t.Errorf("origins = %q, want %q", got, want)
	}
}

func TestAbuseLimitsHaveDefaultsAndNameTheirVariable(t *testing.T) {
	c, err := config.Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.RoomCreateLimit != config.DefaultRoomCreateLimit || c.RoomAddLimit != config.DefaultRoomAddLimit ||
		c.TypingRateLimit != config.DefaultTypingRateLimit || c.RoomMaxMembers != config.DefaultRoomMaxMembers {
		t.Errorf("defaults = %v %v %v %d", c.RoomCreateLimit, c.RoomAddLimit, c.TypingRateLimit, c.RoomMaxMembers)
	}
	if !c.RoomCreateLimit.Enabled() || !c.RoomAddLimit.Enabled() || !c.TypingRateLimit.Enabled() || c.RoomMaxMembers <= 0 {
		t.Errorf("a default limit is off")
	}
	off, err := config.Load(env(map[string]string{"ROOM_CREATE_LIMIT": "off", "ROOM_ADD_LIMIT": "off", "TYPING_RATE_LIMIT": "off", "ROOM_MAX_MEMBERS": "off"}))
	if err != nil {
		t.Fatal(err)
	}
	if off.RoomCreateLimit.Enabled() || off.RoomAddLimit.Enabled() || off.TypingRateLimit.Enabled() || off.RoomMaxMembers != 0 {
		t.Errorf("off left a limit on: %+v", off)
	}
	set, err := config.Load(env(map[string]string{"ROOM_CREATE_LIMIT": "3/1m", "ROOM_MAX_MEMBERS": "12"}))
	if err != nil || set.RoomCreateLimit.Count != 3 || set.RoomCreateLimit.Per.Minutes() != 1 || set.RoomMaxMembers != 12 {
		t.Errorf("set = %+v, %v", set, err)
	}
	for name, bad := range map[string]string{"ROOM_CREATE_LIMIT": "5", "ROOM_ADD_LIMIT": "x/1h", "TYPING_RATE_LIMIT": "-1/1s", "ROOM_MAX_MEMBERS": "-3"} {
		if _, err := config.Load(env(map[string]string{name: bad})); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%q: err = %v, want one naming the variable", name, bad, err)
		}
	}
}
