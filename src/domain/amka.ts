/**
 * The Greek social security number (ΑΜΚΑ): 11 digits, the first six the date of birth as DDMMYY,
 * the last a Luhn check digit.
 */

/** True when the digits pass the Luhn (mod 10) check. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

function isCalendarDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * Normalises (removes spaces) and checks an AMKA. The two-digit year may be in either century, so
 * 29 February is a date when 19YY or 20YY is a leap year. Returns the 11 digits, or null when not
 * valid (the caller reports `amka.invalid`).
 */
export function normaliseAmka(input: string): string | null {
  const amka = input.replace(/\s+/g, '');
  if (!/^\d{11}$/.test(amka)) return null;
  const day = Number(amka.slice(0, 2));
  const month = Number(amka.slice(2, 4));
  const yy = Number(amka.slice(4, 6));
  if (!isCalendarDate(1900 + yy, month, day) && !isCalendarDate(2000 + yy, month, day)) return null;
  return luhnValid(amka) ? amka : null;
}
