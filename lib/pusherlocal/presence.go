package pusherlocal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
)

// presenceMember is who a socket is on a presence channel, as the app's auth
// endpoint signed it in channel_data.
type presenceMember struct {
	UserID   string
	UserInfo json.RawMessage // null when the app gave none
}

// member is one user on a presence channel. Several sockets of one user (two
// tabs) are one member; it leaves when its last socket does.
type member struct {
	info    json.RawMessage
	sockets int
}

// parsePresenceMember reads channel_data: {"user_id": "...", "user_info": {...}}.
// Pusher accepts a numeric user_id too and treats it as a string.
func parsePresenceMember(channelData string) (presenceMember, error) {
	if channelData == "" {
		return presenceMember{}, errors.New("presence channels need channel_data with a user_id")
	}
	var d struct {
		UserID   json.RawMessage `json:"user_id"`
		UserInfo json.RawMessage `json:"user_info"`
	}
	if err := json.Unmarshal([]byte(channelData), &d); err != nil {
		return presenceMember{}, fmt.Errorf("channel_data is not a JSON object: %w", err)
	}
	id, err := userIDString(d.UserID)
	if err != nil {
		return presenceMember{}, err
	}
	info := d.UserInfo
	if len(info) == 0 {
		info = json.RawMessage(`null`)
	}
	return presenceMember{UserID: id, UserInfo: info}, nil
}

func userIDString(raw json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		if s == "" {
			return "", errors.New("channel_data user_id is empty")
		}
		return s, nil
	}
	var n json.Number
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&n); err == nil {
		if _, err := strconv.ParseFloat(n.String(), 64); err == nil {
			return n.String(), nil
		}
	}
	return "", errors.New("channel_data user_id must be a non-empty string or a number")
}

// presenceSnapshot is the data of subscription_succeeded on a presence
// channel: {"presence":{"ids":[...],"hash":{id:info},"count":n}}.
func presenceSnapshot(members map[string]*member) json.RawMessage {
	ids := make([]string, 0, len(members))
	hash := make(map[string]json.RawMessage, len(members))
	for id, m := range members {
		ids = append(ids, id)
		hash[id] = m.info
	}
	sort.Strings(ids)
	type presence struct {
		IDs   []string                   `json:"ids"`
		Hash  map[string]json.RawMessage `json:"hash"`
		Count int                        `json:"count"`
	}
	return stringData(map[string]presence{"presence": {IDs: ids, Hash: hash, Count: len(ids)}})
}

func memberAddedData(userID string, info json.RawMessage) json.RawMessage {
	return stringData(struct {
		UserID   string          `json:"user_id"`
		UserInfo json.RawMessage `json:"user_info"`
	}{userID, info})
}

func memberRemovedData(userID string) json.RawMessage {
	return stringData(map[string]string{"user_id": userID})
}
