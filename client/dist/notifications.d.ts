import { Api } from './api.js';
import type { ChatTarget, MessageNotification, NotificationPreferences } from './types.js';
/** The part of the browser's Notification API the client uses (injectable for tests). */
export interface NotificationApi {
    readonly permission: NotificationPermission;
    requestPermission(): Promise<NotificationPermission>;
    new (title: string, options: {
        body: string;
        tag: string;
    }): NotificationHandle;
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
export declare class Notifier {
    private readonly http;
    private readonly options;
    private readonly isOpen;
    private readonly seen;
    private readonly api;
    constructor(http: Api, options: NotificationOptions, isOpen: (channel: string) => boolean);
    /** The browser's permission, or `denied` where there is no Notification API. */
    get permission(): NotificationPermission;
    /** requestPermission must run from a user gesture (a click) in most browsers. */
    requestPermission(): Promise<NotificationPermission>;
    getPreferences(): Promise<NotificationPreferences>;
    setPreferences(preferences: NotificationPreferences): Promise<NotificationPreferences>;
    /** handle shows a notification once per message (Pusher and poll may both deliver it). */
    handle(notification: MessageNotification): void;
}
