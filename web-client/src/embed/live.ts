// The embed's live document: y-websocket with the share link's token, read-only, and no
// presence either way. The server already withholds awareness from share-link sockets;
// the element also never publishes a state (none is set, y-websocket's awareness
// broadcast is switched off) and ignores any that arrives, so a visitor's page neither
// shows nor tells who is at work.

import { Awareness } from 'y-protocols/awareness';
import { WebsocketProvider, messageAuth, messageAwareness, messageQueryAwareness } from 'y-websocket';
import * as Y from 'yjs';

export type LiveState = 'connecting' | 'live' | 'reconnecting' | 'unavailable' | 'refused';

// Socket close codes that end the view for good: the link was revoked or has expired
// (4401), it does not cover this document or this website (4403), the document is gone
// (4404). Everything else (1013 "try again later" under load, 4429, a network drop, a
// server restart) is retried by y-websocket.
const FOR_GOOD = new Set([4401, 4403, 4404]);
// Longest wait between reconnection attempts (ms): an exhibition page left open overnight
// comes back within seconds of the server.
const MAX_BACKOFF_MS = 5000;

export const collabBase = (server: string): string => {
  const url = new URL('/collab', server);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
};

interface Private {
  _awarenessUpdateHandler: (...args: unknown[]) => void;
}

export class LiveDoc {
  readonly doc = new Y.Doc();
  readonly provider: WebsocketProvider;
  private state: LiveState = 'connecting';
  private everSynced = false;

  constructor(
    server: string,
    name: string,
    token: string,
    private readonly onState: (state: LiveState, reason: string) => void,
    private readonly onSynced: () => void,
  ) {
    const awareness = new Awareness(this.doc);
    // Nothing to publish: a null local state is never sent on connect.
    awareness.setLocalState(null);
    this.provider = new WebsocketProvider(collabBase(server), name, this.doc, {
      params: { token },
      connect: false,
      disableBc: true,
      awareness,
      maxBackoffTime: MAX_BACKOFF_MS,
      shouldReconnect: (event: CloseEvent) => !FOR_GOOD.has(event.code),
    });
    awareness.off('update', (this.provider as unknown as Private)._awarenessUpdateHandler);
    const ignore = () => undefined;
    this.provider.messageHandlers[messageAwareness] = ignore;
    this.provider.messageHandlers[messageQueryAwareness] = ignore;
    this.provider.messageHandlers[messageAuth] = ignore; // a viewer writes nothing to be refused
    this.provider.on('status', () => this.update(''));
    this.provider.on('sync', (synced: boolean) => {
      if (synced && !this.everSynced) {
        this.everSynced = true;
        this.onSynced();
      }
      this.update('');
    });
    this.provider.on('connection-close', (event: CloseEvent | null) => {
      if (event && FOR_GOOD.has(event.code)) {
        const refused = event.code === 4403 && /embedded on/.test(event.reason);
        this.set(refused ? 'refused' : 'unavailable', event.reason);
      } else this.update('');
    });
    this.provider.connect();
  }

  private update(reason: string): void {
    if (this.state === 'unavailable' || this.state === 'refused') return;
    const p = this.provider;
    this.set(p.wsconnected && p.synced ? 'live' : this.everSynced ? 'reconnecting' : 'connecting', reason);
  }

  private set(state: LiveState, reason: string): void {
    if (state === this.state) return;
    this.state = state;
    this.onState(state, reason);
  }

  destroy(): void {
    this.provider.destroy();
    this.doc.destroy();
  }
}
