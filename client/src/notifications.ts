// Browser notifications for `message-notification` events, and the server's
// notification preferences. A notification is never shown for a chat the
// user has open: they are looking at it already.

import { Api } from './api.js';
import type { ChatTarget, MessageNotification, NotificationPreferences } from './types.js';

/** The part of the browser's Notification API the client uses (injectable for tests). */
export interface NotificationApi {
  readonly permission: NotificationPermission;
  requestPermission(): Promise<NotificationPermission>;
  new (title: string, options: { body: string; tag: string }): NotificationHandle;
}

export interface NotificationHandle {
  onclick: ((this: unknown, event: Event) => unknown) | null;
  close(): void;
}

export interface NotificationOptions {
  /** The Notification API; default `globalThis.Notification`, `null` to never show one. */
  api?: NotificationApi | null;
  /** Called when the user clicks a notification, with the chat to open. */
  onNavigate?: (chat: ChatTarget) => void;
  /** Called for every notification not suppressed, shown or not (for in-app toasts). */
  onNotification?: (notification: MessageNotification) => void;
}

const remembered = 500;

export class Notifier {
  private readonly seen = new Set<string>();
  private readonly api: NotificationApi | null;

  constructor(
    private readonly http: Api,
    private readonly options: NotificationOptions,
    private readonly isOpen: (channel: string) => boolean,
  ) {
    this.api = options.api !== undefined ? options.api : defaultNotificationApi();
  }

  /** The browser's permission, or `denied` where there is no Notification API. */
  get permission(): NotificationPermission {
    return this.api?.permission ?? 'denied';
  }

  /** requestPermission must run from a user gesture (a click) in most browsers. */
  async requestPermission(): Promise<NotificationPermission> {
    return this.api ? this.api.requestPermission() : 'denied';
  }

  getPreferences(): Promise<NotificationPreferences> {
    return this.http.get<NotificationPreferences>('/api/notifications/preferences');
  }

  setPreferences(preferences: NotificationPreferences): Promise<NotificationPreferences> {
    return this.http.put<NotificationPreferences>('/api/notifications/preferences', preferences);
  }

  /** handle shows a notification once per message (Pusher and poll may both deliver it). */
  handle(notification: MessageNotification): void {
    if (this.seen.has(notification.message_id)) return;
    this.seen.add(notification.message_id);
    if (this.seen.size > remembered) this.seen.delete(this.seen.values().next().value as string);
    if (this.isOpen(notification.channel)) return;
    this.options.onNotification?.(notification);
    if (!this.api || this.api.permission !== 'granted') return;
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

function defaultNotificationApi(): NotificationApi | null {
  const api = (globalThis as { Notification?: NotificationApi }).Notification;
  return api ?? null;
}
