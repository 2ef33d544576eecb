package pusherlocal

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// hmacHex is the hex HMAC-SHA256 Pusher uses for channel authorization,
// HTTP API requests and webhooks.
func hmacHex(secret, message string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(message))
	return hex.EncodeToString(mac.Sum(nil))
}

// equalHexMAC compares a received hex signature with the expected one in
// constant time, so response timing reveals nothing about the secret.
func equalHexMAC(received, expected string) bool {
	got, err := hex.DecodeString(received)
	if err != nil {
		return false
	}
	want, err := hex.DecodeString(expected)
	if err != nil {
		return false
	}
	return hmac.Equal(got, want)
}

// channelAuthMessage is what an app signs to let socketID subscribe:
// "socket_id:channel", plus ":channel_data" for presence channels.
func channelAuthMessage(socketID, channel, channelData string, kind channelKind) string {
	if kind == presenceChannel {
		return socketID + ":" + channel + ":" + channelData
	}
	return socketID + ":" + channel
}

// verifyChannelAuth checks the "key:signature" string a client got from the
// app's auth endpoint.
func verifyChannelAuth(key, secret, auth, message string) bool {
	gotKey, signature, ok := strings.Cut(auth, ":")
	if !ok || gotKey != key {
		return false
	}
	return equalHexMAC(signature, hmacHex(secret, message))
}

func md5Hex(body []byte) string {
	sum := md5.Sum(body)
	return hex.EncodeToString(sum[:])
}
