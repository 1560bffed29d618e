// The webview end of the protocol: typed requests with replies, validated notifications.
import { Filter, HostMessage, type RequestMethod, type WebviewMessage } from '../protocol.ts';

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

/** What the webview keeps in VS Code's state for the panel: restored when VS Code recreates
 * the webview (after it was hidden, or after a reload), and read by the panel serializer. */
export interface SavedState {
  scope: string;
  filter: Filter;
  tileSize: number;
  fit: boolean;
  focusId?: string;
  selected?: string[];
  scrollTop?: number;
}

/** The saved state, when there is a usable one (it is only ours, but still checked). */
export function readSaved(): SavedState | undefined {
  const s = vscode.getState() as Partial<SavedState> | null | undefined;
  if (!s || typeof s.scope !== 'string') return undefined;
  const filter = Filter.safeParse(s.filter);
  const ids = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string').slice(0, 1000) : undefined);
  return {
    scope: s.scope,
    filter: filter.success ? filter.data : { status: 'all', sort: 'newest' },
    tileSize: typeof s.tileSize === 'number' ? s.tileSize : 180,
    fit: s.fit === true,
    focusId: typeof s.focusId === 'string' ? s.focusId : undefined,
    selected: ids(s.selected),
    scrollTop: typeof s.scrollTop === 'number' ? s.scrollTop : undefined,
  };
}

export function saveState(state: SavedState): void {
  vscode.setState(state);
}

/** The filter or the view changed: the host remembers the view for the next gallery. */
export function viewChanged(filter: Filter, tileSize: number, fit: boolean): void {
  vscode.postMessage({ type: 'stateChanged', filter, tileSize, fit } satisfies WebviewMessage);
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
