// One live subject document: the Y.Doc, its y-websocket connection (same origin, the
// session cookie authenticates it), presence, and the connection state people see.
//
// A refused update ("permission denied" on y-websocket's auth channel) stays in our copy
// of the document and Yjs then holds back everything after it, so the session reports it
// and the page opens the document afresh.

import * as decoding from 'lib0/decoding';
import { WebsocketProvider, messageAuth, messageSync } from 'y-websocket';
import * as Y from 'yjs';

export type Connection = 'connecting' | 'live' | 'reconnecting' | 'offline';

export interface SessionEvents {
  connection(state: Connection): void;
  synced(): void;
  refused(reason: string): void;
  closed(code: number, reason: string): void;
}

/** What the server sends is applied with the provider as origin, and Yjs then encodes it
 * once more for the document's 'update' listeners, only for y-websocket's to drop it (it
 * came from the server). For a subject with hundreds of annotations that is a tenth of the
 * page's start (bench/webapp.py). So the provider's listener is off while a message from
 * the server is applied; a change anyone else makes meanwhile (an observer writing) is
 * still sent, right after. */
export const skipEcho = (provider: WebsocketProvider): void => {
  const own = provider as unknown as { _updateHandler: (update: Uint8Array, origin: unknown) => void };
  const doc = provider.doc;
  const apply = provider.messageHandlers[messageSync]!;
  provider.messageHandlers[messageSync] = (encoder, decoder, p, emitSynced, type) => {
    let since: Map<number, number> | null = null;
    const watch = (tr: Y.Transaction) => {
      if (tr.origin !== provider && !since) since = tr.beforeState;
    };
    doc.off('update', own._updateHandler);
    doc.on('afterTransaction', watch);
    try {
      apply(encoder, decoder, p, emitSynced, type);
    } finally {
      doc.off('afterTransaction', watch);
      doc.on('update', own._updateHandler);
      if (since) own._updateHandler(Y.encodeStateAsUpdate(doc, Y.encodeStateVector(since)), null);
    }
  };
};

export const collabUrl = (): string => `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/collab`;

export class LiveSession {
  readonly doc = new Y.Doc();
  readonly provider: WebsocketProvider;
  private state: Connection = 'connecting';
  private everLive = false;
  private readonly onOnline = () => this.update();

  constructor(
    readonly name: string, // ws/kind/id
    private readonly events: SessionEvents,
  ) {
    this.provider = new WebsocketProvider(collabUrl(), name, this.doc, {
      disableBc: true,
      // Reconnect after the network or the server went away (or a rate limit); not after a refusal of the
      // socket itself (4401, 4403, 4404...).
      shouldReconnect: (event: CloseEvent) => event.code === 4429 || !(event.code >= 4400 && event.code < 4500),
      maxBackoffTime: 5000,
    });
    skipEcho(this.provider);
    this.provider.messageHandlers[messageAuth] = (_encoder, decoder) => {
      // y-protocols' auth message: 0 = permission denied, then the reason.
      if (decoding.readVarUint(decoder) === 0) this.events.refused(decoding.readVarString(decoder));
    };
    this.provider.on('status', () => this.update());
    this.provider.on('sync', (synced: boolean) => {
      if (synced) {
        this.everLive = true;
        this.events.synced();
      }
      this.update();
    });
    this.provider.on('closed', (event: { code: number; reason: string }) => {
      this.events.closed(event.code, event.reason);
      this.update();
    });
    window.addEventListener('online', this.onOnline);
    window.addEventListener('offline', this.onOnline);
  }

  get connection(): Connection {
    return this.state;
  }

  private update(): void {
    const p = this.provider;
    let next: Connection;
    if (!navigator.onLine || (!p.shouldConnect && this.everLive)) next = 'offline';
    else if (p.wsconnected && p.synced) next = 'live';
    else next = this.everLive ? 'reconnecting' : 'connecting';
    if (p.ws === null && !p.shouldConnect) next = 'offline';
    if (next !== this.state) {
      this.state = next;
      this.events.connection(next);
    }
  }

  destroy(): void {
    window.removeEventListener('online', this.onOnline);
    window.removeEventListener('offline', this.onOnline);
    this.provider.awareness.setLocalState(null);
    this.provider.destroy();
    this.doc.destroy();
  }
}
