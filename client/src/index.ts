// @chatwire/client: the framework-free core. React hooks: @chatwire/client/react.

export { createClient, defaultTimings } from './client.js';
export type {
  ChatwireClient,
  ClientOptions,
  ClientTimings,
  NotificationsApi,
  PresenceApi,
  PusherSettings,
  Watchable,
} from './client.js';
export { Chat, channelOf, compareMessages, mergeMessage } from './chat.js';
export type { ChatState, SendOptions } from './chat.js';
export { Conversations } from './conversations.js';
export type { ConversationsState } from './conversations.js';
export { versionOf } from './versions.js';
export { ChatwireError } from './api.js';
export { uploadFile, xhrUploader } from './files.js';
export type { FileLike, SendFileOptions, UploadGrant, UploadProgress, Uploader } from './files.js';
export type { FetchLike, TokenGetter } from './api.js';
export { enc, chatChannel, roomChannel, userChannel, presenceChannel } from './channels.js';
export { memoryStorage, newClientId } from './queue.js';
export type { QueuedMessage } from './queue.js';
export type { PresenceSnapshot } from './presence.js';
export type { NotificationApi, NotificationHandle, NotificationOptions } from './notifications.js';
export type { Unsubscribe } from './observable.js';
export type { TypingTimings } from './typing.js';
export type { ConnectionTimings } from './connection.js';
export type * from './types.js';
