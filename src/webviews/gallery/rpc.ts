// The webview's connection to the host: VS Code's API, the channel (typed requests, checked
// replies and notifications), and the state VS Code keeps for the panel.
import { Filter, type WebviewMessage } from '../protocol.ts';
import { createChannel } from './channel.ts';

interface VsCodeApi {
  postMessage(msg: WebviewMessage): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode: VsCodeApi = acquireVsCodeApi();

const channel = createChannel((msg) => vscode.postMessage(msg));
window.addEventListener('message', (e: MessageEvent) => channel.receive(e.data));

export const request = channel.request;
export const onNotifications = channel.on;
/** Sent once the page listens (useHostMessages), before it asks for the current state. */
export const ready = channel.ready;

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
