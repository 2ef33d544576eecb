// sendFile: an upload request, a PUT with progress (retried on a storage
// failure), then one message through the offline queue, whatever fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChatwireError, type Message, type UploadGrant, type Uploader } from '@chatwire/client';
import { settle } from './fakes.js';
import { setup } from './setup.js';

const grant: UploadGrant = {
  attachment: { id: '5f0c8a57-3b59-4d1c-9a51-6c0b1f0f6e00', name: 'cat.png', size: 4, content_type: 'image/png' },
  upload: { method: 'PUT', url: 'https://storage.test/bucket/key?X-Amz-Signature=abc', headers: { 'Content-Type': 'image/png' }, expires_at: '2026-01-02T03:14:05.000Z' },
};

function recordingUploader(failures: ChatwireError[]): { upload: Uploader; calls: { url: string; size: number }[] } {
  const calls: { url: string; size: number }[] = [];
  const upload: Uploader = async (request, file, onProgress) => {
    calls.push({ url: request.url, size: file.size });
    onProgress({ loaded: 2, total: file.size });
    const failure = failures.shift();
    if (failure) throw failure;
    onProgress({ loaded: file.size, total: file.size });
  };
  return { upload, calls };
}

test('sendFile requests an upload, PUTs with progress, retries a failed PUT and a failed send, and stores one message', async () => {
  const { upload, calls } = recordingUploader([new ChatwireError(503, 'upload_failed', 'storage busy')]);
  const { client, clock, server } = await setup({ upload });
  server.overrides.push((request) => (request.path === '/api/attachments' ? { status: 201, body: grant } : undefined));
  server.failNext('/api/messages/send', 'network-error');
  const chat = client.openChat({ with: 'bob' });
  const progress: number[] = [];
  const file = new File([new Uint8Array([1, 2, 3, 4])], 'cat.png', { type: 'image/png' });

  let sent: Message | undefined;
  void chat.sendFile(file, { body: 'look', onProgress: (p) => progress.push(p.loaded) }).then((m) => (sent = m));
  await settle();
  assert.deepEqual(server.calls('POST', '/api/attachments').map((r) => r.body), [{ name: 'cat.png', size: 4, content_type: 'image/png' }]);
  assert.equal(calls.length, 1);
  await clock.advance(1000);
  assert.equal(calls.length, 2, 'the PUT is retried after a 5xx');
  assert.equal(calls[1].url, grant.upload.url, 'to the same presigned URL');
  assert.deepEqual(progress, [2, 2, 4]);

  // The first send gets no answer; the queue retries with the same client_id.
  const pending = chat.state.get().messages.filter((m) => m.status === 'pending');
  assert.equal(pending.length, 1);
  assert.equal(pending[0].attachment?.name, 'cat.png', 'the pending message shows the file');
  await clock.advance(5000);
  await settle();
  const sends = server.calls('POST', '/api/messages/send');
  assert.equal(sends.length, 2);
  for (const s of sends) {
    const body = s.body as { attachment: unknown; body: string; client_id: string };
    assert.deepEqual(body.attachment, { id: grant.attachment.id }, 'an upload is sent by its id alone');
    assert.equal(body.body, 'look');
  }
  assert.equal(new Set(sends.map((s) => (s.body as { client_id: string }).client_id)).size, 1);
  assert.equal(server.messages.length, 1);
  assert.ok(sent, 'sendFile resolved with the stored message');
  chat.close();
});

test('sendFile rejects, sending nothing, when the upload is refused or keeps failing', async () => {
  const { client, server } = await setup({ upload: recordingUploader([]).upload });
  server.failNext('/api/attachments', { status: 400, body: { error: { code: 'validation_failed', message: 'size', fields: { size: 'at most 10485760 bytes' } } } });
  const chat = client.openChat({ with: 'bob' });
  const big = new File([new Uint8Array(8)], 'big.bin', { type: 'application/zip' });
  await assert.rejects(chat.sendFile(big), (err: ChatwireError) => err.status === 400 && err.fields?.size !== undefined);

  const failing = recordingUploader([0, 1, 2].map(() => new ChatwireError(0, 'upload_failed', 'offline')));
  const second = await setup({ upload: failing.upload });
  second.server.overrides.push((request) => (request.path === '/api/attachments' ? { status: 201, body: grant } : undefined));
  const chat2 = second.client.openChat({ with: 'bob' });
  const result = chat2.sendFile(new File([new Uint8Array(4)], 'cat.png', { type: 'image/png' }));
  let error: ChatwireError | undefined;
  result.catch((e: ChatwireError) => (error = e));
  await second.clock.advance(10_000);
  assert.equal(failing.calls.length, 3, 'three attempts');
  assert.equal(error?.code, 'upload_failed');
  assert.equal(second.server.calls('POST', '/api/messages/send').length, 0);
  assert.equal(server.calls('POST', '/api/messages/send').length, 0);
  chat.close();
  chat2.close();
});
