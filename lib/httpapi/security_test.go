package httpapi_test

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/chatwire/chatwire/lib/chat"
	"github.com/chatwire/chatwire/lib/config"
	"github.com/chatwire/chatwire/lib/dbtest"
	"github.com/chatwire/chatwire/lib/httpapi"
	"github.com/chatwire/chatwire/lib/store"
)

// claims builds a token's claims: a valid one for sub unless changed.
func claims(t *testing.T, sub string, edit func(jwt.Token)) jwt.Token {
	t.Helper()
	now := time.Now()
	tok, err := jwt.NewBuilder().Subject(sub).IssuedAt(now).NotBefore(now).Expiration(now.Add(time.Hour)).Build()
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(tok)
	}
	return tok
}

func set(name string, v any) func(jwt.Token) {
	return func(tok jwt.Token) { _ = tok.Set(name, v) }
}

func signHS(t *testing.T, secret []byte, alg jwa.SignatureAlgorithm, tok jwt.Token) string {
	t.Helper()
	signed, err := jwt.Sign(tok, jwt.WithKey(alg, secret))
	if err != nil {
		t.Fatal(err)
	}
	return string(signed)
}

// unsigned writes a token with alg "none" by hand: jwx refuses to.
func unsigned(t *testing.T, tok jwt.Token) string {
	t.Helper()
	payload, err := json.Marshal(tok)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc(payload) + "."
}

// forge swaps a signed token's payload for another, keeping its header and
// signature.
func forge(signed string, payload map[string]any) string {
	parts := strings.Split(signed, ".")
	raw, _ := json.Marshal(payload)
	return parts[0] + "." + base64.RawURLEncoding.EncodeToString(raw) + "." + parts[2]
}

// protectedRoutes lists one request per method of every route that takes a
// user's JWT, so a token case is tried against the whole surface.
func protectedRoutes() [][2]string {
	var out [][2]string
	for _, rt := range httpapi.Routes() {
		if rt.Public {
			continue
		}
		for _, m := range rt.AllowedMethods() {
			out = append(out, [2]string{m, rt.Path})
		}
	}
	return out
}

// expectRefusedEverywhere sends the Authorization header to every protected
// route and wants 401 unauthorized, no echo of the token, never a 5xx.
func expectRefusedEverywhere(t *testing.T, a *app, authorization string) {
	t.Helper()
	for _, route := range protectedRoutes() {
		var body any
		if route[0] != "GET" {
			body = map[string]any{"to": "bob", "body": "x"}
		}
		res := a.do(route[0], route[1], "", body, "Authorization", authorization)
		if res.status != http.StatusUnauthorized {
			t.Errorf("%s %s: status %d, want 401; body %s", route[0], route[1], res.status, res.raw)
			continue
		}
		if got := res.field("error", "code"); got != "unauthorized" {
			t.Errorf("%s %s: code %v, want unauthorized", route[0], route[1], got)
		}
		if tok := strings.TrimPrefix(authorization, "Bearer "); len(tok) > 20 && strings.Contains(string(res.raw), tok[len(tok)-20:]) {
			t.Errorf("%s %s: the answer echoes the token", route[0], route[1])
		}
	}
}

// The HS256 app (Supabase's legacy secret) configured with an issuer and an
// audience, against every way a token can be wrong, on every protected route.
func TestJWTAttacksAreRefusedWith401OnEveryRoute(t *testing.T) {
	const iss, aud = "https://auth.chatwire.test", "chatwire"
	r := newRelApp(t, relOptions{env: map[string]string{"AUTH_ISSUER": iss, "AUTH_AUDIENCE": aud}})
	secret := []byte(jwtSecret)
	valid := func(edit ...func(jwt.Token)) jwt.Token {
		return claims(t, "alice", func(tok jwt.Token) {
			_ = tok.Set(jwt.IssuerKey, iss)
			_ = tok.Set(jwt.AudienceKey, []string{aud})
			for _, e := range edit {
				e(tok)
			}
		})
	}
	// The control: the same construction, unaltered, is accepted.
	good := signHS(t, secret, jwa.HS256, valid())
	r.do("GET", "/api/rooms", "", nil, "Authorization", "Bearer "+good).expect(t, http.StatusOK)

	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rs256, err := jwt.Sign(valid(), jwt.WithKey(jwa.RS256, rsaKey))
	if err != nil {
		t.Fatal(err)
	}
	var payload map[string]any
	raw, _ := json.Marshal(valid())
	_ = json.Unmarshal(raw, &payload)
	payload["sub"] = "admin"

	cases := []struct{ name, authorization string }{
		{"alg none", "Bearer " + unsigned(t, valid())},
		{"alg none, upper case", "Bearer " + strings.Replace(unsigned(t, valid()), base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)), base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"NONE","typ":"JWT"}`)), 1)},
		{"signed with another app's secret", "Bearer " + signHS(t, []byte("another-apps-secret-0123456789abcdef-0123"), jwa.HS256, valid())},
		{"HS512 with the right secret", "Bearer " + signHS(t, secret, jwa.HS512, valid())},
		{"RS256 where HS256 is configured", "Bearer " + string(rs256)},
		{"payload swapped under a valid signature", "Bearer " + forge(good, payload)},
		{"signature stripped", "Bearer " + good[:strings.LastIndex(good, ".")+1]},
		{"expired", "Bearer " + signHS(t, secret, jwa.HS256, valid(set(jwt.ExpirationKey, time.Now().Add(-time.Hour))))},
		{"expired beyond the leeway", "Bearer " + signHS(t, secret, jwa.HS256, valid(set(jwt.ExpirationKey, time.Now().Add(-2*time.Minute))))},
		{"not valid before a future nbf", "Bearer " + signHS(t, secret, jwa.HS256, valid(set(jwt.NotBeforeKey, time.Now().Add(time.Hour))))},
		{"issued in the future", "Bearer " + signHS(t, secret, jwa.HS256, valid(set(jwt.IssuedAtKey, time.Now().Add(time.Hour))))},
		{"no exp", "Bearer " + signHS(t, secret, jwa.HS256, claims(t, "alice", func(tok jwt.Token) {
			_ = tok.Set(jwt.IssuerKey, iss)
			_ = tok.Set(jwt.AudienceKey, []string{aud})
			_ = tok.Remove(jwt.ExpirationKey)
		}))},
		{"wrong issuer", "Bearer " + signHS(t, secret, jwa.HS256, valid(set(jwt.IssuerKey, "https://evil.test")))},
		{"no issuer", "Bearer " + signHS(t, secret, jwa.HS256, valid(func(tok jwt.Token) { _ = tok.Remove(jwt.IssuerKey) }))},
		{"wrong audience", "Bearer " + signHS(t, secret, jwa.HS256, valid(set(jwt.AudienceKey, []string{"another-app"})))},
		{"no subject", "Bearer " + signHS(t, secret, jwa.HS256, valid(func(tok jwt.Token) { _ = tok.Remove(jwt.SubjectKey) }))},
		{"oversized", "Bearer " + signHS(t, secret, jwa.HS256, valid(set("pad", strings.Repeat("x", 9<<10))))},
		{"oversized garbage", "Bearer " + strings.Repeat("A", 64<<10)},
		{"not a JWT", "Bearer not-a-jwt"},
		{"two dots only", "Bearer .."},
		{"bad base64", "Bearer @@@.@@@.@@@"},
		{"JSON array header", "Bearer " + base64.RawURLEncoding.EncodeToString([]byte(`[]`)) + ".e30.x"},
		{"empty bearer", "Bearer "},
		{"basic scheme", "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:pw"))},
		{"token without a scheme", good},
		{"two tokens", "Bearer " + good + " " + good},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { expectRefusedEverywhere(t, r.app, tc.authorization) })
	}
	var users int
	if err := r.pool.QueryRow(t.Context(), `SELECT count(*) FROM users WHERE id = 'admin'`).Scan(&users); err != nil {
		t.Fatal(err)
	}
	if users != 0 {
		t.Errorf("a forged token created user admin")
	}
}

// The JWKS app (Supabase asymmetric keys, Clerk, Auth0): only tokens signed
// by a published key with an asymmetric algorithm pass.
func TestJWKSAttacksAreRefusedWith401(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	private, err := jwk.FromRaw(key)
	if err != nil {
		t.Fatal(err)
	}
	_ = private.Set(jwk.KeyIDKey, "k1")
	_ = private.Set(jwk.AlgorithmKey, jwa.RS256)
	public, err := jwk.PublicKeyOf(private)
	if err != nil {
		t.Fatal(err)
	}
	set := jwk.NewSet()
	_ = set.AddKey(public)
	jwks, _ := json.Marshal(set)
	fetches := 0
	var mu sync.Mutex
	keys := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		fetches++
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(jwks)
	}))
	t.Cleanup(keys.Close)
	r := newRelApp(t, relOptions{env: map[string]string{"AUTH_JWT_SECRET": "", "AUTH_JWKS_URL": keys.URL + "/.well-known/jwks.json"}})

	sign := func(k jwk.Key, alg jwa.SignatureAlgorithm, tok jwt.Token) string {
		t.Helper()
		signed, err := jwt.Sign(tok, jwt.WithKey(alg, k))
		if err != nil {
			t.Fatal(err)
		}
		return string(signed)
	}
	withKid := func(raw any, kid string) jwk.Key {
		t.Helper()
		k, err := jwk.FromRaw(raw)
		if err != nil {
			t.Fatal(err)
		}
		_ = k.Set(jwk.KeyIDKey, kid)
		return k
	}
	good := sign(private, jwa.RS256, claims(t, "alice", nil))
	r.do("GET", "/api/rooms", "", nil, "Authorization", "Bearer "+good).expect(t, http.StatusOK)

	// Algorithm confusion: an HMAC whose secret is the public key as
	// published (its PEM and its JWK JSON), the classic forgery.
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	publicPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	publicJSON, _ := json.Marshal(public)
	confused := func(secret []byte) string {
		k := withKid(secret, "k1")
		return sign(k, jwa.HS256, claims(t, "alice", nil))
	}
	cases := []struct{ name, token string }{
		{"unknown kid", sign(withKid(other, "k2"), jwa.RS256, claims(t, "alice", nil))},
		{"known kid, another key", sign(withKid(other, "k1"), jwa.RS256, claims(t, "alice", nil))},
		{"HS256 keyed with the public key PEM", confused(publicPEM)},
		{"HS256 keyed with the public JWK", confused(publicJSON)},
		{"HS256 keyed with the modulus", confused(key.PublicKey.N.Bytes())},
		{"alg none with the right kid", unsigned(t, claims(t, "alice", nil))},
		{"expired", sign(private, jwa.RS256, claims(t, "alice", set2(jwt.ExpirationKey, time.Now().Add(-time.Hour))))},
		{"future nbf", sign(private, jwa.RS256, claims(t, "alice", set2(jwt.NotBeforeKey, time.Now().Add(time.Hour))))},
		{"PS256 with the RS256 key", sign(private, jwa.PS256, claims(t, "alice", nil))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { expectRefusedEverywhere(t, r.app, "Bearer "+tc.token) })
	}
	mu.Lock()
	defer mu.Unlock()
	// Unknown kids refetch at most once per 10 s: a flood of them must not
	// turn chatwire into a proxy hammering the identity provider.
	if fetches > 3 {
		t.Errorf("the JWKS was fetched %d times for %d cases, want a rate-limited refetch", fetches, len(cases))
	}
}

func set2(name string, v any) func(jwt.Token) { return set(name, v) }

// pusherSignature is what Pusher's servers compute for a private channel.
func pusherSignature(signed string) string {
	mac := hmac.New(sha256.New, []byte(pusherSecret))
	mac.Write([]byte(signed))
	return pusherKey + ":" + hex.EncodeToString(mac.Sum(nil))
}

// Every channel kind against its owner, the other participant, a stranger
// and a former member, plus names and socket ids an attacker would forge.
func TestChannelAuthorizationIsCompleteAndTableDriven(t *testing.T) {
	r := newRelApp(t, relOptions{})
	room := r.do("POST", "/api/rooms", "alice", map[string]any{"name": "Ops", "visibility": "public"}).expect(t, http.StatusCreated).field("room", "id").(string)
	r.do("POST", "/api/rooms/join", "bob", map[string]any{"room_id": room}).expect(t, http.StatusOK)
	r.do("POST", "/api/rooms/join", "carol", map[string]any{"room_id": room}).expect(t, http.StatusOK)
	r.do("POST", "/api/rooms/leave", "carol", map[string]any{"room_id": room}).expect(t, http.StatusOK)
	roomCh := "private-room-" + room

	const ok, bad, no = http.StatusOK, http.StatusBadRequest, http.StatusForbidden
	cases := []struct {
		user, channel, socket string
		status                int
	}{
		// 1:1 chats
		{"alice", "private-chat-alice-bob", "", ok},
		{"bob", "private-chat-alice-bob", "", ok},
		{"carol", "private-chat-alice-bob", "", no},
		{"alice", "private-chat-bob-alice", "", no}, // not canonical
		{"auth0|64f1", "private-chat-alice-auth0=7C64f1", "", ok},
		{"auth0|64f1", "private-chat-alice-auth0|64f1", "", no}, // not encoded
		{"alice", "private-chat-alice-b=6F=62", "", no},         // over-encoded "bob"
		{"alice", "private-chat-alice-", "", no},
		{"alice", "private-chat--alice", "", no},
		{"alice", "private-chat-alice", "", no},
		{"alice", "private-chat-alice-bob-carol", "", no},
		{"alice", "presence-chat-alice-bob", "", no},
		{"alice", "private-encrypted-chat-alice-bob", "", no},
		// rooms
		{"alice", roomCh, "", ok}, // creator
		{"bob", roomCh, "", ok},   // member
		{"carol", roomCh, "", no}, // former member
		{"dave", roomCh, "", no},  // stranger
		{"alice", "private-room-00000000000000000000000000000000", "", no}, // no such room
		{"alice", "private-room-", "", no},
		{"alice", "presence-room-" + room, "", no},
		// a user's own channels
		{"bob", "private-user-bob", "", ok},
		{"alice", "private-user-bob", "", no},
		{"bob", "presence-user-bob", "", ok},
		{"alice", "presence-user-bob", "", no},
		{"Bob", "private-user-bob", "", no}, // ids are case-sensitive
		{"bob", "private-user-", "", no},
		// not chatwire's channels at all
		{"alice", "public-channel", "", no},
		{"alice", "private-", "", no},
		{"alice", "#server-to-user-alice", "", no},
		{"alice", "private-user-alice\x00", "", no},
		{"alice", "private-user-alice\n", "", no},
		{"alice", "private-user-al ice", "", no},
		{"alice", "private-user-ålice", "", no},
		// over-long names
		{"alice", "private-chat-alice-" + strings.Repeat("b", 146), "", no}, // 165 characters
		{"alice", "private-user-" + strings.Repeat("a", 4000), "", no},
		{"alice", "private-user-" + strings.Repeat("a", 9000), "", http.StatusRequestEntityTooLarge},
		// forged socket ids
		{"alice", "private-user-alice", "abc", bad},
		{"alice", "private-user-alice", "-1.2", bad},
		{"alice", "private-user-alice", "1.-2", bad},
		{"alice", "private-user-alice", "1", bad},
		{"alice", "private-user-alice", "1.2.3", bad},
		{"alice", "private-user-alice", "1.2:private-user-bob", bad},
		{"alice", "private-user-alice", "1.2\n", bad},
		{"alice", "private-user-alice", " 1.2", bad},
		{"alice", "private-user-alice", "１.２", bad},
		{"alice", "private-user-alice", strings.Repeat("9", 21) + ".1", bad},
		{"alice", "private-user-alice", strings.Repeat("9", 20) + "." + strings.Repeat("9", 20), ok},
	}
	for _, tc := range cases {
		name := fmt.Sprintf("%s %.40q %.24q", tc.user, tc.channel, tc.socket)
		t.Run(name, func(t *testing.T) {
			socket := tc.socket
			if socket == "" {
				socket = "123.456"
			}
			res := r.do("POST", "/api/pusher/auth", tc.user, url.Values{"socket_id": {socket}, "channel_name": {tc.channel}}).expect(t, tc.status)
			if tc.status != ok {
				if res.body["auth"] != nil {
					t.Errorf("a refusal carries a signature: %s", res.raw)
				}
				return
			}
			signed := socket + ":" + tc.channel
			if cd, ok := res.body["channel_data"].(string); ok {
				signed += ":" + cd
			}
			if got, want := res.body["auth"], pusherSignature(signed); got != want {
				t.Errorf("auth = %v, want the signature of exactly %q", got, socket+":"+tc.channel)
			}
		})
	}
	// Extra or repeated form fields never widen what is signed.
	form := "socket_id=1.2&channel_name=private-user-alice&channel_name=private-user-bob&socket_id=3.4"
	res := r.do("POST", "/api/pusher/auth", "alice", form, "Content-Type", "application/x-www-form-urlencoded").expect(t, ok)
	if got, want := res.body["auth"], pusherSignature("1.2:private-user-alice"); got != want {
		t.Errorf("repeated fields: auth = %v, want the first pair's signature", got)
	}
}

// Pusher webhooks: refused unless signed with this app's key and secret, and
// a replayed, correctly signed body never moves a status backwards.
func TestPusherWebhookSignaturesAndReplays(t *testing.T) {
	r := newRelApp(t, relOptions{})
	r.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "body": "hi"}).expect(t, http.StatusCreated)
	bob := r.subscriber("bob")
	bob.subscribe("private-user-bob")
	t0 := time.Now().Truncate(time.Millisecond)
	online := fmt.Sprintf(`{"time_ms":%d,"events":[{"name":"channel_occupied","channel":"presence-user-alice"}]}`, t0.UnixMilli())
	offline := fmt.Sprintf(`{"time_ms":%d,"events":[{"name":"channel_vacated","channel":"presence-user-alice"}]}`, t0.Add(time.Second).UnixMilli())

	refused := []struct {
		name    string
		headers []string
	}{
		{"no signature", []string{"X-Pusher-Key", pusherKey}},
		{"no key", []string{"X-Pusher-Signature", sign(pusherSecret, []byte(online))}},
		{"empty signature", []string{"X-Pusher-Key", pusherKey, "X-Pusher-Signature", ""}},
		{"signed with another secret", []string{"X-Pusher-Key", pusherKey, "X-Pusher-Signature", sign("another-app-secret", []byte(online))}},
		{"signed with the JWT secret", []string{"X-Pusher-Key", pusherKey, "X-Pusher-Signature", sign(jwtSecret, []byte(online))}},
		{"another app's key", []string{"X-Pusher-Key", "another-key", "X-Pusher-Signature", sign(pusherSecret, []byte(online))}},
		{"signature truncated", []string{"X-Pusher-Key", pusherKey, "X-Pusher-Signature", sign(pusherSecret, []byte(online))[:32]}},
		{"signature of the body without its last byte", []string{"X-Pusher-Key", pusherKey, "X-Pusher-Signature", sign(pusherSecret, []byte(online[:len(online)-1]))}},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			res := r.do("POST", "/api/pusher/webhook", "", online, tc.headers...).expect(t, http.StatusUnauthorized)
			if got := res.field("error", "code"); got != "unauthorized" {
				t.Errorf("code = %v, want unauthorized", got)
			}
		})
	}
	bob.expectNoEvent("user-status-change", 200*time.Millisecond)

	post := func(body string) response {
		t.Helper()
		return r.do("POST", "/api/pusher/webhook", "", body, "X-Pusher-Key", pusherKey, "X-Pusher-Signature", sign(pusherSecret, []byte(body))).expect(t, http.StatusOK)
	}
	post(online)
	bob.expectEvent("user-status-change", "private-user-bob")
	post(offline)
	bob.expectEvent("user-status-change", "private-user-bob")
	// The attacker (or Pusher's retry) replays the older, validly signed body.
	for range 3 {
		if got := post(online).field("changed"); got != float64(0) {
			t.Errorf("a replayed webhook changed %v users, want 0", got)
		}
	}
	bob.expectNoEvent("user-status-change", 300*time.Millisecond)
	users := r.do("GET", "/api/presence?user_ids=alice", "bob", nil).expect(t, http.StatusOK).field("users").([]any)
	if got := users[0].(map[string]any)["online"]; got != false {
		t.Errorf("alice online = %v after a replay, want false", got)
	}
	// A validly signed webhook naming a user id Postgres cannot store.
	nul := fmt.Sprintf(`{"time_ms":%d,"events":[{"name":"channel_occupied","channel":"presence-user-a=00"}]}`, t0.UnixMilli())
	if res := r.do("POST", "/api/pusher/webhook", "", nul, "X-Pusher-Key", pusherKey, "X-Pusher-Signature", sign(pusherSecret, []byte(nul))); res.status >= 500 {
		t.Errorf("webhook for presence-user-a=00: %d %s", res.status, res.raw)
	}
}

// fieldOf returns the error's fields.
func fieldsOf(res response) map[string]any {
	f, _ := res.field("error", "fields").(map[string]any)
	return f
}

// Hostile bodies: nothing gets a 5xx, nothing is half-written, text that
// Postgres cannot store is a 400 naming the field, and SQL or HTML is stored
// verbatim and returned JSON-escaped.
func TestHostileBodies(t *testing.T) {
	r := newRelApp(t, relOptions{env: map[string]string{"SEND_RATE_LIMIT": "off"}})
	room := r.do("POST", "/api/rooms", "alice", map[string]any{"name": "Ops"}).expect(t, http.StatusCreated).field("room", "id").(string)
	nested := strings.Repeat("[", 10000) + strings.Repeat("]", 10000)
	deeper := strings.Repeat(`{"a":`, 100000) + "1" + strings.Repeat("}", 100000)

	cases := []struct {
		name, method, path, body string
		status                   int
		field                    string // named in error.fields, when set
	}{
		{"nested 10,000 levels as the body", "POST", "/api/messages/send", nested, 400, ""},
		{"nested 10,000 levels in an unknown field", "POST", "/api/messages/send", `{"to":"bob","body":"x","extra":` + nested + `}`, 400, ""},
		{"nested 10,000 levels in attachment", "POST", "/api/messages/send", `{"to":"bob","body":"x","attachment":` + nested + `}`, 400, ""},
		{"nested 100,000 objects", "POST", "/api/messages/send", deeper, 413, ""},
		{"oversized", "POST", "/api/messages/send", `{"to":"bob","body":"` + strings.Repeat("a", 257<<10) + `"}`, 413, ""},
		{"NUL in body", "POST", "/api/messages/send", `{"to":"bob","body":"a\u0000b"}`, 400, "body"},
		{"NUL in to", "POST", "/api/messages/send", `{"to":"b\u0000ob","body":"x"}`, 400, "to"},
		{"NUL in room_id", "POST", "/api/messages/send", `{"room_id":"r\u0000","body":"x"}`, 400, "room_id"},
		{"NUL in client_id", "POST", "/api/messages/send", `{"to":"bob","body":"x","client_id":"a\u0000"}`, 400, "client_id"},
		{"NUL in attachment name", "POST", "/api/messages/send", `{"to":"bob","attachment":{"url":"https://x.test/a","name":"a\u0000"}}`, 400, "attachment.name"},
		{"NUL in attachment url", "POST", "/api/messages/send", `{"to":"bob","attachment":{"url":"https://x.test/\u0000"}}`, 400, "attachment.url"},
		{"raw NUL byte", "POST", "/api/messages/send", "{\"to\":\"bob\",\"body\":\"a\x00b\"}", 400, ""},
		{"NUL in room name", "POST", "/api/rooms", `{"name":"a\u0000"}`, 400, "name"},
		{"NUL in join room_id", "POST", "/api/rooms/join", `{"room_id":"` + room + `\u0000"}`, 400, "room_id"},
		{"NUL in join user_id", "POST", "/api/rooms/join", `{"room_id":"` + room + `","user_id":"b\u0000"}`, 400, "user_id"},
		{"NUL in leave room_id", "POST", "/api/rooms/leave", `{"room_id":"\u0000"}`, 400, "room_id"},
		{"NUL in typing to (never stored)", "POST", "/api/typing", `{"to":"b\u0000","typing":false}`, anyClientAnswer, ""},
		{"NUL in read with", "POST", "/api/messages/read", `{"with":"b\u0000"}`, 400, "with"},
		{"NUL in read ids", "POST", "/api/messages/read", `{"message_ids":["\u0000"]}`, 400, "message_ids"},
		{"NUL in muted channel", "PUT", "/api/notifications/preferences", `{"enabled":true,"muted_channels":["\u0000"]}`, 400, "muted_channels"},
		{"NUL in history with", "GET", "/api/messages/history?with=b%00", "", 400, "with"},
		{"NUL in history room_id", "GET", "/api/messages/history?room_id=%00", "", 400, "room_id"},
		{"NUL in history before", "GET", "/api/messages/history?with=bob&before=%00", "", 400, "before"},
		{"NUL in poll cursor", "GET", "/api/messages/poll?cursor=%00", "", 400, "cursor"},
		{"NUL in presence ids", "GET", "/api/presence?user_ids=a%00", "", 400, "user_ids"},
		{"invalid UTF-8 in the query", "GET", "/api/messages/history?with=%ff%fe", "", 400, "with"},
		{"lone surrogate escape", "POST", "/api/messages/send", `{"to":"bob","body":"\ud800"}`, 400, "body"},
		{"invalid UTF-8 bytes in body", "POST", "/api/messages/send", "{\"to\":\"bob\",\"body\":\"a\xff\xfeb\"}", 400, "body"},
		{"invalid UTF-8 bytes in a key", "POST", "/api/messages/send", "{\"to\":\"bob\",\"body\":\"x\",\"\xff\":1}", 400, ""},
		{"invalid UTF-8 bytes in an unknown field", "POST", "/api/messages/send", "{\"to\":\"bob\",\"body\":\"x\",\"extra\":\"\xff\"}", 400, "extra"},
		{"body of only invisible spaces", "POST", "/api/messages/send", `{"to":"bob","body":"\u00a0\u2003\t\n"}`, 400, "body"},
		{"number where a string goes", "POST", "/api/messages/send", `{"to":1e999,"body":"x"}`, 400, ""},
		{"duplicate keys", "POST", "/api/messages/send", `{"to":"bob","to":"carol","body":"dup"}`, 400, "to"},
		{"duplicate and case-variant keys", "POST", "/api/messages/send", `{"to":"carol","to":"bob","TO":"dave","body":"dup"}`, 400, "to"},
		{"a key in another case", "POST", "/api/messages/send", `{"TO":"dave","body":"case"}`, 400, "to"},
		{"duplicate keys in attachment", "POST", "/api/messages/send", `{"to":"bob","attachment":{"url":"https://x.test/a","url":"https://x.test/b"}}`, 400, "attachment.url"},
		{"duplicate read ids key", "POST", "/api/messages/read", `{"with":"bob","with":"carol"}`, 400, "with"},
		{"trailing data", "POST", "/api/messages/send", `{"to":"bob","body":"x"} {"to":"carol"}`, 400, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var body any
			if tc.body != "" {
				body = tc.body
			}
			res := r.do(tc.method, tc.path, "alice", body)
			if tc.status == anyClientAnswer && res.status < 500 {
				return
			}
			if res.status != tc.status {
				t.Fatalf("status = %d, want %d; body %.300s", res.status, tc.status, res.raw)
			}
			if tc.field != "" && !namesField(fieldsOf(res), tc.field) {
				t.Errorf("fields = %v, want %q named", fieldsOf(res), tc.field)
			}
			if tc.status == 201 {
				if b := sprint(res.field("message", "body")); !utf8Valid(b) {
					t.Errorf("stored body is not valid UTF-8: %q", b)
				}
			}
		})
	}
	if strings.Contains(r.logs.String(), `"level":"ERROR"`) {
		t.Errorf("hostile input logged an internal error:\n%s", r.logs.String())
	}

	// A validly signed token can carry hostile claims too: the identity
	// provider is trusted with the signature, not with the bytes.
	for name, tok := range map[string]string{
		"NUL in sub":          signHS(t, []byte(jwtSecret), jwa.HS256, claims(t, "eve\x00", nil)),
		"NUL in name":         signHS(t, []byte(jwtSecret), jwa.HS256, claims(t, "eve", set("name", "E\x00ve"))),
		"invalid UTF-8 sub":   signHS(t, []byte(jwtSecret), jwa.HS256, claims(t, "eve\xff", nil)),
		"a 4,000-byte sub":    signHS(t, []byte(jwtSecret), jwa.HS256, claims(t, strings.Repeat("e", 4000), nil)),
		"a 6,000-byte name":   signHS(t, []byte(jwtSecret), jwa.HS256, claims(t, "eve", set("name", strings.Repeat("é", 3000)))),
		"sub that is SQL":     signHS(t, []byte(jwtSecret), jwa.HS256, claims(t, "x'); DROP TABLE users; --", nil)),
		"name that is markup": signHS(t, []byte(jwtSecret), jwa.HS256, claims(t, "eve", set("name", "<b>Eve</b>"))),
	} {
		for _, path := range []string{"/api/messages/send", "/api/typing"} {
			res := r.do("POST", path, "", map[string]any{"to": "bob", "body": "x", "typing": true}, "Authorization", "Bearer "+tok)
			if res.status >= 500 {
				t.Errorf("token with %s on %s: status %d %s", name, path, res.status, res.raw)
			}
		}
	}
	// A sub no row or channel can hold is refused at the verifier, on every
	// route, before it reaches Postgres (issue 11, point 7).
	for name, tok := range map[string]string{
		"NUL in sub":       signHS(t, []byte(jwtSecret), jwa.HS256, claims(t, "eve\x00", nil)),
		"U+FFFD in sub":    signHS(t, []byte(jwtSecret), jwa.HS256, claims(t, "eve\xff", nil)),
		"a 256-byte sub":   signHS(t, []byte(jwtSecret), jwa.HS256, claims(t, strings.Repeat("e", 256), nil)),
		"a 4,000-byte sub": signHS(t, []byte(jwtSecret), jwa.HS256, claims(t, strings.Repeat("e", 4000), nil)),
	} {
		for _, req := range []struct{ method, path string }{
			{"POST", "/api/messages/send"}, {"PUT", "/api/notifications/preferences"}, {"GET", "/api/notifications/preferences"},
			{"GET", "/api/messages/poll"}, {"POST", "/api/typing"},
		} {
			var body any
			if req.method != "GET" {
				body = map[string]any{"to": "bob", "body": "x", "typing": true, "enabled": true, "muted_channels": []string{}}
			}
			if res := r.do(req.method, req.path, "", body, "Authorization", "Bearer "+tok); res.status != http.StatusUnauthorized {
				t.Errorf("token with %s on %s %s: status %d %s, want 401", name, req.method, req.path, res.status, res.raw)
			}
		}
	}

	// SQL and HTML: stored verbatim, returned JSON-escaped, never run.
	payloads := []string{
		`'; DROP TABLE messages; --`,
		`" OR 1=1; SELECT pg_sleep(10); --`,
		`<script>alert(document.cookie)</script>`,
		`<img src=x onerror=alert(1)>&amp;`,
		`{{7*7}} ${7*7} %s%n`,
		"\u202eevil\u202c",
	}
	for _, p := range payloads {
		res := r.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "body": p}).expect(t, http.StatusCreated)
		if got := res.field("message", "body"); got != p {
			t.Errorf("body %q came back as %q", p, got)
		}
		if strings.ContainsAny(p, "<>&") && strings.ContainsAny(string(res.raw), "<>") {
			t.Errorf("the answer carries raw HTML: %s", res.raw)
		}
	}
	// A user id that is SQL is just an id.
	weird := `bob' OR '1'='1`
	res := r.do("POST", "/api/messages/send", "alice", map[string]any{"to": weird, "body": "x"}).expect(t, http.StatusCreated)
	if got, want := res.field("message", "channel"), "private-chat-alice-bob=27=20OR=20=271=27=3D=271"; got != want {
		t.Errorf("channel = %v, want %v", got, want)
	}
	hist := r.do("GET", "/api/messages/history?with=bob", "alice", nil).expect(t, http.StatusOK).field("messages").([]any)
	var bodies []string
	for _, m := range hist {
		bodies = append(bodies, sprint(m.(map[string]any)["body"]))
	}
	for _, p := range payloads {
		if !strings.Contains(strings.Join(bodies, "\x01"), p) {
			t.Errorf("history lost %q", p)
		}
	}
	var tables int
	if err := r.pool.QueryRow(t.Context(), `SELECT count(*) FROM pg_tables WHERE tablename = 'messages'`).Scan(&tables); err != nil || tables != 1 {
		t.Errorf("messages table: %d, %v", tables, err)
	}
}

// namesField reports whether the error names the field, itself, an element
// of it (message_ids[0]) or the object holding it (attachment for
// attachment.name).
func namesField(fields map[string]any, field string) bool {
	for name := range fields {
		if name == field || strings.HasPrefix(name, field+"[") || strings.HasPrefix(field, name+".") {
			return true
		}
	}
	return false
}

// anyClientAnswer accepts any status below 500.
const anyClientAnswer = -1

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

// Two instances (two Vercel functions, two pools) share one database, and so
// one budget per user: 5 sends per minute in all, whichever instance takes
// them, concurrent or not; 429 rate_limited with Retry-After, and a refused
// send stores nothing.
func TestSendRateLimitIsSharedAcrossInstances(t *testing.T) {
	pool1, dbURL := dbtest.NewPool(t)
	pool2, err := store.Open(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool2.Close)
	env := map[string]string{"SEND_RATE_LIMIT": "5/1m"}
	one := newRelApp(t, relOptions{pool: pool1, dbURL: dbURL, env: env})
	two := newRelApp(t, relOptions{pool: pool2, dbURL: dbURL, env: env})
	instances := []*relApp{one, two}

	for i := range 5 {
		instances[i%2].do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "body": fmt.Sprint(i)}).expect(t, http.StatusCreated)
	}
	for _, a := range instances {
		res := a.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "body": "one too many"}).expect(t, http.StatusTooManyRequests)
		if got := res.field("error", "code"); got != "rate_limited" {
			t.Errorf("code = %v, want rate_limited", got)
		}
		// One send refills in 12 s.
		if secs, err := strconv.Atoi(res.header.Get("Retry-After")); err != nil || secs < 1 || secs > 12 {
			t.Errorf("Retry-After = %q, want 1-12 seconds", res.header.Get("Retry-After"))
		}
	}
	// Other users have their own budget; other routes are not limited.
	two.do("POST", "/api/messages/send", "bob", map[string]any{"to": "alice", "body": "mine"}).expect(t, http.StatusCreated)
	one.do("POST", "/api/typing", "alice", map[string]any{"to": "bob", "typing": false}).expect(t, http.StatusOK)

	// Concurrent sends of a fresh user through both instances.
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		statuses = map[int]int{}
	)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := instances[i%2].do("POST", "/api/messages/send", "carol", map[string]any{"to": "bob", "body": fmt.Sprint(i)})
			mu.Lock()
			statuses[res.status]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if statuses[http.StatusCreated] != 5 || statuses[http.StatusTooManyRequests] != 11 {
		t.Errorf("16 concurrent sends answered %v, want 5 × 201 and 11 × 429", statuses)
	}
	var stored int
	if err := pool1.QueryRow(t.Context(), `SELECT count(*) FROM messages WHERE sender_id IN ('alice', 'carol')`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored != 10 {
		t.Errorf("%d messages stored, want 10: a refused send stores nothing", stored)
	}
}

func TestSendRateLimitConfiguration(t *testing.T) {
	for _, v := range []string{"abc", "5", "5/", "/1s", "-1/1s", "5/-1s", "5/0s", "x/1m"} {
		_, err := config.Load(func(k string) string {
			return map[string]string{"DATABASE_URL": "postgres://x@127.0.0.1/db", "AUTH_JWT_SECRET": jwtSecret, "REALTIME_DISABLED": "true", "SEND_RATE_LIMIT": v}[k]
		})
		if err == nil || !strings.Contains(err.Error(), "SEND_RATE_LIMIT") {
			t.Errorf("SEND_RATE_LIMIT=%q: err = %v, want one naming the variable", v, err)
		}
	}
	// "off" lifts the limit.
	r := newRelApp(t, relOptions{env: map[string]string{"SEND_RATE_LIMIT": "off"}})
	for i := range 25 {
		r.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "body": fmt.Sprint(i)}).expect(t, http.StatusCreated)
	}
	// The default is 20 per 10 s.
	cfg, err := config.Load(func(k string) string {
		return map[string]string{"DATABASE_URL": "postgres://x@127.0.0.1/db", "AUTH_JWT_SECRET": jwtSecret, "REALTIME_DISABLED": "true"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.SendRateLimit, (chat.RateLimit{Count: 20, Per: 10 * time.Second}); got != want {
		t.Errorf("default SEND_RATE_LIMIT = %v, want %v", got, want)
	}
	// A burst of the limit's count passes and the next send is refused. The
	// period is one no run can outlast (a token every 72 minutes), so a slow
	// machine cannot refill the bucket between the sends; with 20/10s a run
	// taking over half a second for 20 sends under -race once did.
	d := newRelApp(t, relOptions{env: map[string]string{"SEND_RATE_LIMIT": "20/24h"}})
	for i := range 20 {
		d.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "body": fmt.Sprint(i)}).expect(t, http.StatusCreated)
	}
	d.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "body": "21st"}).expect(t, http.StatusTooManyRequests)
}

// A full run through every route, with errors of every kind, and a database
// URL that carries a password: no secret, token or password may reach a log
// line. A second app whose database is down logs its connection errors.
func TestNoSecretInAnyLogLine(t *testing.T) {
	const dbPassword = "db-pa55word-7f3e9c"
	_, plainURL := dbtest.NewPool(t)
	u, _ := url.Parse(plainURL)
	u.User = url.UserPassword(u.User.Username(), dbPassword)
	pool, err := store.Open(t.Context(), u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	r := newRelApp(t, relOptions{pool: pool, dbURL: u.String(), chat: chat.Options{Outbox: chat.OutboxOptions{CronMinAge: time.Millisecond}}})

	alice, bob := token(t, "alice", "Alice"), token(t, "bob", "Bob")
	expired := expiredToken(t)
	r.do("GET", "/api/health", "", nil)
	msg := r.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "body": "hi", "client_id": "c1"}).expect(t, http.StatusCreated)
	r.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "body": "hi", "client_id": "c1"}).expect(t, http.StatusOK)
	r.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob"})
	r.do("POST", "/api/messages/send", "", map[string]any{"to": "bob", "body": "x"}, "Authorization", "Bearer "+expired)
	r.do("POST", "/api/messages/send", "", map[string]any{"to": "bob", "body": "x"}, "Authorization", "Bearer "+alice+"x")
	r.do("GET", "/api/messages/history?with=bob", "alice", nil)
	r.do("GET", "/api/messages/history?with=bob&before=nope", "alice", nil)
	r.do("GET", "/api/messages/poll", "bob", nil)
	r.do("GET", "/api/messages/poll?cursor=garbage", "bob", nil)
	r.do("POST", "/api/messages/read", "bob", map[string]any{"message_ids": []any{msg.field("message", "id")}})
	r.do("POST", "/api/messages/read", "alice", map[string]any{"message_ids": []any{msg.field("message", "id")}})
	r.do("POST", "/api/typing", "alice", map[string]any{"to": "bob", "typing": true})
	r.do("POST", "/api/pusher/auth", "bob", url.Values{"socket_id": {"1.2"}, "channel_name": {"private-user-bob"}})
	r.do("POST", "/api/pusher/auth", "bob", url.Values{"socket_id": {"1.2"}, "channel_name": {"private-user-alice"}})
	room := r.do("POST", "/api/rooms", "alice", map[string]any{"name": "Ops"}).field("room", "id")
	r.do("GET", "/api/rooms", "alice", nil)
	r.do("POST", "/api/rooms/join", "bob", map[string]any{"room_id": room})
	r.do("POST", "/api/rooms/leave", "bob", map[string]any{"room_id": room})
	r.do("POST", "/api/rooms/join", "bob", map[string]any{"room_id": "nope"})
	r.do("GET", "/api/notifications/preferences", "bob", nil)
	r.do("PUT", "/api/notifications/preferences", "bob", map[string]any{"enabled": true, "muted_channels": []string{}})
	r.do("GET", "/api/presence?user_ids=alice", "bob", nil)
	hook := `{"time_ms":1,"events":[{"name":"channel_occupied","channel":"presence-user-alice"}]}`
	r.do("POST", "/api/pusher/webhook", "", hook, "X-Pusher-Key", pusherKey, "X-Pusher-Signature", sign(pusherSecret, []byte(hook)))
	r.do("POST", "/api/pusher/webhook", "", hook, "X-Pusher-Key", pusherKey, "X-Pusher-Signature", sign(pusherSecret+"x", []byte(hook)))
	rec := r.insertLegacyMessage("bob", "alice", "legacy")
	r.dbWebhook(map[string]any{"type": "INSERT", "table": "messages", "schema": "public", "record": rec})
	r.do("POST", "/api/webhooks/database", "", map[string]any{"type": "INSERT"}, "Authorization", "Bearer "+dbWebhookSecret+"x")
	r.cron()
	r.do("GET", "/api/cron/outbox", "", nil, "Authorization", "Bearer "+cronSecret+"x")
	r.do("GET", "/api/nope", "alice", nil)
	r.do("DELETE", "/api/messages/send", "alice", nil)
	// Pusher down: publish failures are logged.
	r.outage()
	r.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "body": "during the outage"})
	r.do("POST", "/api/typing", "alice", map[string]any{"to": "bob", "typing": false})
	r.cron()
	r.do("GET", "/api/health", "", nil)

	// The database down: connection errors are logged.
	down := newRelApp(t, relOptions{pool: mustOpen(t, "postgres://postgres:"+dbPassword+"@127.0.0.1:1/x?sslmode=disable"), dbURL: u.String()})
	down.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "body": "x"}).expect(t, http.StatusServiceUnavailable)
	down.do("GET", "/api/messages/poll", "bob", nil).expect(t, http.StatusServiceUnavailable)
	down.do("GET", "/api/health", "", nil)

	for _, logs := range []string{r.logs.String(), down.logs.String()} {
		if !strings.Contains(logs, `"path":"/api/messages/send"`) {
			t.Fatalf("no access log captured:\n%s", logs)
		}
		secrets := map[string]string{
			"JWT secret": jwtSecret, "Pusher secret": pusherSecret, "webhook secret": dbWebhookSecret,
			"cron secret": cronSecret, "database password": dbPassword,
			"alice's token": alice, "bob's token": bob, "an expired token": expired,
			"a token's signature": alice[strings.LastIndex(alice, ".")+1:],
			"a token's payload":   strings.Split(bob, ".")[1],
		}
		for what, s := range secrets {
			if strings.Contains(logs, s) {
				t.Errorf("the logs contain %s", what)
			}
		}
	}
	if !strings.Contains(down.logs.String(), `"level":"WARN"`) {
		t.Errorf("the database outage was not logged:\n%s", down.logs.String())
	}
}

func mustOpen(t *testing.T, dbURL string) *pgxpool.Pool {
	t.Helper()
	pool, err := store.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}
