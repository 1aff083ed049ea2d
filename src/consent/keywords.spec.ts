import { describe, expect, it } from '@jest/globals';
import { compileKeywords, DEFAULT_START_KEYWORDS, DEFAULT_STOP_KEYWORDS, matchKeyword, normalizeKeyword } from './keywords';

const defaults = compileKeywords();

describe('consent keywords', () => {
  // What customers really type: odd casing, spaces, accents missing or added, punctuation, emoji.
  const stops: [language: string, text: string][] = [
    ['EN', 'STOP'],
    ['EN', 'stop'],
    ['EN', '  Stop.  '],
    ['EN', 'sToP!!'],
    ['EN', 'Unsubscribe'],
    ['EN', 'cancel'],
    ['EN', 'stop all'],
    ['EN', 'opt-out'],
    ['EN', '\tSTOP\n'],
    ['EN', 'STOP 🛑'],
    ['EN', 'S T O P'],
    ['PL', 'wypisz'],
    ['PL', ' Wypisz '],
    ['PL', 'rezygnuję'],
    ['PL', 'REZYGNUJE'],
    ['DE', 'Stopp'],
    ['DE', 'STOPP!'],
    ['DE', 'abmelden'],
    ['DE', 'Abbestellen'],
    ['FR', 'ARRÊT'],
    ['FR', 'arret'],
    ['FR', 'Arrêt !'],
    ['FR', 'désabonner'],
    ['FR', 'DESABONNER'],
    ['FR', 'Ａｒｒêｔ'], // full-width letters from an Asian keyboard
    ['ES', 'BAJA'],
    ['ES', 'baja.'],
    ['ES', 'Parar'],
    ['ES', 'detener'],
    ['PT', 'parar'],
    ['PT', 'Sair'],
    ['PT', 'cancelar inscrição'],
    ['PT', 'CANCELAR INSCRICAO'],
    ['IT', 'ANNULLA'],
    ['IT', 'annulla'],
    ['IT', 'Disiscrivimi'],
    ['IT', 'ferma'],
  ];
  it.each(stops)('%s: %j is a stop keyword', (_language, text) => {
    expect(matchKeyword(text, defaults)).toBe('stop');
  });

  const starts: [language: string, text: string][] = [
    ['EN', 'START'],
    ['EN', ' start '],
    ['EN', 'Subscribe'],
    ['EN', 'unstop'],
    ['EN', 'opt in'],
    ['PL', 'ZAPISZ'],
    ['PL', 'zapisz!'],
    ['DE', 'Anmelden'],
    ['DE', 'abonnieren'],
    ['FR', 'Commencer'],
    ['FR', 'ABONNER'],
    ['ES', 'alta'],
    ['ES', 'Iniciar'],
    ['PT', 'começar'],
    ['PT', 'COMECAR'],
    ['PT', 'iniciar'],
    ['IT', 'Avvia'],
    ['IT', 'iscrivimi'],
  ];
  it.each(starts)('%s: %j is a start keyword', (_language, text) => {
    expect(matchKeyword(text, defaults)).toBe('start');
  });

  const notKeywords = [
    'stop the delivery please',
    'Please stop',
    'STOP?? why did my order stop',
    'start my return',
    'I want to cancel my order',
    'stopper',
    'arrêtez la livraison',
    'baja el precio',
    '',
    '   ',
    '!!!',
    '🛑',
    'no',
  ];
  it.each(notKeywords)('%j is not a keyword', (text) => {
    expect(matchKeyword(text, defaults)).toBeNull();
  });

  it('rejects a long message without normalising it, even one that would reduce to a keyword', () => {
    expect(matchKeyword(`STOP${' '.repeat(5000)}`, defaults)).toBeNull();
    expect(matchKeyword(`${' '.repeat(20)}STOP${' '.repeat(20)}`, defaults)).toBe('stop');
  });

  it('treats null and undefined bodies as no keyword', () => {
    expect(matchKeyword(undefined, defaults)).toBeNull();
    expect(matchKeyword(null, defaults)).toBeNull();
  });

  it('normalises accents, letters Unicode does not decompose, case, spaces and punctuation', () => {
    expect(normalizeKeyword(' Arrêt ! ')).toBe('ARRET');
    expect(normalizeKeyword('Wyłącz')).toBe('WYLACZ');
    expect(normalizeKeyword('Straße')).toBe('STRASSE');
    expect(normalizeKeyword('opt-out')).toBe('OPTOUT');
    expect(normalizeKeyword('stop the delivery please')).toBe('STOPTHEDELIVERYPLEASE');
  });

  it('uses a configured list instead of the built-in one', () => {
    const custom = compileKeywords(['HALT', 'Genug'], ['WEITER']);
    expect(matchKeyword('halt', custom)).toBe('stop');
    expect(matchKeyword('GENUG!', custom)).toBe('stop');
    expect(matchKeyword('weiter', custom)).toBe('start');
    expect(matchKeyword('STOP', custom)).toBeNull();
  });

  it('counts a word in both lists as stop, the safe side', () => {
    const both = compileKeywords(['STOP', 'ENOUGH'], ['START', 'enough']);
    expect(matchKeyword('Enough', both)).toBe('stop');
    expect(both.start.has('ENOUGH')).toBe(false);
  });

  it('ships stop and start lists that do not overlap', () => {
    const stop = new Set(DEFAULT_STOP_KEYWORDS.map(normalizeKeyword));
    expect(DEFAULT_START_KEYWORDS.map(normalizeKeyword).filter((k) => stop.has(k))).toEqual([]);
    expect(defaults.start.size).toBe(new Set(DEFAULT_START_KEYWORDS.map(normalizeKeyword)).size);
  });
});
