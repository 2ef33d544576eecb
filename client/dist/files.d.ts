import { type Api } from './api.js';
import type { Attachment, Clock } from './types.js';
/** What POST /api/attachments answers. */
export interface UploadGrant {
    attachment: {
        id: string;
        name: string;
        size: number;
        content_type: string;
    };
    upload: {
        method: string;
        url: string;
        headers: Record<string, string>;
        expires_at: string;
    };
}
export interface UploadProgress {
    loaded: number;
    total: number;
}
/** Uploads a file with a presigned request; rejects with a ChatwireError. */
export type Uploader = (request: UploadGrant['upload'], file: Blob, onProgress: (progress: UploadProgress) => void) => Promise<void>;
/** A file as `<input type=file>` gives it; any Blob with a name will do. */
export type FileLike = Blob & {
    readonly name?: string;
};
export interface SendFileOptions {
    /** Text sent with the file. */
    body?: string;
    /**
     * The message's idempotency key; one is generated otherwise. Calling
     * sendFile again with the same key after a failure never sends a second
     * message: the server answers with the first one if it was stored.
     */
    clientId?: string;
    /** Called as bytes go out (XMLHttpRequest's upload progress). */
    onProgress?: (progress: UploadProgress) => void;
}
/**
 * xhrUploader PUTs the file with XMLHttpRequest, whose upload events give
 * progress (fetch has none); without XMLHttpRequest (Node) it uses fetch.
 */
export declare const xhrUploader: Uploader;
/**
 * uploadFile asks chatwire for an upload and PUTs the file, retrying the PUT
 * (same URL, same object) when the network or the storage fails. It returns
 * the attachment to send, as a pending message shows it.
 */
export declare function uploadFile(api: Api, uploader: Uploader, clock: Clock, file: FileLike, onProgress?: (progress: UploadProgress) => void): Promise<Attachment & {
    id: string;
}>;
