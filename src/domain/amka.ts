/**
 * AMKA, the Greek social-security number: 11 digits, the holder's birth date as DDMMYY, four
 * serial digits and a Luhn check digit. Pure; no I/O.
 */

/** True when `digits` passes the Luhn (mod 10) check. */
export function luhnValid(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false;
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

/** Whether DDMMYY is a real calendar date in some century (a 29 February needs a leap year). */
function validDdMmYy(dd: number, mm: number, yy: number): boolean {
  if (mm < 1 || mm > 12 || dd < 1) return false;
  // Either 19YY or 20YY may be meant: accept the date if it exists in one of them.
  return [1900 + yy, 2000 + yy].some((year) => {
    const last = new Date(Date.UTC(year, mm, 0)).getUTCDate();
    return dd <= last;
  });
}

/** Removes the spaces and dashes people type into an AMKA. */
export const normalizeAmka = (s: string): string => s.replace(/[\s-]/g, '');

/** True for an 11-digit AMKA whose first six digits are a date (DDMMYY) and whose check digit is right. */
export function isValidAmka(s: string): boolean {
  const v = normalizeAmka(s);
  if (!/^\d{11}$/.test(v)) return false;
  if (!validDdMmYy(Number(v.slice(0, 2)), Number(v.slice(2, 4)), Number(v.slice(4, 6)))) return false;
  return luhnValid(v);
}

/** The AMKA in its stored form (11 digits), or null when it is not valid (`amka.invalid`). */
export function parseAmka(input: string): string | null {
  const v = normalizeAmka(input);
  return isValidAmka(v) ? v : null;
}

/**
 * Whether a stored (11-digit) AMKA carries the birth date `isoDate` (YYYY-MM-DD) as its first six
 * digits (DDMMYY): one that does not is someone else's number or a typo (`amka.birth_date_mismatch`).
 */
export function amkaMatchesBirthDate(amka: string, isoDate: string): boolean {
  return amka.slice(0, 6) === `${isoDate.slice(8, 10)}${isoDate.slice(5, 7)}${isoDate.slice(2, 4)}`;
}
