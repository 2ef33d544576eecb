// File messages: chatwire hands out a presigned PUT (POST /api/attachments),
// the browser uploads the bytes straight to the bucket with progress, and the
// message is then sent through the offline queue with the attachment's id.
import { ChatwireError } from './api.js';
/** How many times an upload is tried when the network or the storage fails. */
const uploadAttempts = 3;
/**
 * xhrUploader PUTs the file with XMLHttpRequest, whose upload events give
 * progress (fetch has none); without XMLHttpRequest (Node) it uses fetch.
 */
export const xhrUploader = (request, file, onProgress) => {
    const XHR = globalThis.XMLHttpRequest;
    if (!XHR)
        return fetchUpload(request, file, onProgress);
    return new Promise((resolve, reject) => {
        const xhr = new XHR();
        xhr.open(request.method, request.url);
        for (const [name, value] of Object.entries(request.headers))
            xhr.setRequestHeader(name, value);
        xhr.upload.onprogress = (e) => onProgress({ loaded: e.loaded, total: e.lengthComputable ? e.total : file.size });
        xhr.onload = () => {
            if (xhr.status >= 200 && xhr.status < 300)
                resolve();
            else
                reject(uploadError(xhr.status));
        };
        xhr.onerror = () => reject(new ChatwireError(0, 'upload_failed', 'upload: the storage could not be reached'));
        xhr.onabort = () => reject(new ChatwireError(0, 'upload_aborted', 'upload: aborted'));
        xhr.send(file);
    });
};
async function fetchUpload(request, file, onProgress) {
    let res;
    try {
        res = await globalThis.fetch(request.url, { method: request.method, headers: request.headers, body: file });
    }
    catch (err) {
        throw new ChatwireError(0, 'upload_failed', `upload: ${err instanceof Error ? err.message : String(err)}`);
    }
    await res.text().catch(() => '');
    if (!res.ok)
        throw uploadError(res.status);
    onProgress({ loaded: file.size, total: file.size });
}
function uploadError(status) {
    return new ChatwireError(status, 'upload_failed', `upload: the storage answered HTTP ${status}`);
}
/**
 * uploadFile asks chatwire for an upload and PUTs the file, retrying the PUT
 * (same URL, same object) when the network or the storage fails. It returns
 * the attachment to send, as a pending message shows it.
 */
export async function uploadFile(api, uploader, clock, file, onProgress = () => { }) {
    const grant = await api.post('/api/attachments', {
        name: file.name || 'file',
        size: file.size,
        content_type: file.type || 'application/octet-stream',
    });
    for (let attempt = 1;; attempt++) {
        try {
            await uploader(grant.upload, file, onProgress);
            break;
        }
        catch (err) {
            const error = err instanceof ChatwireError ? err : new ChatwireError(0, 'upload_failed', String(err));
            if (!error.retryable || attempt >= uploadAttempts)
                throw error;
            await new Promise((resolve) => clock.setTimeout(resolve, 1000 * attempt));
        }
    }
    // No url yet: the send answer brings a signed one.
    return { ...grant.attachment, url: '' };
}
