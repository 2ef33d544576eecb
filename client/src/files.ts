// File messages: chatwire hands out a presigned PUT (POST /api/attachments),
// the browser uploads the bytes straight to the bucket with progress, and the
// message is then sent through the offline queue with the attachment's id.

import { ChatwireError, type Api } from './api.js';
import type { Attachment, Clock } from './types.js';

/** What POST /api/attachments answers. */
export interface UploadGrant {
  attachment: { id: string; name: string; size: number; content_type: string };
  upload: { method: string; url: string; headers: Record<string, string>; expires_at: string };
}

export interface UploadProgress {
  loaded: number;
  total: number;
}

/** Uploads a file with a presigned request; rejects with a ChatwireError. */
export type Uploader = (
  request: UploadGrant['upload'],
  file: Blob,
  onProgress: (progress: UploadProgress) => void,
) => Promise<void>;

/** A file as `<input type=file>` gives it; any Blob with a name will do. */
export type FileLike = Blob & { readonly name?: string };

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

/** How many times an upload is tried when the network or the storage fails. */
const uploadAttempts = 3;

/**
 * xhrUploader PUTs the file with XMLHttpRequest, whose upload events give
 * progress (fetch has none); without XMLHttpRequest (Node) it uses fetch.
 */
export const xhrUploader: Uploader = (request, file, onProgress) => {
  const XHR = (globalThis as { XMLHttpRequest?: typeof XMLHttpRequest }).XMLHttpRequest;
  if (!XHR) return fetchUpload(request, file, onProgress);
  return new Promise<void>((resolve, reject) => {
    const xhr = new XHR();
    xhr.open(request.method, request.url);
    for (const [name, value] of Object.entries(request.headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (e) => onProgress({ loaded: e.loaded, total: e.lengthComputable ? e.total : file.size });
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve();
      else reject(uploadError(xhr.status));
    };
    xhr.onerror = () => reject(new ChatwireError(0, 'upload_failed', 'upload: the storage could not be reached'));
    xhr.onabort = () => reject(new ChatwireError(0, 'upload_aborted', 'upload: aborted'));
    xhr.send(file);
  });
};

async function fetchUpload(request: UploadGrant['upload'], file: Blob, onProgress: (p: UploadProgress) => void): Promise<void> {
  let res: Response;
  try {
    res = await globalThis.fetch(request.url, { method: request.method, headers: request.headers, body: file });
  } catch (err) {
    throw new ChatwireError(0, 'upload_failed', `upload: ${err instanceof Error ? err.message : String(err)}`);
  }
  await res.text().catch(() => '');
  if (!res.ok) throw uploadError(res.status);
  onProgress({ loaded: file.size, total: file.size });
}

function uploadError(status: number): ChatwireError {
  return new ChatwireError(status, 'upload_failed', `upload: the storage answered HTTP ${status}`);
}

/**
 * uploadFile asks chatwire for an upload and PUTs the file, retrying the PUT
 * (same URL, same object) when the network or the storage fails. It returns
 * the attachment to send, as a pending message shows it.
 */
export async function uploadFile(
  api: Api,
  uploader: Uploader,
  clock: Clock,
  file: FileLike,
  onProgress: (progress: UploadProgress) => void = () => {},
): Promise<Attachment & { id: string }> {
  const grant = await api.post<UploadGrant>('/api/attachments', {
    name: file.name || 'file',
    size: file.size,
    content_type: file.type || 'application/octet-stream',
  });
  for (let attempt = 1; ; attempt++) {
    try {
      await uploader(grant.upload, file, onProgress);
      break;
    } catch (err) {
      const error = err instanceof ChatwireError ? err : new ChatwireError(0, 'upload_failed', String(err));
      if (!error.retryable || attempt >= uploadAttempts) throw error;
      await new Promise<void>((resolve) => clock.setTimeout(resolve, 1000 * attempt));
    }
  }
  // No url yet: the send answer brings a signed one.
  return { ...grant.attachment, url: '' };
}
