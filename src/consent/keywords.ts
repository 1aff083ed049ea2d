/**
 * Consent keywords: a customer who writes exactly STOP (or START) in one of the languages we serve
 * changes their marketing consent. Pure functions, no I/O.
 */

export type KeywordIntent = 'stop' | 'start';

/**
 * Built-in stop words (EN, PL, DE, FR, ES, PT, IT), compared after normalisation, so accents,
 * case, spaces and punctuation do not matter (ARRÊT = arret = "A r r e t !").
 * Words that commonly mean something else in a chat ("NO", "BASTA") are left out on purpose:
 * a false opt-out silently stops marketing to a customer who never asked for it.
 */
export const DEFAULT_STOP_KEYWORDS: readonly string[] = [
  // EN (the carrier-standard set)
  'STOP', 'STOP ALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'OPT OUT', 'OPTOUT',
  // PL
  'WYPISZ', 'REZYGNUJĘ', 'ZATRZYMAJ',
  // DE
  'STOPP', 'ABMELDEN', 'ABBESTELLEN',
  // FR
  'ARRÊT', 'ARRETER', 'DÉSABONNER', 'DÉSINSCRIRE',
  // ES
  'BAJA', 'PARAR', 'DETENER', 'DESUSCRIBIR',
  // PT
  'SAIR', 'CANCELAR INSCRIÇÃO', 'DESCADASTRAR',
  // IT
  'ANNULLA', 'DISISCRIVIMI', 'FERMA',
];

/**
 * Built-in start words, same languages and rules. Kept shorter than the stop list: a false opt-in
 * would send marketing to someone who never agreed to it, which is worse than a false opt-out.
 */
export const DEFAULT_START_KEYWORDS: readonly string[] = [
  // EN
  'START', 'SUBSCRIBE', 'UNSTOP', 'OPT IN', 'OPTIN',
  // PL
  'ZAPISZ',
  // DE
  'ANMELDEN', 'ABONNIEREN',
  // FR
  'COMMENCER', 'ABONNER',
  // ES
  'ALTA', 'INICIAR', 'SUSCRIBIR',
  // PT
  'COMEÇAR', 'ASSINAR',
  // IT
  'AVVIA', 'ISCRIVIMI',
];

/** Letters that Unicode does not decompose into a base letter plus an accent. */
const UNDECOMPOSED: Record<string, string> = { ł: 'l', Ł: 'L', ø: 'o', Ø: 'O', đ: 'd', Đ: 'D', ß: 'ss', æ: 'ae', Æ: 'AE', œ: 'oe', Œ: 'OE' };

/**
 * The comparable form of a text: accents removed (NFKD, then combining marks dropped), upper case,
 * and only letters and digits kept — so whitespace, punctuation and emoji around or inside a word
 * do not matter. "  Arrêt ! " → "ARRET"; "stop the delivery please" → "STOPTHEDELIVERYPLEASE".
 */
export function normalizeKeyword(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/[łŁøØđĐßæÆœŒ]/g, (c) => UNDECOMPOSED[c])
    .toUpperCase()
    .replace(/[^\p{L}\p{N}]/gu, '');
}

/** Keyword lists in comparable form, ready for {@link matchKeyword}. */
export interface KeywordSet {
  stop: ReadonlySet<string>;
  start: ReadonlySet<string>;
  /** Longest normalised keyword: longer texts are rejected before any normalisation work. */
  maxLength: number;
}

/**
 * Compiles keyword lists (configured or the defaults). A word in both lists counts as stop: when
 * in doubt, stopping marketing is the safe side.
 */
export function compileKeywords(stop: readonly string[] = DEFAULT_STOP_KEYWORDS, start: readonly string[] = DEFAULT_START_KEYWORDS): KeywordSet {
  const stopSet = new Set(stop.map(normalizeKeyword).filter(Boolean));
  const startSet = new Set(start.map(normalizeKeyword).filter((k) => k && !stopSet.has(k)));
  const maxLength = Math.max(0, ...[...stopSet, ...startSet].map((k) => k.length));
  return { stop: stopSet, start: startSet, maxLength };
}

/**
 * Whether a customer's text is exactly a consent keyword. Only the whole message counts:
 * "stop the delivery please" is a sentence about a delivery, not an opt-out.
 */
export function matchKeyword(text: string | undefined | null, keywords: KeywordSet): KeywordIntent | null {
  if (!text) return null;
  // Cheap guard for the webhook's hot path: ordinary messages are far longer than any keyword.
  // Generous, since spaces, punctuation and combining accents are dropped by normalisation.
  if (text.length > keywords.maxLength * 4 + 16) return null;
  const normalized = normalizeKeyword(text);
  if (!normalized) return null;
  if (keywords.stop.has(normalized)) return 'stop';
  if (keywords.start.has(normalized)) return 'start';
  return null;
}
