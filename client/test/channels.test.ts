// enc and the channel names must match the Go side byte for byte: both are
// checked against lib/chat/testdata/channels.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { chatChannel, enc, presenceChannel, roomChannel, userChannel } from '@chatwire/client';

interface Vectors {
  enc: { id: string; enc: string }[];
  chat: { a: string; b: string; channel: string }[];
  room: { id: string; channel: string }[];
  user: { id: string; private: string; presence: string }[];
}

const vectors = JSON.parse(
  readFileSync(new URL('../../../lib/chat/testdata/channels.json', import.meta.url), 'utf8'),
) as Vectors;

test('enc matches the shared vectors', () => {
  assert.ok(vectors.enc.length > 0);
  for (const v of vectors.enc) assert.equal(enc(v.id), v.enc, `enc(${JSON.stringify(v.id)})`);
});

test('chat channels match the shared vectors, in either order of the ids', () => {
  for (const v of vectors.chat) {
    assert.equal(chatChannel(v.a, v.b), v.channel, `chatChannel(${v.a}, ${v.b})`);
    assert.equal(chatChannel(v.b, v.a), v.channel, `chatChannel(${v.b}, ${v.a})`);
  }
});

test('room and user channels match the shared vectors', () => {
  for (const v of vectors.room) assert.equal(roomChannel(v.id), v.channel);
  for (const v of vectors.user) {
    assert.equal(userChannel(v.id), v.private);
    assert.equal(presenceChannel(v.id), v.presence);
  }
});

test('enc escapes every byte of a multi-byte character and never writes "-"', () => {
  assert.equal(enc('😀'), '=F0=9F=98=80');
  assert.equal(enc('-=-'), '=2D=3D=2D');
});
