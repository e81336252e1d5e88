import { createRequire } from 'node:module';
import type { CountryCode, parsePhoneNumberFromString as Parse } from 'libphonenumber-js/max';

// The full metadata (exact number ranges, so a typo is caught) is large: loaded with the first number.
let parser: typeof Parse | undefined;
const parsePhoneNumberFromString: typeof Parse = (...args: Parameters<typeof Parse>) =>
  (parser ??= (createRequire(import.meta.url)('libphonenumber-js/max') as { parsePhoneNumberFromString: typeof Parse }).parsePhoneNumberFromString)(...args);

/** The parts of the number toE164 returned last: a number is often masked right after it is read. */
let lastParsed: { e164: string; countryCallingCode: string; nationalNumber: string; type: () => string | undefined } | undefined;

/**
 * A phone number in E.164 (`+306912345678`) from any common notation: `+30 69…`, `0030 69…`,
 * or a national number (`69…`) read with the institution's default country. Null when it is
 * not a valid number.
 */
export function toE164(input: string, defaultCountry: string): string | null {
  // Word processors and phone keyboards turn the dashes people type into Unicode ones (hyphen,
  // non-breaking hyphen, figure, en and em dash, minus, full-width): they separate digit groups
  // just as an ASCII dash does.
  let s = input.trim().replace(/[\u2010-\u2015\u2212\ufe58\ufe63\uff0d]/g, '-');
  if (s.length === 0 || s.length > 40) return null;
  if (!/^[+0-9\s().\-/]+$/.test(s)) return null;
  // "00" is the international prefix in most of Europe; libphonenumber reads it only with a country.
  if (s.startsWith('00')) s = `+${s.slice(2)}`;
  const p = parsePhoneNumberFromString(s, defaultCountry.toUpperCase() as CountryCode);
  if (!p || !p.isValid()) return null;
  lastParsed = { e164: p.number, countryCallingCode: p.countryCallingCode, nationalNumber: String(p.nationalNumber), type: () => p.getType() };
  return p.number;
}

function partsOf(e164: string): { countryCallingCode: string; nationalNumber: string } | null {
  if (lastParsed?.e164 === e164) return lastParsed;
  const p = parsePhoneNumberFromString(e164);
  return p ? { countryCallingCode: p.countryCallingCode, nationalNumber: String(p.nationalNumber) } : null;
}

/**
 * A phone number with most digits hidden, grouped like `+30 69** *** *67`: the country code,
 * the first two and the last two national digits stay visible.
 */
export function maskPhone(e164: string): string {
  const p = partsOf(e164);
  const cc = p ? p.countryCallingCode : '';
  const national = p ? p.nationalNumber : e164.replace(/^\+/, '');
  const masked = national
    .split('')
    .map((c, i) => (i < 2 || i >= national.length - 2 ? c : '*'))
    .join('');
  const groups = [masked.slice(0, 4), masked.slice(4, 7), masked.slice(7)].filter((g) => g.length > 0);
  return `+${cc} ${groups.join(' ')}`;
}

/** The kinds of number an SMS can reach; a number of unknown kind is given the benefit of the doubt. */
const smsKinds = new Set(['MOBILE', 'FIXED_LINE_OR_MOBILE', 'PERSONAL_NUMBER', 'VOIP']);

/**
 * False for a valid number no SMS reaches (a landline, a toll-free, premium-rate or shared-cost
 * number): given as a mobile, a PIN sent to it would never arrive.
 */
export function canTakeSms(e164: string): boolean {
  // Usually asked right after toE164 read the number: its parse is reused.
  const type = lastParsed?.e164 === e164 ? lastParsed.type() : parsePhoneNumberFromString(e164)?.getType();
  return type === undefined || smsKinds.has(type);
}
