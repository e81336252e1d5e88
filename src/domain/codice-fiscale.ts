/**
 * The Italian codice fiscale of a natural person (DM 23/12/1976): 16 characters, the last a check
 * character. Omocodia (the revenue agency replacing digits with letters, from the right, when two
 * people would get the same code) is accepted: positions that hold digits may hold L M N P Q R S T U V.
 */

const omocodia = 'LMNPQRSTUV';
const digitOrOmocodia = '[0-9LMNPQRSTUV]';
const shape = new RegExp(
  `^[A-Z]{6}${digitOrOmocodia}{2}[ABCDEHLMPRST]${digitOrOmocodia}{2}[A-Z]${digitOrOmocodia}{3}[A-Z]$`,
);

// Values of characters in odd positions (1st, 3rd, …), for 0-9 then A-Z; even positions count 0-25.
const oddDigits = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21];
const oddLetters = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23];

/** The check character for the first 15 characters of an upper-case code. */
export function codiceFiscaleCheckChar(first15: string): string {
  let sum = 0;
  for (let i = 0; i < 15; i++) {
    const c = first15.charCodeAt(i);
    const isDigit = c >= 48 && c <= 57;
    const v = isDigit ? c - 48 : c - 65;
    sum += i % 2 === 0 ? (isDigit ? oddDigits[v]! : oddLetters[v]!) : v;
  }
  return String.fromCharCode(65 + (sum % 26));
}

/** Reads an omocodia position back as its digit. */
const asDigit = (ch: string): string => (ch >= '0' && ch <= '9' ? ch : String(omocodia.indexOf(ch)));

/**
 * Normalises (trims, removes inner spaces, upper-cases) and checks a codice fiscale: shape, day of
 * birth (1-31, or 41-71 for women) and check character. Returns the normalised code, or null when
 * it is not valid (the caller reports `tax_code.invalid`).
 */
export function normaliseCodiceFiscale(input: string): string | null {
  const code = input.replace(/\s+/g, '').toUpperCase();
  if (!shape.test(code)) return null;
  const day = Number(asDigit(code[9]!) + asDigit(code[10]!));
  if (!((day >= 1 && day <= 31) || (day >= 41 && day <= 71))) return null;
  if (codiceFiscaleCheckChar(code.slice(0, 15)) !== code[15]) return null;
  return code;
}
