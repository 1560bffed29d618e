// The webview end of the protocol: typed requests with replies, validated notifications.
import { HostMessage, type Filter, type RequestMethod, type WebviewMessage } from '../protocol.ts';

interface VsCodeApi {
  postMessage(msg: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

export const vscode: VsCodeApi = acquireVsCodeApi();

let nextId = 1;
const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
const listeners = new Set<(m: HostMessage) => void>();

export function request<T>(method: RequestMethod, params: unknown): Promise<T> {
  const id = nextId++;
  return new Promise<T>((resolve, reject) => {
    pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
    const msg: WebviewMessage = { type: 'request', id, method, params };
    vscode.postMessage(msg);
  });
}

export function onHostMessage(l: (m: HostMessage) => void): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

export function saveState(scope: string, filter: Filter, tileSize: number): void {
  vscode.setState({ scope, filter, tileSize });
  vscode.postMessage({ type: 'stateChanged', filter, tileSize } satisfies WebviewMessage);
}

window.addEventListener('message', (e: MessageEvent) => {
  const parsed = HostMessage.safeParse(e.data);
  if (!parsed.success) {
    console.warn('gallery: dropped a malformed message from the host');
    return;
  }
  const m = parsed.data;
  if (m.type === 'reply') {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.ok) p.resolve(m.result);
    else p.reject(new Error(m.error ?? 'The request failed.'));
    return;
  }
  for (const l of listeners) l(m);
});
