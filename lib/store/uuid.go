package store

// isUUID reports whether s is a UUID in the canonical 8-4-4-4-12 hex form, the
// only form chatwire hands out; checking it here turns a malformed id into a
// field error instead of a failed statement.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}
