import { createRequire } from 'node:module';
import { isValidAmka } from './amka.js';

/**
 * Foreign insurance numbers of students without an AMKA (`uop`): the issuing country, and either
 * the country's own social-insurance / personal number or the number of the European Health
 * Insurance Card (EHIC). Pure; no I/O.
 */

/** EU and EEA members, Switzerland and the United Kingdom: the countries that issue an EHIC. */
export const ehicCountries = [
  'AT', 'BE', 'BG', 'HR', 'CY', 'CZ', 'DK', 'EE', 'FI', 'FR', 'DE', 'GR', 'HU', 'IE', 'IT', 'LV', 'LT', 'LU', 'MT', 'NL',
  'PL', 'PT', 'RO', 'SK', 'SI', 'ES', 'SE', 'IS', 'LI', 'NO', 'CH', 'GB',
] as const;

/** Other countries students commonly come from; the list is offered after the EHIC countries. */
export const otherCountries = [
  'AL', 'AM', 'AU', 'BA', 'BR', 'BY', 'CA', 'CN', 'EG', 'GE', 'IL', 'IN', 'IQ', 'IR', 'JO', 'JP', 'KZ', 'LB', 'MA', 'MD',
  'ME', 'MK', 'NG', 'PK', 'PS', 'RS', 'RU', 'SY', 'TN', 'TR', 'UA', 'US', 'XK',
] as const;

export const insuranceCountries: readonly string[] = [...ehicCountries, ...otherCountries];

/** ISO 3166 numeric codes, used in EHIC card numbers (ISO/IEC 7812: "80" + country + issuer + serial). */
const numericCode: Record<string, string> = {
  AT: '040', BE: '056', BG: '100', HR: '191', CY: '196', CZ: '203', DK: '208', EE: '233', FI: '246', FR: '250', DE: '276',
  GR: '300', HU: '348', IE: '372', IT: '380', LV: '428', LT: '440', LU: '442', MT: '470', NL: '528', PL: '616', PT: '620',
  RO: '642', SK: '703', SI: '705', ES: '724', SE: '752', IS: '352', LI: '438', NO: '578', CH: '756', GB: '826',
};

type Validator = { validate(v: string): { isValid: boolean } };
/** The national numbers with a known check rule, per country (from the stdnum library). */
const ruleNames: Record<string, string> = {
  AT: 'vnr', BE: 'insz', BG: 'egn', CH: 'ssn', CZ: 'rc', DE: 'svnr', DK: 'cpr', EE: 'ik', ES: 'nss', FI: 'hetu', FR: 'nir',
  GB: 'nino', HR: 'oib', IE: 'pps', IS: 'kennitala', IT: 'codicefiscale', LT: 'asmens', NL: 'bsn', NO: 'fodselsnummer',
  PL: 'pesel', RO: 'cnp', SE: 'personnummer', SI: 'emso', SK: 'rc', US: 'ssn', CA: 'sin',
};
// The rule library is loaded with the first foreign number checked (it is large, and most requests
// never need it).
const require = createRequire(import.meta.url);
let library: Record<string, Record<string, Validator> | undefined> | undefined;
const rules = () => (library ??= (require('stdnum') as { stdnum: Record<string, Record<string, Validator> | undefined> }).stdnum);
const greekAmka: Validator = { validate: (v) => ({ isValid: isValidAmka(v) }) };

/**
 * True for a German health-insurance number (Krankenversichertennummer, the 10-character
 * lifelong part printed on the health card): a letter, 8 digits and a check digit. The letter
 * becomes its two-digit position in the alphabet (A = 01 … Z = 26); the 10 digits so formed are
 * weighted 1, 2, 1, 2, …, the digits of each product are added up, and the sum modulo 10 is the
 * check digit.
 */
export function isValidKvnr(compact: string): boolean {
  if (!/^[A-Z]\d{9}$/.test(compact)) return false;
  const digits = String(compact.charCodeAt(0) - 64).padStart(2, '0') + compact.slice(1, 9);
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    const p = Number(digits[i]) * (i % 2 === 0 ? 1 : 2);
    sum += Math.floor(p / 10) + (p % 10);
  }
  return sum % 10 === Number(compact[9]);
}

/** Germany has two numbers a student may hold: the pension-insurance number and the health-insurance number. */
const germanNumbers: Validator = {
  validate: (v) => ({ isValid: isValidKvnr(v) || (rules().DE?.svnr?.validate(v).isValid ?? false) }),
};

function nationalRule(cc: string): Validator | undefined {
  if (cc === 'GR') return greekAmka;
  if (cc === 'DE') return germanNumbers;
  const name = ruleNames[cc];
  return name ? rules()[cc]?.[name] : undefined;
}

export type InsuranceCheck =
  | { ok: true; number: string; kind: 'ehic' | 'national' | 'generic' }
  | { ok: false; field: 'insuranceCountry' | 'insuranceNumber'; code: 'country.invalid' | 'insurance.invalid' };

/** Strips what people type between groups of characters, and uppercases. */
export const compactInsuranceNumber = (s: string): string => s.replace(/[\s./-]/g, '').toUpperCase();

/** True for a 20-digit EHIC card number issued in `country` ("80" + its ISO numeric code). */
export function isEhicNumber(country: string, compact: string): boolean {
  const num = numericCode[country];
  return num !== undefined && /^\d{20}$/.test(compact) && compact.startsWith(`80${num}`);
}

/**
 * Checks a foreign insurance number for a country: the one check used by the activation flow and
 * by the registrar's imports. An EHIC number passes by its format; a national number by the
 * country's rule where one is known; otherwise 5 to 30 letters and digits. The flow offers only
 * `insuranceCountries`; an import (`anyCountry`) may name any country, which then gets the rule
 * it has, or the generic one. Produces the field codes `country.invalid` and `insurance.invalid`.
 */
export function checkInsuranceNumber(country: string, number: string, opts: { anyCountry?: boolean } = {}): InsuranceCheck {
  const cc = country.trim().toUpperCase();
  if (!opts.anyCountry && !insuranceCountries.includes(cc)) return { ok: false, field: 'insuranceCountry', code: 'country.invalid' };
  const compact = compactInsuranceNumber(number);
  if (compact.length === 0 || compact.length > 30) return { ok: false, field: 'insuranceNumber', code: 'insurance.invalid' };
  if (/^80\d{18}$/.test(compact)) {
    // Looks like a card number: it must be one of this country's cards.
    return isEhicNumber(cc, compact) ? { ok: true, number: compact, kind: 'ehic' } : { ok: false, field: 'insuranceNumber', code: 'insurance.invalid' };
  }
  const rule = nationalRule(cc);
  if (rule) {
    let valid = false;
    try {
      valid = rule.validate(compact).isValid;
    } catch {
      valid = false;
    }
    return valid ? { ok: true, number: compact, kind: 'national' } : { ok: false, field: 'insuranceNumber', code: 'insurance.invalid' };
  }
  if (/^[A-Z0-9]{5,30}$/.test(compact)) return { ok: true, number: compact, kind: 'generic' };
  return { ok: false, field: 'insuranceNumber', code: 'insurance.invalid' };
}
