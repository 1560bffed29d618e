// The webview's end of the protocol, free of the DOM so it is tested in plain Node: typed
// requests whose replies are checked against their method's result schema, notifications
// checked against theirs and handed to handler tables, and the ready handshake.
import { isNotification, Methods, Notifications, Reply, type Method, type NotificationHandlers, type NotificationName, type ParamsIn, type ResultOf, type WebviewMessage } from '../protocol.ts';

export interface Channel {
  /** Ask the host; resolves with the method's result, checked, or rejects with the host's
   * error (or with a reply that does not match the method's result schema). */
  request<M extends Method>(method: M, params: ParamsIn<M>): Promise<ResultOf<M>>;
  /** Listen to notifications, one handler per name; returns the unsubscribe. */
  on(handlers: NotificationHandlers): () => void;
  /** Tell the host the page listens: it posts notifications from now on. */
  ready(): void;
  /** A message from the host (the window's `message` event's data). */
  receive(data: unknown): void;
}

export function createChannel(post: (msg: WebviewMessage) => void, warn: (text: string) => void = (t) => console.warn(t)): Channel {
  let nextId = 1;
  const pending = new Map<number, (reply: Reply) => void>();
  const tables = new Set<NotificationHandlers>();

  function deliver<N extends NotificationName>(name: N, data: unknown): void {
    const parsed = Notifications[name].safeParse(data);
    if (!parsed.success) return warn(`gallery: dropped a malformed ${name} from the host (${parsed.error.issues[0]?.message ?? 'invalid'})`);
    for (const table of [...tables]) table[name]?.(parsed.data);
  }

  return {
    request<M extends Method>(method: M, params: ParamsIn<M>): Promise<ResultOf<M>> {
      const id = nextId++;
      return new Promise<ResultOf<M>>((resolve, reject) => {
        pending.set(id, (reply) => {
          if (!reply.ok) return reject(new Error(reply.error ?? 'The request failed.'));
          const result = Methods[method].result.safeParse(reply.result);
          if (result.success) return resolve(result.data);
          warn(`gallery: dropped the host's answer to ${method} (${result.error.issues[0]?.message ?? 'invalid'})`);
          reject(new Error(`The gallery could not read the answer to ${method}.`));
        });
        post({ type: 'request', id, method, params });
      });
    },
    on(handlers) {
      tables.add(handlers);
      return () => void tables.delete(handlers);
    },
    ready() {
      post({ type: 'ready' });
    },
    receive(data) {
      const type = typeof data === 'object' && data !== null && 'type' in data ? data.type : undefined;
      if (type === 'reply') {
        const reply = Reply.safeParse(data);
        if (!reply.success) return warn('gallery: dropped a malformed reply from the host');
        const settle = pending.get(reply.data.id);
        pending.delete(reply.data.id);
        settle?.(reply.data);
      } else if (typeof type === 'string' && isNotification(type)) {
        deliver(type, data);
      } else {
        warn('gallery: dropped a message of no known type from the host');
      }
    },
  };
}
