// Image fields in parameter files, in the editor: their problems (a missing file, a non-image,
// a too-large image, an unknown product) for the Problems panel and ▶ Generate, completion of
// the project's recent products and of image files near the file, and the hover of a
// `product:<id>` reference. The logic is vscode-free (engine/imageInputs.ts, engine/inputAssist.ts).
import * as path from 'node:path';
import * as vscode from 'vscode';
import { takesList } from '../engine/imageFields.ts';
import { ImageSource, imageFieldsOf } from '../engine/imageInputs.ts';
import { fileItems, imageSiteAt, insertionFor, nearbyImageFiles, paramFileModel, productItems, productMarkdown, productRefAt, type AssistItem } from '../engine/inputAssist.ts';
import type { Diagnostic, ParsedParamFile } from '../engine/paramFile.ts';
import { checkParamFile } from '../engine/submission.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import type { JsonSchema } from '../providers/types.ts';
import { layoutOf, ProjectPaths } from '../storage/index.ts';
import type { ProductRecord } from '../storage/types.ts';
import { Disposable } from './disposable.ts';
import type { OutputLog } from './log.ts';
import type { ProjectManager } from './projects.ts';
import { settings } from './settings.ts';

const SELECTOR: vscode.DocumentSelector = [{ pattern: '**/*.art.json' }];
/** How many recent products completion offers. */
const RECENT_PRODUCTS = 40;
export const INPUT_LIMIT_SETTING = 'artFactory.inputs.maxMegabytes';

export interface ImageInputAssistDeps {
  projects: ProjectManager;
  registry: ProviderRegistry;
  log: OutputLog;
  /** The model's input schema as cached in the project (no network while typing). */
  cachedSchema(doc: vscode.TextDocument, provider: string, model: string): Promise<JsonSchema | undefined>;
}

export class ImageInputAssist extends Disposable implements vscode.CompletionItemProvider, vscode.HoverProvider {
  private readonly sources = new Map<string, ImageSource>();

  constructor(private readonly d: ImageInputAssistDeps) {
    super();
    this.register(vscode.languages.registerCompletionItemProvider(SELECTOR, this, '"', ':', '/', '.'));
    this.register(vscode.languages.registerHoverProvider(SELECTOR, this));
  }

  /** The checker of a document's project (or of its folder, outside any). */
  private source(doc: vscode.TextDocument): ImageSource {
    return this.sourceFor(this.d.projects.forUri(doc.uri)?.dir ?? path.dirname(doc.uri.fsPath));
  }

  /** One checker per project (and per folder outside any) and input limit, kept so unchanged
   * files are not decoded again; a submission checks with the same one. */
  sourceFor(dir: string): ImageSource {
    const project = this.d.projects.get(dir);
    const maxBytes = settings.inputLimitBytes();
    const key = `${dir}\u0000${maxBytes}`;
    let s = this.sources.get(key);
    if (!s) {
      s = new ImageSource({ projectDir: dir, db: project ? () => project.db() : undefined, maxBytes, limitHint: INPUT_LIMIT_SETTING });
      this.sources.set(key, s);
    }
    return s;
  }

  private fields(provider: string, model: string, schema: JsonSchema | undefined): string[] {
    return imageFieldsOf(this.d.registry.models().find((m) => m.provider === provider && m.id === model), schema);
  }

  /** A file's problems as a submission finds them (engine/submission.ts `checkParamFile`); an
   * image check that fails for another reason than the image (the database, say) is logged and
   * the rest is still published. */
  async check(doc: vscode.TextDocument, parsed: ParsedParamFile, schema: JsonSchema | undefined): Promise<Diagnostic[]> {
    const dir = path.dirname(doc.uri.fsPath);
    const fields = parsed.value ? this.fields(parsed.value.provider, parsed.value.model, schema) : [];
    try {
      return await checkParamFile(parsed, { schema, fields, images: this.source(doc), dir });
    } catch (e) {
      this.d.log.warn(`checking the image inputs of ${path.basename(doc.uri.fsPath)}: ${e instanceof Error ? e.message : String(e)}`);
      return checkParamFile(parsed, { schema, fields, images: undefined, dir });
    }
  }

  /** A picture for the completion item, resolved under the project path rule (a row from
   * elsewhere never shows a file outside the project). */
  private thumbUri(dir: string, p: ProductRecord): string | undefined {
    let layout;
    try {
      layout = layoutOf(p);
    } catch {
      return undefined;
    }
    const paths = new ProjectPaths(dir);
    const small = paths.resolveSync(layout.thumbs.small, '.artfactory');
    const file = small?.stat ? small : p.kind === 'image' ? paths.resolveSync(layout.file, 'products') : undefined;
    return file?.stat ? vscode.Uri.file(file.abs).toString() : undefined;
  }

  async provideCompletionItems(doc: vscode.TextDocument, position: vscode.Position): Promise<vscode.CompletionItem[] | undefined> {
    const text = doc.getText();
    const { provider, model } = paramFileModel(text);
    if (!provider || !model) return undefined;
    const schema = await this.d.cachedSchema(doc, provider, model);
    const fields = this.fields(provider, model, schema);
    const site = imageSiteAt(text, doc.offsetAt(position), fields, schema ? fields.filter((f) => takesList(schema, f)) : []);
    if (!site) return undefined;
    const project = this.d.projects.forUri(doc.uri);
    const items: AssistItem[] = [];
    if (project) {
      const page = await (await project.db()).queryProducts({ limit: RECENT_PRODUCTS, sort: 'newest' });
      items.push(...productItems(page.items, (p) => this.thumbUri(project.dir, p)));
    }
    items.push(...fileItems(await nearbyImageFiles(path.dirname(doc.uri.fsPath), project?.dir)));
    const range = new vscode.Range(doc.positionAt(site.start), doc.positionAt(site.end));
    return items.map((it) => {
      const c = new vscode.CompletionItem({ label: it.label, description: it.kind === 'product' ? it.detail : undefined }, it.kind === 'product' ? vscode.CompletionItemKind.Reference : vscode.CompletionItemKind.File);
      c.insertText = insertionFor(site, it.value);
      c.filterText = site.quoted ? it.filterText : JSON.stringify(it.filterText);
      c.range = range;
      c.detail = it.detail;
      c.sortText = it.sortText;
      if (it.documentation) c.documentation = markdown(it.documentation, project?.dir);
      return c;
    });
  }

  async provideHover(doc: vscode.TextDocument, position: vscode.Position): Promise<vscode.Hover | undefined> {
    const ref = productRefAt(doc.getText(), doc.offsetAt(position));
    const project = ref ? this.d.projects.forUri(doc.uri) : undefined;
    if (!ref || !project) return undefined;
    const product = await (await project.db()).getProduct(ref.id);
    const range = new vscode.Range(doc.positionAt(ref.start), doc.positionAt(ref.end));
    if (!product) return new vscode.Hover(new vscode.MarkdownString(`No product \`${ref.id}\` in ${project.name}.`), range);
    return new vscode.Hover(markdown(productMarkdown(product, this.thumbUri(project.dir, product)), project.dir), range);
  }
}

function markdown(text: string, projectDir: string | undefined): vscode.MarkdownString {
  const md = new vscode.MarkdownString(text);
  // Thumbnails are files of the project: let the hover load them from there.
  if (projectDir) md.baseUri = vscode.Uri.file(path.join(projectDir, path.sep));
  return md;
}
