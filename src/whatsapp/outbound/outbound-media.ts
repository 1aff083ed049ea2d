/**
 * Which WhatsApp media message a file becomes, and how large it may be: pure functions over
 * WhatsApp's supported media types (Cloud API reference, "Supported media types"; not in the
 * OpenAPI document, which only shows the upload call).
 *
 * | kind     | types                                                  | limit  |
 * |----------|--------------------------------------------------------|--------|
 * | image    | image/jpeg, image/png                                  | 5 MB   |
 * | video    | video/mp4, video/3gpp                                  | 16 MB  |
 * | audio    | audio/aac, audio/amr, audio/mpeg, audio/mp4, audio/ogg | 16 MB  |
 * | document | anything else (sent with its file name)                | 100 MB |
 *
 * Megabytes are counted as 1,000,000 bytes: the stricter reading of Meta's "5 MB", so a file we
 * pass is never one Meta refuses for its size. Other image types (GIF, WebP, HEIC…) and audio
 * types (WAV…) go as documents: WhatsApp shows them as files rather than refusing them inline.
 */

export type MediaKind = 'image' | 'video' | 'audio' | 'document';

const MB = 1_000_000;

/** The largest file WhatsApp takes for each kind of media message. */
export const MEDIA_LIMITS: Readonly<Record<MediaKind, number>> = {
  image: 5 * MB,
  video: 16 * MB,
  audio: 16 * MB,
  document: 100 * MB,
};

/** The largest file of any kind: a download of a file of unknown type stops there. */
export const MAX_MEDIA_BYTES = Math.max(...Object.values(MEDIA_LIMITS));

const KIND_OF_TYPE: Readonly<Record<string, MediaKind>> = {
  'image/jpeg': 'image',
  'image/png': 'image',
  'video/mp4': 'video',
  'video/3gpp': 'video',
  'audio/aac': 'audio',
  'audio/amr': 'audio',
  'audio/mpeg': 'audio',
  'audio/mp4': 'audio',
  'audio/ogg': 'audio',
};

/** Spellings systems use for the types above. */
const ALIASES: Readonly<Record<string, string>> = {
  'image/jpg': 'image/jpeg',
  'image/pjpeg': 'image/jpeg',
  'audio/mp3': 'audio/mpeg',
  'audio/x-m4a': 'audio/mp4',
  'audio/m4a': 'audio/mp4',
  'audio/x-aac': 'audio/aac',
  'audio/3gpp': 'audio/amr',
  'video/3gp': 'video/3gpp',
};

/** A file's type from its extension, for attachments whose system names the file but not its type. */
const TYPE_OF_EXTENSION: Readonly<Record<string, string>> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  mp4: 'video/mp4',
  '3gp': 'video/3gpp',
  aac: 'audio/aac',
  amr: 'audio/amr',
  mp3: 'audio/mpeg',
  m4a: 'audio/mp4',
  ogg: 'audio/ogg',
  opus: 'audio/ogg',
  pdf: 'application/pdf',
  txt: 'text/plain',
  doc: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xls: 'application/vnd.ms-excel',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  ppt: 'application/vnd.ms-powerpoint',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
};

/** Types that say nothing about the file (what servers send when they do not know). */
const UNINFORMATIVE = new Set(['application/octet-stream', 'application/binary', 'binary/octet-stream', 'application/unknown']);

/**
 * A MIME type in the form WhatsApp knows: lower case, without parameters (`; codecs=opus`), aliases
 * resolved. Undefined for an empty or uninformative type.
 */
export function normaliseMimeType(value: string | undefined | null): string | undefined {
  const type = value?.split(';')[0].trim().toLowerCase();
  if (!type || !/^[a-z0-9.+-]+\/[a-z0-9.+-]+$/.test(type) || UNINFORMATIVE.has(type)) return undefined;
  return ALIASES[type] ?? type;
}

/** The type a file name's extension stands for, when it is a common one. */
export function mimeTypeOfName(name: string | undefined): string | undefined {
  const extension = /\.([a-z0-9]{1,5})$/i.exec(name?.trim() ?? '')?.[1]?.toLowerCase();
  return extension ? TYPE_OF_EXTENSION[extension] : undefined;
}

/** The WhatsApp message a file of this type goes as (unknown types: a document). */
export function mediaKindOf(mimeType: string | undefined): MediaKind {
  const type = normaliseMimeType(mimeType);
  return (type && KIND_OF_TYPE[type]) || 'document';
}

/** "5 MB", "1.3 MB", "820 KB", "12 bytes". */
export function formatBytes(bytes: number): string {
  if (bytes >= MB) return `${Number((bytes / MB).toFixed(1))} MB`;
  if (bytes >= 1000) return `${Math.round(bytes / 1000)} KB`;
  return `${bytes} bytes`;
}

const KIND_PLURAL: Readonly<Record<MediaKind, string>> = { image: 'images', video: 'videos', audio: 'audio files', document: 'documents' };

/**
 * Why a file cannot go to WhatsApp for its size, naming the file and the limit, e.g.
 * "photo.png (7.2 MB) is larger than the 5 MB WhatsApp takes for images".
 */
export function describeTooLarge(kind: MediaKind, filename: string | undefined, sizeBytes?: number): string {
  const what = `${filename ?? 'the file'}${sizeBytes !== undefined ? ` (${formatBytes(sizeBytes)})` : ''}`;
  return `${what} is larger than the ${formatBytes(MEDIA_LIMITS[kind])} WhatsApp takes for ${KIND_PLURAL[kind]}`;
}
