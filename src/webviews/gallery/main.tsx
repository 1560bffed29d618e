// The gallery webview's entry: the state it starts from, then the app. jitless first, before
// any schema is made (see jitless.ts).
import './jitless.ts';
import { render } from 'preact';
import { DEFAULT_FILTER, InitialState } from '../protocol.ts';
import { App } from './App.tsx';
import './controls.ts';
import { readSaved, type SavedState } from './rpc.ts';
import './gallery.css';

/** The state the webview starts from. The page in the HTML was read when the panel was
 * created; a webview VS Code recreates (after being hidden, or after a reload) gets the same
 * HTML again, so it restores its own saved state instead. The HTML's page is painted only by
 * a new panel (or one shown for another scope), and only until the current one comes. */
function readInitial(): { init: InitialState; saved?: SavedState } {
  const el = document.getElementById('initial-state');
  const parsed = InitialState.safeParse(el ? JSON.parse(el.textContent || '{}') : {});
  const init: InitialState = parsed.success
    ? parsed.data
    : { scope: '', title: 'Gallery', filter: DEFAULT_FILTER, tileSize: 180, fit: false, page: { tiles: [], total: 0 } };
  const saved = readSaved();
  return { init, saved: saved && saved.scope === init.scope ? saved : undefined };
}

// The page says ready once it listens (useGallery), and then asks for the current state.
const { init, saved } = readInitial();
render(<App init={init} saved={saved} />, document.getElementById('app')!);
