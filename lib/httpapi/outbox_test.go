package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chatwire/chatwire/lib/chat"
)

func TestSecretRoutesRefuseWrongAndUnsetSecrets(t *testing.T) {
	f := newFaultApp(t, faultOptions{})
	unset := newApp(t) // neither DB_WEBHOOK_SECRET nor CRON_SECRET
	hook := map[string]any{"type": "INSERT", "table": "messages", "record": map[string]any{"id": "00000000-0000-0000-0000-000000000000"}}
	cases := []struct {
		name     string
		a        *app
		method   string
		path     string
		body     any
		headers  []string
		status   int
		variable string
	}{
		{"webhook without a secret", f.app, "POST", "/api/webhooks/database", hook, nil, 401, ""},
		{"webhook with the wrong secret", f.app, "POST", "/api/webhooks/database", hook, []string{"Authorization", "Bearer " + dbWebhookSecret + "x"}, 401, ""},
		{"webhook with the cron's secret", f.app, "POST", "/api/webhooks/database", hook, []string{"Authorization", "Bearer " + cronSecret}, 401, ""},
		{"webhook with the secret but no Bearer", f.app, "POST", "/api/webhooks/database", hook, []string{"Authorization", dbWebhookSecret}, 401, ""},
		{"cron with the wrong secret", f.app, "GET", "/api/cron/outbox", nil, []string{"Authorization", "Bearer nope"}, 401, ""},
		{"cron with a user's JWT", f.app, "GET", "/api/cron/outbox", nil, []string{"Authorization", "Bearer " + token(t, "alice", "Alice")}, 401, ""},
		{"webhook secret unset", unset, "POST", "/api/webhooks/database", hook, []string{"Authorization", "Bearer anything"}, 503, "DB_WEBHOOK_SECRET"},
		{"cron secret unset", unset, "GET", "/api/cron/outbox", nil, []string{"Authorization", "Bearer anything"}, 503, "CRON_SECRET"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := tc.a.do(tc.method, tc.path, "", tc.body, tc.headers...).expect(t, tc.status)
			msg := sprint(res.field("error", "message"))
			if !strings.Contains(msg, tc.variable) {
				t.Errorf("message %q does not name %s", msg, tc.variable)
			}
			if strings.Contains(string(res.raw), dbWebhookSecret) || strings.Contains(string(res.raw), cronSecret) {
				t.Errorf("the answer echoes a secret: %s", res.raw)
			}
		})
	}
}

func TestDatabaseWebhookValidatesTheRowNamingTheField(t *testing.T) {
	f := newFaultApp(t, faultOptions{})
	cases := []struct {
		name  string
		body  any
		field string
	}{
		{"unknown table", map[string]any{"type": "INSERT", "table": "users", "record": map[string]any{"id": "x"}}, "table"},
		{"no table", map[string]any{"type": "INSERT", "record": map[string]any{}}, "table"},
		{"unknown type", map[string]any{"type": "TRUNCATE", "table": "messages"}, "type"},
		{"no record", map[string]any{"type": "INSERT", "table": "messages", "record": nil}, "record"},
		{"message id not a UUID", map[string]any{"type": "INSERT", "table": "messages", "record": map[string]any{"id": "42"}}, "record.id"},
		{"record not an object", map[string]any{"type": "INSERT", "table": "messages", "record": []int{1}}, "record"},
		{"delete without old_record", map[string]any{"type": "DELETE", "table": "messages", "record": nil}, "old_record"},
		{"member without user", map[string]any{"type": "INSERT", "table": "room_members", "record": map[string]any{"room_id": "r"}}, "record.user_id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := f.dbWebhook(tc.body).expect(t, http.StatusBadRequest)
			fields, _ := res.field("error", "fields").(map[string]any)
			if _, ok := fields[tc.field]; !ok {
				t.Errorf("fields = %v, want %q named", fields, tc.field)
			}
		})
	}
	res := f.do("POST", "/api/webhooks/database", "", `{"type":`, "Authorization", "Bearer "+dbWebhookSecret).expect(t, http.StatusBadRequest)
	if got, want := res.field("error", "code"), "bad_request"; got != want {
		t.Errorf("malformed JSON: code = %v, want %v", got, want)
	}
}

func TestDatabaseWebhookRelaysReadsJoinsAndLeavesOfLegacyWriters(t *testing.T) {
	f := newFaultApp(t, faultOptions{})
	bob := f.subscriber("bob")
	bob.subscribe("private-chat-alice-bob")
	rec := f.insertLegacyMessage("alice", "bob", "hello")
	f.dbWebhook(map[string]any{"type": "INSERT", "table": "messages", "schema": "public", "record": rec}).expect(t, http.StatusOK)
	bob.expectEvent("new-message", "private-chat-alice-bob")

	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := f.pool.Exec(t.Context(), sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec(`UPDATE messages SET read_at = now() WHERE id = $1::uuid`, rec["id"])
	old := rec
	rec = map[string]any{}
	for k, v := range old {
		rec[k] = v
	}
	rec["read_at"] = time.Now().Format(time.RFC3339Nano)
	res := f.dbWebhook(map[string]any{"type": "UPDATE", "table": "messages", "schema": "public", "record": rec, "old_record": old}).expect(t, http.StatusOK)
	if got, want := res.field("published"), float64(1); got != want {
		t.Errorf("read: published = %v, want %v", got, want)
	}
	read := decodeData(t, bob.expectEvent("message-read", "private-chat-alice-bob"))
	if got, want := sprint(read["message_ids"]), "["+sprint(rec["id"])+"]"; got != want {
		t.Errorf("message_ids = %v, want %v", got, want)
	}

	exec(`INSERT INTO rooms (id, name, created_by) VALUES ('r1', 'Room', 'alice')`)
	exec(`INSERT INTO room_members (room_id, user_id) VALUES ('r1', 'alice')`)
	aliceRoom := f.subscriber("alice")
	aliceRoom.subscribe("private-room-r1")
	exec(`INSERT INTO room_members (room_id, user_id) VALUES ('r1', 'bob')`)
	member := map[string]any{"room_id": "r1", "user_id": "bob", "joined_at": time.Now().Format(time.RFC3339Nano)}
	res = f.dbWebhook(map[string]any{"type": "INSERT", "table": "room_members", "schema": "public", "record": member}).expect(t, http.StatusOK)
	if got, want := res.field("published"), float64(1); got != want {
		t.Errorf("join: published = %v, want %v (bob's join only, not alice's)", got, want)
	}
	if joined := decodeData(t, aliceRoom.expectEvent("user-joined", "private-room-r1")); joined["user_id"] != "bob" {
		t.Errorf("user-joined = %v, want bob", joined)
	}
	exec(`DELETE FROM room_members WHERE room_id = 'r1' AND user_id = 'bob'`)
	res = f.dbWebhook(map[string]any{"type": "DELETE", "table": "room_members", "schema": "public", "record": nil, "old_record": member}).expect(t, http.StatusOK)
	if got, want := res.field("published"), float64(1); got != want {
		t.Errorf("leave: published = %v, want %v", got, want)
	}
	aliceRoom.expectEvent("user-left", "private-room-r1")

	// A deleted message has no event in the v1 contract.
	res = f.dbWebhook(map[string]any{"type": "DELETE", "table": "messages", "schema": "public", "record": nil, "old_record": rec}).expect(t, http.StatusOK)
	if got, want := res.field("published"), float64(0); got != want {
		t.Errorf("delete: published = %v, want %v", got, want)
	}
}

func TestCronDeletesEventsPastTheRetentionAndCountsWhatRemains(t *testing.T) {
	f := newFaultApp(t, faultOptions{outbox: chat.OutboxOptions{CronMinAge: time.Hour}})
	if _, err := f.pool.Exec(t.Context(), `INSERT INTO events (channel, event, data, created_at)
SELECT 'private-user-bob', 'x', '{}', now() - interval '8 days' FROM generate_series(1, 3)`); err != nil {
		t.Fatal(err)
	}
	// Published long ago: no longer pending.
	if _, err := f.pool.Exec(t.Context(), `DELETE FROM events_pending`); err != nil {
		t.Fatal(err)
	}
	f.outage()
	f.do("POST", "/api/messages/send", "alice", map[string]any{"to": "bob", "body": "unpublished"}).expect(t, http.StatusCreated)
	f.recover()
	// The fresh events are younger than CronMinAge: left for their own function.
	res := f.cron().expect(t, http.StatusOK)
	if got, want := sprint(res.body), "map[deleted:3 files_removed:0 remaining:2 republished:0]"; got != want {
		t.Errorf("cron = %s, want %s", got, want)
	}
}
