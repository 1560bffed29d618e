// The Spending panel's HTML: the same strict CSP with a nonce as the gallery's, its bundle, and
// the first view as JSON (escaped so no string in it can close the script element).
import { escapeJsonForHtml, newNonce } from './galleryHtml.ts';
import type { SpendingView } from './spendingProtocol.ts';

function attr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

export function spendingHtml(o: { cspSource: string; scriptUri: string; styleUri: string; view?: SpendingView; nonce?: string }): string {
  const nonce = o.nonce ?? newNonce();
  const csp = ["default-src 'none'", `img-src ${o.cspSource} data:`, `style-src ${o.cspSource} 'nonce-${nonce}'`, `font-src ${o.cspSource}`, `script-src 'nonce-${nonce}'`].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attr(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>Art Factory Spending</title>
<link rel="stylesheet" href="${attr(o.styleUri)}" nonce="${nonce}">
</head>
<body>
<div id="app"></div>
<script type="application/json" id="initial-view">${escapeJsonForHtml(o.view ?? null)}</script>
<script nonce="${nonce}" src="${attr(o.scriptUri)}"></script>
</body>
</html>`;
}
