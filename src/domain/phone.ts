import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';

/**
 * A phone number in E.164 (`+393471234567`). Numbers without an international prefix are read as
 * numbers of `defaultCountry` (the institution's country). Returns null when the number is not a
 * valid number (the caller reports `phone.invalid`).
 */
export function normalisePhone(input: string, defaultCountry: string): string | null {
  const trimmed = input.trim();
  if (trimmed.length < 3 || trimmed.length > 32) return null;
  // "0039…" is the Italian and Greek way of writing the international prefix.
  const value = trimmed.startsWith('00') ? `+${trimmed.slice(2)}` : trimmed;
  const parsed = parsePhoneNumberFromString(value, defaultCountry.toUpperCase() as CountryCode);
  if (!parsed || !parsed.isValid()) return null;
  return parsed.number;
}
