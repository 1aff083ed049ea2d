/**
 * Phone numbers as CRMs hold them. WhatsApp identifies a customer by wa_id (international digits,
 * no '+'); CRMs keep phone numbers in free-text fields typed by people, in whatever form they
 * like. Connectors normalise to E.164 with {@link toE164} and search the remote system for every
 * common written form with {@link phoneVariants}.
 */
import { parsePhoneNumberFromString, type CountryCode, type PhoneNumber } from 'libphonenumber-js';

export type { CountryCode };

/**
 * Normalises a phone number written in any common form to E.164 (`+48601234567`).
 *
 * - `+48 601 234 567`, `+48-601-234-567`, `tel:+48601234567`, `+44 (0)7400 123456` → parsed as written.
 * - `0048601234567` → the `00` international prefix is read as `+`.
 * - `601234567` → needs `defaultCountry` (the national form is ambiguous without one).
 * - `48601234567` (a WhatsApp wa_id) → read as international digits when it is a valid number.
 *
 * Numbers with an explicit '+'/'00' are accepted when their length is possible for the country
 * (metadata for new ranges lags behind reality); bare digits must be valid, so a national number
 * is not mistaken for some other country's international one.
 *
 * @returns the E.164 string, or undefined when the input cannot be read as a phone number.
 */
export function toE164(raw: string, defaultCountry?: CountryCode): string | undefined {
  if (typeof raw !== 'string') return undefined;
  let text = raw.trim().replace(/^tel:/i, '');
  // "+44 (0)7400 123456": the "(0)" is the trunk prefix people add for national callers.
  if (text.startsWith('+')) text = text.replace(/\(0\)/g, '');
  const hasPlus = text.startsWith('+');
  const digits = text.replace(/\D/g, '');
  if (digits.length < 4 || digits.length > 17) return undefined;

  if (hasPlus) return accept(parsePhoneNumberFromString(`+${digits}`), false);
  if (digits.startsWith('00')) return accept(parsePhoneNumberFromString(`+${digits.slice(2)}`), false);
  if (defaultCountry) {
    const national = accept(parsePhoneNumberFromString(digits, defaultCountry), true);
    if (national) return national;
  }
  return accept(parsePhoneNumberFromString(`+${digits}`), true);
}

function accept(parsed: PhoneNumber | undefined, strict: boolean): string | undefined {
  if (!parsed) return undefined;
  if (strict ? !parsed.isValid() : !parsed.isPossible()) return undefined;
  return parsed.number;
}

/**
 * The forms a person may have typed the number `e164` in, for exact-match searches in CRMs whose
 * phone fields are free text. Order: the most canonical first; no duplicates. For +48601234567:
 * `+48601234567`, `48601234567`, `0048601234567`, `+48 601 234 567`, `48 601 234 567`,
 * `+48-601-234-567`, `601 234 567`, `601234567`, `601-234-567`, `+48 601234567`; for a US number
 * also `(650) 555-1234` and `+1 (650) 555-1234`; for numbers with a trunk prefix `07400 123456`
 * and `07400123456`.
 *
 * @returns [] when `e164` is not a phone number.
 */
export function phoneVariants(e164: string): string[] {
  const parsed = parsePhoneNumberFromString(typeof e164 === 'string' ? e164.trim() : '');
  if (!parsed) return [];
  const cc = parsed.countryCallingCode;
  const nsn = parsed.nationalNumber; // national significant number: no trunk prefix
  const international = parsed.formatInternational(); // "+48 601 234 567"
  const national = parsed.formatNational(); // "601 234 567", "(650) 555-1234", "07400 123456"
  const nationalDigits = national.replace(/\D/g, ''); // with the trunk prefix where the country has one
  const dashed = international.replace(/\s+/g, '-'); // "+48-601-234-567"
  const nationalDashed = dashed.slice(`+${cc}-`.length); // "601-234-567", "650-555-1234"

  const forms = [
    parsed.number,
    `${cc}${nsn}`,
    `00${cc}${nsn}`,
    international,
    international.slice(1),
    dashed,
    national,
    nationalDigits,
    nsn,
    nationalDashed,
    `+${cc} ${nsn}`,
  ];
  // "+1 (650) 555-1234": only where the national form has no trunk prefix to drop.
  if (nationalDigits === nsn) forms.push(`+${cc} ${national}`);
  return [...new Set(forms.filter((f) => f.length > 0))];
}

/** The country a number in E.164 belongs to, to read national forms held next to it. */
export function countryOf(e164: string): CountryCode | undefined {
  return parsePhoneNumberFromString(e164)?.country;
}
