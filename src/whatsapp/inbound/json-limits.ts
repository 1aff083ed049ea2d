/**
 * Limits checked on a webhook body before anything walks it recursively, and the one
 * normalisation of text Postgres cannot store. Meta's deliveries nest about 8 levels and hold a
 * few hundred values; these limits leave ample room and stop a hostile body from overflowing the
 * stack of a recursive walk (a 10,000-deep object did, while being quarantined).
 */
export const MAX_JSON_DEPTH = 64;
export const MAX_JSON_VALUES = 50_000;

const OPEN_OBJECT = 0x7b;
const OPEN_ARRAY = 0x5b;
const CLOSE_OBJECT = 0x7d;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Why a body is beyond the limits, or undefined. One pass over the bytes, no recursion. */
export function beyondJsonLimits(raw: Buffer): string | undefined {
  let depth = 0;
  let values = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === QUOTE) {
      // Jump over the string natively (most of a delivery's bytes are in strings): to the next
      // quote not escaped by an odd run of backslashes.
      let end = raw.indexOf(QUOTE, i + 1);
      while (end > 0 && escaped(raw, end)) end = raw.indexOf(QUOTE, end + 1);
      if (end < 0) return undefined; // an unterminated string: JSON.parse refuses it
      i = end;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (++depth > MAX_JSON_DEPTH) return `nested deeper than ${MAX_JSON_DEPTH} levels`;
      values++;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) depth--;
    else if (c === COMMA && ++values > MAX_JSON_VALUES) return `more than ${MAX_JSON_VALUES} values`;
  }
  return undefined;
}

/** True when the byte at `at` is preceded by an odd number of backslashes. */
function escaped(raw: Buffer, at: number): boolean {
  let n = 0;
  for (let i = at - 1; i >= 0 && raw[i] === BACKSLASH; i--) n++;
  return n % 2 === 1;
}

// NUL, and a surrogate half without its other half: JSON may carry both as \u escapes, Postgres
// text and jsonb hold neither.
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Replaces, in place, every NUL and lone surrogate in the strings (keys included) of a parsed
 * body with U+FFFD. Iterative. Returns how many strings changed. Only bodies with a `\u` escape
 * can hold either (raw bytes decode to well-formed text), so callers skip the walk for the rest.
 */
export function normaliseUnstorableText(root: unknown): number {
  let changed = 0;
  const fix = (s: string): string => {
    UNSTORABLE.lastIndex = 0;
    if (!UNSTORABLE.test(s)) return s;
    changed++;
    return s.replace(UNSTORABLE, '\ufffd');
  };
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        if (typeof node[i] === 'string') node[i] = fix(node[i] as string);
        else if (node[i] && typeof node[i] === 'object') stack.push(node[i]);
      }
    } else if (node && typeof node === 'object') {
      const obj = node as Record<string, unknown>;
      for (const key of Object.keys(obj)) {
        const value = obj[key];
        const fixedKey = fix(key);
        if (fixedKey !== key) {
          delete obj[key];
          obj[fixedKey] = value;
        }
        if (typeof value === 'string') obj[fixedKey] = fix(value);
        else if (value && typeof value === 'object') stack.push(value);
      }
    }
  }
  return changed;
}
