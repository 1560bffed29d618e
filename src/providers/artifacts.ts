// Turning provider output JSON into Artifacts. Provider strings are untrusted: URLs are only
// accepted as http(s) strings (the engine checks them again before downloading), media types
// only as hints (the engine sniffs magic bytes).

import type { Artifact, MediaKind } from './types.ts';

const EXT_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  avif: 'image/avif',
  mp4: 'video/mp4',
  webm: 'video/webm',
  mov: 'video/quicktime',
  mp3: 'audio/mpeg',
  wav: 'audio/wav',
  ogg: 'audio/ogg',
  flac: 'audio/flac',
  m4a: 'audio/mp4',
};

export function mediaTypeFromUrl(url: string): string | undefined {
  try {
    const m = /\.([a-z0-9]{2,5})$/i.exec(new URL(url).pathname);
    return m ? EXT_TYPES[m[1].toLowerCase()] : undefined;
  } catch {
    return undefined;
  }
}

export function kindOf(mediaType: string | undefined, fallback: MediaKind = 'image'): MediaKind {
  if (!mediaType) return fallback;
  if (mediaType.startsWith('video/')) return 'video';
  if (mediaType.startsWith('audio/')) return 'audio';
  if (mediaType.startsWith('image/')) return 'image';
  return fallback;
}

export function isHttpUrl(v: unknown): v is string {
  return typeof v === 'string' && /^https?:\/\/[^\s]+$/i.test(v) && v.length < 8192;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
}

const MAX_DATA_URI_BYTES = 64 * 1024 * 1024;

/** Bytes and media type of a base64 `data:` URI (fal returns these with `sync_mode: true`). */
export function decodeDataUri(uri: string): { data: Uint8Array; mediaType?: string } | undefined {
  const m = /^data:([\w.+-]+\/[\w.+-]+)?(?:;[\w-]+=[\w.-]+)*;base64,([A-Za-z0-9+/=\s]*)$/.exec(uri);
  if (!m || (m[2].length * 3) / 4 > MAX_DATA_URI_BYTES) return undefined;
  return { data: new Uint8Array(Buffer.from(m[2], 'base64')), mediaType: m[1] };
}

/** An artifact from a `{url, content_type, width, height, file_size}` object (fal's File/Image). */
export function artifactFromFileObject(o: Record<string, unknown>, fallback: MediaKind): Artifact | undefined {
  if (typeof o.url === 'string' && o.url.startsWith('data:')) {
    const d = decodeDataUri(o.url);
    if (!d) return undefined;
    const mediaType = typeof o.content_type === 'string' ? o.content_type : d.mediaType;
    return { data: d.data, mediaType, kind: kindOf(mediaType, fallback), width: num(o.width), height: num(o.height), size: d.data.byteLength };
  }
  if (!isHttpUrl(o.url)) return undefined;
  const claimed = typeof o.content_type === 'string' ? o.content_type : undefined;
  const mediaType = claimed ?? mediaTypeFromUrl(o.url);
  return {
    url: o.url,
    mediaType,
    kind: kindOf(mediaType, fallback),
    width: num(o.width),
    height: num(o.height),
    size: num(o.file_size),
  };
}

/** An artifact from a bare URL string (Replicate's output). */
export function artifactFromUrl(url: string, fallback: MediaKind = 'image'): Artifact {
  const mediaType = mediaTypeFromUrl(url);
  return { url, mediaType, kind: kindOf(mediaType, fallback) };
}
