// The gallery's HTML: a strict CSP with a nonce, the bundle, and the initial state as JSON
// (escaped so no string in it can close the script element).
import { randomBytes } from 'node:crypto';
import type { InitialState } from './protocol.ts';

export interface GalleryHtmlOptions {
  /** The webview's CSP source (webview.cspSource). */
  cspSource: string;
  scriptUri: string;
  styleUri: string;
  state: InitialState;
  nonce?: string;
}

export function newNonce(): string {
  return randomBytes(18).toString('base64').replace(/[^A-Za-z0-9]/g, '');
}

export function escapeJsonForHtml(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function attr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

/** A webview page of ours: a strict CSP with a nonce (no eval, nothing remote), the stylesheet,
 * a JSON island (`<script type="application/json" id=…>`) and the bundle. `media` allows the
 * webview's own media (the gallery's videos). */
export function webviewPage(o: { cspSource: string; scriptUri: string; styleUri: string; title: string; json: { id: string; value: unknown }; media?: boolean; nonce?: string }): string {
  const nonce = o.nonce ?? newNonce();
  const csp = [
    "default-src 'none'",
    `img-src ${o.cspSource} data:`,
    ...(o.media ? [`media-src ${o.cspSource}`] : []),
    `style-src ${o.cspSource} 'nonce-${nonce}'`,
    `font-src ${o.cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attr(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${attr(o.title)}</title>
<link rel="stylesheet" href="${attr(o.styleUri)}" nonce="${nonce}">
</head>
<body>
<div id="app"></div>
<script type="application/json" id="${attr(o.json.id)}">${escapeJsonForHtml(o.json.value)}</script>
<script nonce="${nonce}" src="${attr(o.scriptUri)}"></script>
</body>
</html>`;
}

export function galleryHtml(o: GalleryHtmlOptions): string {
  return webviewPage({ cspSource: o.cspSource, scriptUri: o.scriptUri, styleUri: o.styleUri, title: o.state.title, json: { id: 'initial-state', value: o.state }, media: true, nonce: o.nonce });
}
