import { describe, expect, it } from '@jest/globals';
import { describeTooLarge, formatBytes, MAX_MEDIA_BYTES, MEDIA_LIMITS, mediaKindOf, mimeTypeOfName, normaliseMimeType } from './outbound-media';

describe('which WhatsApp message a file becomes', () => {
  it.each([
    ['image/jpeg', 'image'],
    ['image/png', 'image'],
    ['IMAGE/JPG', 'image'],
    ['video/mp4', 'video'],
    ['video/3gpp', 'video'],
    ['audio/aac', 'audio'],
    ['audio/amr', 'audio'],
    ['audio/mpeg', 'audio'],
    ['audio/mp3', 'audio'],
    ['audio/mp4', 'audio'],
    ['audio/ogg; codecs=opus', 'audio'],
    ['application/pdf', 'document'],
    ['image/gif', 'document'],
    ['image/webp', 'document'],
    ['image/heic', 'document'],
    ['video/quicktime', 'document'],
    ['audio/wav', 'document'],
    ['text/plain', 'document'],
    ['application/octet-stream', 'document'],
    [undefined, 'document'],
  ])('%s → %s', (mimeType, kind) => {
    expect(mediaKindOf(mimeType)).toBe(kind);
  });

  it('has the limit of each kind, documents the largest', () => {
    expect(MEDIA_LIMITS).toEqual({ image: 5_000_000, video: 16_000_000, audio: 16_000_000, document: 100_000_000 });
    expect(MAX_MEDIA_BYTES).toBe(100_000_000);
  });

  it('reads types the way WhatsApp knows them, and none from an uninformative one', () => {
    expect(normaliseMimeType(' Image/JPEG ; charset=binary')).toBe('image/jpeg');
    expect(normaliseMimeType('audio/x-m4a')).toBe('audio/mp4');
    expect(normaliseMimeType('application/octet-stream')).toBeUndefined();
    expect(normaliseMimeType('not a type')).toBeUndefined();
    expect(normaliseMimeType('')).toBeUndefined();
    expect(normaliseMimeType(undefined)).toBeUndefined();
  });

  it.each([
    ['photo.JPG', 'image/jpeg'],
    ['voice.opus', 'audio/ogg'],
    ['Invoice 4711.pdf', 'application/pdf'],
    ['report.xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
    ['archive.tar.zst', undefined],
    ['README', undefined],
    [undefined, undefined],
  ])('guesses %s as %s from its name', (name, type) => {
    expect(mimeTypeOfName(name)).toBe(type);
  });

  it('names the file and the limit when a file is too large', () => {
    expect(describeTooLarge('image', 'photo.png', 7_240_000)).toBe('photo.png (7.2 MB) is larger than the 5 MB WhatsApp takes for images');
    expect(describeTooLarge('document', undefined)).toBe('the file is larger than the 100 MB WhatsApp takes for documents');
    expect(formatBytes(820_400)).toBe('820 KB');
    expect(formatBytes(12)).toBe('12 bytes');
  });
});
