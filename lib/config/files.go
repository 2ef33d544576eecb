package config

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/chatwire/chatwire/lib/chat"
)

// loadFiles reads STORAGE_* and ATTACHMENT_*. Storage is all or nothing:
// setting any of its variables asks for files, and then every required one
// must be there.
func loadFiles(getenv func(string) string, problem func(string, ...any)) (Storage, int64, []string) {
	s := Storage{
		Endpoint:        strings.TrimSuffix(strings.TrimSpace(getenv("STORAGE_ENDPOINT")), "/"),
		Region:          strings.TrimSpace(getenv("STORAGE_REGION")),
		Bucket:          strings.TrimSpace(getenv("STORAGE_BUCKET")),
		AccessKeyID:     strings.TrimSpace(getenv("STORAGE_ACCESS_KEY_ID")),
		SecretAccessKey: getenv("STORAGE_SECRET_ACCESS_KEY"),
	}
	pathStyle, err := parseBool(getenv("STORAGE_FORCE_PATH_STYLE"), false)
	if err != nil {
		problem("STORAGE_FORCE_PATH_STYLE %v", err)
	}
	s.ForcePathStyle = pathStyle
	required := []struct{ name, value string }{
		{"STORAGE_ENDPOINT", s.Endpoint}, {"STORAGE_BUCKET", s.Bucket},
		{"STORAGE_ACCESS_KEY_ID", s.AccessKeyID}, {"STORAGE_SECRET_ACCESS_KEY", s.SecretAccessKey},
	}
	anySet := s.Region != ""
	for _, v := range required {
		anySet = anySet || v.value != ""
	}
	if anySet {
		for _, v := range required {
			if v.value == "" {
				problem("%s is required when storage is configured (files need STORAGE_ENDPOINT, STORAGE_BUCKET, STORAGE_ACCESS_KEY_ID and STORAGE_SECRET_ACCESS_KEY)", v.name)
			}
		}
		if s.Endpoint != "" {
			u, err := url.Parse(s.Endpoint)
			if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Host))) {
				problem("STORAGE_ENDPOINT must be an https URL (http only for a loopback host)")
			}
		}
	} else {
		s = Storage{}
	}

	maxBytes := int64(chat.DefaultAttachmentMaxBytes)
	if v := strings.TrimSpace(getenv("ATTACHMENT_MAX_BYTES")); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		// S3 takes at most 5 GiB in one PUT.
		if err != nil || n <= 0 || n > 5<<30 {
			problem("ATTACHMENT_MAX_BYTES must be a number of bytes from 1 to 5368709120")
		} else {
			maxBytes = n
		}
	}
	var types []string
	for _, t := range strings.Split(getenv("ATTACHMENT_TYPES"), ",") {
		t = strings.ToLower(strings.TrimSpace(t))
		if t == "" {
			continue
		}
		if major, minor, ok := strings.Cut(t, "/"); !ok || major == "" || minor == "" || major == "*" {
			problem("ATTACHMENT_TYPES must list content types such as image/png or image/*, separated by commas")
			break
		}
		types = append(types, t)
	}
	if len(types) == 0 {
		types = chat.DefaultAttachmentTypes
	}
	return s, maxBytes, types
}
