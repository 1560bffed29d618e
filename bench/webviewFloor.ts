// VS Code's own floor for opening a webview panel: a hello-world extension whose panel loads a
// stylesheet, a script and one image through asWebviewUri, as the gallery loads its CSS, its
// bundle and its thumbnails, with its HTML set at once (no query first). bench/galleryVscode.ts
// opens and reopens it in the same code-server as the gallery, so the two can be compared.
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';

export const FLOOR_COMMAND = 'Webview Floor: Open Hello';

/** In the panel: `#hello`, then the script marks the body, and `#hello-img` loads. */
export const FLOOR_SHOWN = `() => {
  const img = document.getElementById('hello-img');
  return document.body?.dataset.script === '1' && !!img && img.complete && img.naturalWidth > 0;
}`;

const EXTENSION = `
const vscode = require('vscode');
const crypto = require('crypto');
exports.activate = (context) => {
  context.subscriptions.push(vscode.commands.registerCommand('webviewFloor.open', () => {
    const media = vscode.Uri.joinPath(context.extensionUri, 'media');
    const panel = vscode.window.createWebviewPanel('webviewFloor', 'Hello', vscode.ViewColumn.Active, { enableScripts: true, localResourceRoots: [media] });
    const uri = (f) => panel.webview.asWebviewUri(vscode.Uri.joinPath(media, f)).toString();
    const nonce = crypto.randomBytes(16).toString('hex');
    const src = panel.webview.cspSource;
    panel.webview.html = '<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8">'
      + '<meta http-equiv="Content-Security-Policy" content="default-src \\'none\\'; img-src ' + src + '; style-src ' + src + '; script-src \\'nonce-' + nonce + '\\'">'
      + '<link rel="stylesheet" href="' + uri('hello.css') + '"></head>'
      + '<body><div id="hello">Hello</div><img id="hello-img" src="' + uri('hello.webp') + '" width="180" height="180" alt="">'
      + '<script nonce="' + nonce + '" src="' + uri('hello.js') + '"></script></body></html>';
  }));
};
`;

/** The extension, packaged as a VSIX with vsce in `base`. */
export async function floorVsix(base: string, root: string): Promise<string> {
  const ext = path.join(base, 'webview-floor');
  await fs.mkdir(path.join(ext, 'media'), { recursive: true });
  await fs.writeFile(
    path.join(ext, 'package.json'),
    JSON.stringify({
      name: 'webview-floor',
      displayName: 'Webview floor',
      publisher: 'art-factory-bench',
      version: '0.0.1',
      engines: { vscode: '^1.100.0' },
      main: './extension.js',
      license: 'MIT',
      contributes: { commands: [{ command: 'webviewFloor.open', title: 'Open Hello', category: 'Webview Floor' }] },
    }),
  );
  await fs.writeFile(path.join(ext, 'extension.js'), EXTENSION);
  await fs.writeFile(path.join(ext, 'README.md'), '# Webview floor\n\nA hello-world webview panel, for timing.\n');
  await fs.writeFile(path.join(ext, 'media', 'hello.css'), 'body { background: #222; color: #eee; } #hello { font-size: 24px; }\n');
  await fs.writeFile(path.join(ext, 'media', 'hello.js'), "document.body.dataset.script = '1';\n");
  await sharp({ create: { width: 256, height: 256, channels: 3, background: { r: 200, g: 120, b: 60 } } }).webp().toFile(path.join(ext, 'media', 'hello.webp'));
  const vsix = path.join(base, 'webview-floor.vsix');
  execFileSync(path.join(root, 'node_modules', '.bin', 'vsce'), ['package', '--no-dependencies', '--allow-missing-repository', '--skip-license', '-o', vsix], { cwd: ext, stdio: ['ignore', 'ignore', 'inherit'] });
  return vsix;
}
