// The Spending panel's HTML: the same page as the gallery's (strict CSP with a nonce), its
// bundle, and the first view as JSON when there is one.
import { webviewPage } from './galleryHtml.ts';
import type { SpendingView } from './spendingProtocol.ts';

export function spendingHtml(o: { cspSource: string; scriptUri: string; styleUri: string; view?: SpendingView; nonce?: string }): string {
  return webviewPage({ ...o, title: 'Art Factory Spending', json: { id: 'initial-view', value: o.view ?? null } });
}
