// The built-in catalog: well-known checkpoints offered before the user browses Civitai.

import type { ModelInfo } from '../types.ts';
import { PROVIDER } from './service.ts';

export const CHECKPOINT_INFO = {
  provider: PROVIDER,
  capabilities: ['text-to-image', 'image-to-image'],
  promptField: 'prompt',
  seedField: 'seed',
  imageFields: ['sourceImage'],
} satisfies Partial<ModelInfo>;

/** A copy whose arrays the caller may change: the catalog's entries share CHECKPOINT_INFO's. */
export function copyInfo(m: ModelInfo): ModelInfo {
  return { ...m, capabilities: [...m.capabilities], imageFields: m.imageFields && [...m.imageFields] };
}

/** Well-known checkpoints with AIRs from Civitai's own docs and code. */
export const CIVITAI_MODELS: ModelInfo[] = [
  {
    ...CHECKPOINT_INFO,
    id: 'urn:air:sdxl:checkpoint:civitai:101055@128078',
    title: 'SDXL 1.0 (VAE fix)',
    description: 'Stability AI\'s SDXL base checkpoint on Civitai (the AIR Civitai\'s docs use); 1024×1024 native.',
  },
  {
    ...CHECKPOINT_INFO,
    id: 'urn:air:sd1:checkpoint:civitai:4384@128713',
    title: 'DreamShaper 8 (SD 1.5)',
    description: 'The default checkpoint of Civitai\'s textToImage API; 512×512 native.',
  },
  {
    ...CHECKPOINT_INFO,
    id: 'urn:air:flux1:checkpoint:civitai:618692@691639',
    title: 'FLUX.1 [dev] on Civitai',
    description: 'Black Forest Labs\' FLUX.1 [dev] as Civitai hosts it (Civitai\'s own generator uses this AIR).',
  },
];
