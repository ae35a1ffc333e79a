import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { afterEach, describe, expect, it } from 'vitest';
import * as syncProtocol from 'y-protocols/sync';
import { WebsocketProvider, messageSync } from 'y-websocket';
import * as Y from 'yjs';
import { skipEcho } from '../src/binding/session';

/** A socket that keeps what the provider sends and lets the test play the server. */
class FakeSocket {
  static last: FakeSocket | null = null;
  static readonly OPEN = 1;
  readonly OPEN = 1;
  binaryType = 'arraybuffer';
  readyState = 0;
  sent: Uint8Array[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: ArrayBuffer }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.last = this;
  }
  send(data: Uint8Array) {
    this.sent.push(new Uint8Array(data));
  }
  close() {}
  open() {
    this.readyState = 1;
    this.onopen?.();
  }
  receive(message: Uint8Array) {
    this.onmessage?.({ data: message.buffer.slice(message.byteOffset, message.byteOffset + message.byteLength) as ArrayBuffer });
  }
  /** The document updates sent (sync step 2 or update messages), as Yjs updates. */
  updates(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const message of this.sent) {
      const decoder = decoding.createDecoder(message);
      if (decoding.readVarUint(decoder) !== messageSync) continue;
      const kind = decoding.readVarUint(decoder);
      if (kind === syncProtocol.messageYjsSyncStep2 || kind === syncProtocol.messageYjsUpdate) out.push(decoding.readVarUint8Array(decoder));
    }
    return out;
  }
}

const serverSays = (kind: number, update: Uint8Array) => {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, messageSync);
  encoding.writeVarUint(encoder, kind);
  encoding.writeVarUint8Array(encoder, update);
  return encoding.toUint8Array(encoder);
};

const serverDoc = (count: number) => {
  const doc = new Y.Doc();
  const annotations = doc.getMap('annotations');
  for (let n = 0; n < count; n++) {
    const a = new Y.Map<unknown>();
    annotations.set(`a${n}`, a);
    a.set('motivation', 'commenting');
    a.set('comment', new Y.Text(`Observation ${n}`));
  }
  return doc;
};

const providers: WebsocketProvider[] = [];
const connect = () => {
  const doc = new Y.Doc();
  const provider = new WebsocketProvider('ws://server/collab', 'ws/canvas/c', doc, {
    WebSocketPolyfill: FakeSocket as unknown as typeof WebSocket,
    disableBc: true,
  });
  providers.push(provider);
  skipEcho(provider);
  const socket = FakeSocket.last!;
  socket.open();
  socket.sent = [];
  return { doc, provider, socket };
};

afterEach(() => {
  for (const p of providers.splice(0)) p.destroy();
});

describe('what the server sends is not encoded again', () => {
  it("applies the server's document without encoding it for the way back", () => {
    const { doc, socket } = connect();
    const listening: number[] = [];
    // Yjs encodes a transaction's update only when the document has 'update' listeners.
    doc.getMap('annotations').observe(() => listening.push((doc as unknown as { _observers: Map<string, Set<unknown>> })._observers.get('update')?.size ?? 0));
    socket.receive(serverSays(syncProtocol.messageYjsSyncStep2, Y.encodeStateAsUpdate(serverDoc(200))));
    expect(doc.getMap('annotations').size).toBe(200);
    expect(listening).toEqual([0]);
    expect(socket.updates()).toEqual([]);
  });

  it('still sends what the person changes afterwards', () => {
    const { doc, socket } = connect();
    socket.receive(serverSays(syncProtocol.messageYjsSyncStep2, Y.encodeStateAsUpdate(serverDoc(3))));
    doc.getMap('annotations').set('mine', 'drawn here');
    const server = serverDoc(3);
    for (const u of socket.updates()) Y.applyUpdate(server, u);
    expect(server.getMap('annotations').get('mine')).toBe('drawn here');
  });

  it('sends a change made by an observer while a server message was applied', () => {
    const { doc, socket } = connect();
    const notes = doc.getMap('notes');
    // Something that answers a remote change with a local one, in the same moment.
    doc.getMap('annotations').observe((_event, tr) => {
      if (tr.origin !== 'local') doc.transact(() => notes.set('seen', true), 'local');
    });
    socket.receive(serverSays(syncProtocol.messageYjsUpdate, Y.encodeStateAsUpdate(serverDoc(2))));
    const server = new Y.Doc();
    for (const u of socket.updates()) Y.applyUpdate(server, u);
    expect(server.getMap('notes').get('seen')).toBe(true);
  });
});
