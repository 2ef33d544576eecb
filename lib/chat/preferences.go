package chat

// PreferenceStore is the persistence of the notification-preferences work of issue 4; it grows with it.
type PreferenceStore interface{}
