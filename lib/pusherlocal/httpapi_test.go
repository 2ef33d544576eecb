package pusherlocal_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pusher/pusher-http-go/v5"
)

func TestTriggerMultiReachesEveryChannel(t *testing.T) {
	srv := startServer(t, nil)
	a, b := dial(t, srv), dial(t, srv)
	a.subscribe(t, "alpha", "", "")
	b.subscribe(t, "beta", "", "")

	if err := apiClient(srv).TriggerMulti([]string{"alpha", "beta", "gamma"}, "tick", "1"); err != nil {
		t.Fatalf("TriggerMulti: %v", err)
	}
	if got, want := a.expect(t, "tick").Channel, "alpha"; got != want {
		t.Fatalf("channel = %q, want %q", got, want)
	}
	if got, want := b.expect(t, "tick").Channel, "beta"; got != want {
		t.Fatalf("channel = %q, want %q", got, want)
	}
}

func TestTriggerExclusiveSkipsTheSendersSocket(t *testing.T) {
	srv := startServer(t, nil)
	sender, other := dial(t, srv), dial(t, srv)
	sender.subscribe(t, "room", "", "")
	other.subscribe(t, "room", "", "")

	if err := apiClient(srv).TriggerExclusive("room", "said", "x", sender.socketID); err != nil {
		t.Fatalf("TriggerExclusive: %v", err)
	}
	other.expect(t, "said")
	sender.expectNothing(t, 100*time.Millisecond)
}

func TestTriggerBatchDeliversEachEvent(t *testing.T) {
	srv := startServer(t, nil)
	client := apiClient(srv)
	s := dial(t, srv)
	s.subscribe(t, "one", "", "")
	s.subscribeAuthorized(t, client, "presence-two", &pusher.MemberData{UserID: "u1"})

	info := "user_count"
	got, err := client.TriggerBatch([]pusher.Event{
		{Channel: "one", Name: "first", Data: "a"},
		{Channel: "presence-two", Name: "second", Data: "b", Info: &info},
	})
	if err != nil {
		t.Fatalf("TriggerBatch: %v", err)
	}
	if len(got.Batch) != 2 || got.Batch[1].UserCount == nil || *got.Batch[1].UserCount != 1 {
		t.Fatalf("batch answer = %+v, want user_count 1 for the presence event", got.Batch)
	}
	s.expect(t, "first")
	s.expect(t, "second")
}

func TestTriggerRefusesWhatPusherRefuses(t *testing.T) {
	srv := startServer(t, nil)
	tests := []struct {
		name   string
		body   string
		status int
	}{
		{"invalid JSON", `{`, http.StatusBadRequest},
		{"no name", `{"channels":["a"],"data":"x"}`, http.StatusBadRequest},
		{"name too long", `{"name":"` + strings.Repeat("n", 201) + `","channels":["a"],"data":"x"}`, http.StatusBadRequest},
		{"no channels", `{"name":"e","data":"x"}`, http.StatusBadRequest},
		{"101 channels", `{"name":"e","channels":[` + strings.TrimSuffix(strings.Repeat(`"c",`, 101), ",") + `],"data":"x"}`, http.StatusBadRequest},
		{"invalid channel", `{"name":"e","channels":["a b"],"data":"x"}`, http.StatusBadRequest},
		{"data over 10 KB", `{"name":"e","channels":["a"],"data":"` + strings.Repeat("d", 10*1024+1) + `"}`, http.StatusRequestEntityTooLarge},
		{"invalid socket_id", `{"name":"e","channels":["a"],"data":"x","socket_id":"abc"}`, http.StatusBadRequest},
		{"user_count on a public channel", `{"name":"e","channels":["a"],"data":"x","info":"user_count"}`, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := signedRequest(t, srv.Addr(), http.MethodPost, "/apps/"+testAppID+"/events", nil, []byte(tt.body), signing{})
			if got, want := resp.StatusCode, tt.status; got != want {
				t.Fatalf("status = %d, want %d", got, want)
			}
		})
	}
}

func TestTriggerBatchRefusesMoreThanTenEvents(t *testing.T) {
	srv := startServer(t, nil)
	batch := make([]pusher.Event, 11)
	for i := range batch {
		batch[i] = pusher.Event{Channel: "c", Name: "e", Data: "x"}
	}
	_, err := apiClient(srv).TriggerBatch(batch)
	if err == nil || !strings.Contains(err.Error(), "400") {
		t.Fatalf("TriggerBatch of 11: err = %v, want a 400", err)
	}
}

func TestChannelQueries(t *testing.T) {
	srv := startServer(t, nil)
	client := apiClient(srv)
	for _, user := range []string{"u1", "u2"} {
		dial(t, srv).subscribeAuthorized(t, client, "presence-lobby", &pusher.MemberData{UserID: user})
	}
	dial(t, srv).subscribeAuthorized(t, client, "presence-lobby", &pusher.MemberData{UserID: "u2"})
	dial(t, srv).subscribe(t, "public-a", "", "")

	prefix, info := "presence-", "user_count"
	list, err := client.Channels(pusher.ChannelsParams{FilterByPrefix: &prefix, Info: &info})
	if err != nil {
		t.Fatalf("Channels: %v", err)
	}
	if got, want := len(list.Channels), 1; got != want {
		t.Fatalf("channels = %v, want %d", list.Channels, want)
	}
	if got, want := list.Channels["presence-lobby"].UserCount, 2; got != want {
		t.Fatalf("user_count = %d, want %d", got, want)
	}

	all, err := client.Channels(pusher.ChannelsParams{})
	if err != nil {
		t.Fatalf("Channels: %v", err)
	}
	if got, want := len(all.Channels), 2; got != want {
		t.Fatalf("all channels = %v, want %d", all.Channels, want)
	}

	attrs := "user_count,subscription_count"
	ch, err := client.Channel("presence-lobby", pusher.ChannelParams{Info: &attrs})
	if err != nil {
		t.Fatalf("Channel: %v", err)
	}
	if !ch.Occupied || ch.UserCount != 2 || ch.SubscriptionCount != 3 {
		t.Fatalf("channel = %+v, want occupied with 2 users and 3 subscriptions", ch)
	}

	empty, err := client.Channel("nobody-here", pusher.ChannelParams{})
	if err != nil {
		t.Fatalf("Channel: %v", err)
	}
	if empty.Occupied {
		t.Fatalf("channel without subscribers reported occupied")
	}

	users, err := client.GetChannelUsers("presence-lobby")
	if err != nil {
		t.Fatalf("GetChannelUsers: %v", err)
	}
	if got, want := fmt.Sprint(users.List), "[{u1} {u2}]"; got != want {
		t.Fatalf("users = %s, want %s", got, want)
	}
	if _, err := client.GetChannelUsers("public-a"); err == nil {
		t.Fatalf("GetChannelUsers on a public channel succeeded, want 400")
	}
	if _, err := client.Channels(pusher.ChannelsParams{Info: &info}); err == nil {
		t.Fatalf("user_count without a presence- prefix succeeded, want 400")
	}
}

func TestRequestSignatureIsChecked(t *testing.T) {
	srv := startServer(t, nil)
	body := []byte(`{"name":"e","channels":["c"],"data":"x"}`)
	path := "/apps/" + testAppID + "/events"
	tests := []struct {
		name   string
		sign   signing
		status int
	}{
		{"correctly signed", signing{}, http.StatusOK},
		{"tampered signature", signing{tamperSignature: true}, http.StatusUnauthorized},
		{"stale timestamp", signing{timestamp: time.Now().Add(-601 * time.Second)}, http.StatusUnauthorized},
		{"future timestamp", signing{timestamp: time.Now().Add(601 * time.Second)}, http.StatusUnauthorized},
		{"wrong body_md5", signing{bodyMD5: "0123456789abcdef0123456789abcdef"}, http.StatusUnauthorized},
		{"missing body_md5", signing{omitBodyMD5: true}, http.StatusUnauthorized},
		{"wrong key", signing{key: "other-key"}, http.StatusUnauthorized},
		{"wrong secret", signing{secret: "other-secret"}, http.StatusUnauthorized},
		{"wrong auth_version", signing{version: "2.0"}, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := signedRequest(t, srv.Addr(), http.MethodPost, path, nil, body, tt.sign)
			if got, want := resp.StatusCode, tt.status; got != want {
				t.Fatalf("status = %d, want %d", got, want)
			}
		})
	}

	t.Run("query parameters are part of the signature", func(t *testing.T) {
		resp := signedRequest(t, srv.Addr(), http.MethodGet, "/apps/"+testAppID+"/channels",
			url.Values{"filter_by_prefix": {"presence-"}}, nil, signing{changeQueryAfterSigning: true})
		if got, want := resp.StatusCode, http.StatusUnauthorized; got != want {
			t.Fatalf("status = %d, want %d", got, want)
		}
	})
	t.Run("unknown app", func(t *testing.T) {
		resp := signedRequest(t, srv.Addr(), http.MethodGet, "/apps/other-app/channels", nil, nil, signing{})
		if got, want := resp.StatusCode, http.StatusNotFound; got != want {
			t.Fatalf("status = %d, want %d", got, want)
		}
	})
}

// signing describes how a test signs, or mis-signs, an HTTP API request.
// Its zero value signs correctly, as Pusher's libraries do.
type signing struct {
	key, secret, version, bodyMD5 string
	timestamp                     time.Time
	omitBodyMD5                   bool
	tamperSignature               bool
	changeQueryAfterSigning       bool
}

// signedRequest is an independent implementation of Pusher's request
// signing, so that the server is not only checked against pusher-http-go.
func signedRequest(t *testing.T, addr, method, path string, query url.Values, body []byte, s signing) *http.Response {
	t.Helper()
	params := url.Values{}
	for k, v := range query {
		params[k] = v
	}
	params.Set("auth_key", or(s.key, testKey))
	ts := s.timestamp
	if ts.IsZero() {
		ts = time.Now()
	}
	params.Set("auth_timestamp", strconv.FormatInt(ts.Unix(), 10))
	params.Set("auth_version", or(s.version, "1.0"))
	if len(body) > 0 && !s.omitBodyMD5 {
		sum := md5.Sum(body)
		params.Set("body_md5", or(s.bodyMD5, hex.EncodeToString(sum[:])))
	}
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	pairs := make([]string, len(keys))
	for i, k := range keys {
		pairs[i] = k + "=" + params.Get(k)
	}
	mac := hmac.New(sha256.New, []byte(or(s.secret, testSecret)))
	mac.Write([]byte(method + "\n" + path + "\n" + strings.Join(pairs, "&")))
	signature := hex.EncodeToString(mac.Sum(nil))
	if s.tamperSignature {
		signature = strings.Repeat("0", len(signature)-1) + "1"
	}
	params.Set("auth_signature", signature)
	if s.changeQueryAfterSigning {
		params.Set("filter_by_prefix", "private-")
	}

	req, err := http.NewRequest(method, "http://"+addr+path+"?"+params.Encode(), bytes.NewReader(body))
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func or(s, fallback string) string {
	if s != "" {
		return s
	}
	return fallback
}
