// Browser notifications for `message-notification` events, and the server's
// notification preferences. A notification is never shown for a chat the
// user has open: they are looking at it already.
const remembered = 500;
export class Notifier {
    constructor(http, options, isOpen) {
        this.http = http;
        this.options = options;
        this.isOpen = isOpen;
        this.seen = new Set();
        this.api = options.api !== undefined ? options.api : defaultNotificationApi();
    }
    /** The browser's permission, or `denied` where there is no Notification API. */
    get permission() {
        return this.api?.permission ?? 'denied';
    }
    /** requestPermission must run from a user gesture (a click) in most browsers. */
    async requestPermission() {
        return this.api ? this.api.requestPermission() : 'denied';
    }
    getPreferences() {
        return this.http.get('/api/notifications/preferences');
    }
    setPreferences(preferences) {
        return this.http.put('/api/notifications/preferences', preferences);
    }
    /** handle shows a notification once per message (Pusher and poll may both deliver it). */
    handle(notification) {
        if (this.seen.has(notification.message_id))
            return;
        this.seen.add(notification.message_id);
        if (this.seen.size > remembered)
            this.seen.delete(this.seen.values().next().value);
        if (this.isOpen(notification.channel))
            return;
        this.options.onNotification?.(notification);
        if (!this.api || this.api.permission !== 'granted')
            return;
        const shown = new this.api(notification.sender.name, {
            body: notification.preview,
            tag: notification.message_id,
        });
        shown.onclick = () => {
            globalThis.focus?.();
            // Notifications are sent for 1:1 messages only, so the chat is with the sender.
            this.options.onNavigate?.({ with: notification.sender.id });
            shown.close();
        };
    }
}
function defaultNotificationApi() {
    const api = globalThis.Notification;
    return api ?? null;
}
