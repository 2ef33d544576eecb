// @chatwire/client: the framework-free core. React hooks: @chatwire/client/react.
export { createClient, defaultTimings } from './client.js';
export { Chat, channelOf, compareMessages, mergeMessage } from './chat.js';
export { Conversations } from './conversations.js';
export { versionOf } from './versions.js';
export { ChatwireError } from './api.js';
export { uploadFile, xhrUploader } from './files.js';
export { enc, chatChannel, roomChannel, userChannel, presenceChannel } from './channels.js';
export { memoryStorage, newClientId } from './queue.js';
