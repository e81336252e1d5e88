import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../src/app/context.js';
import { seedAccount } from '../helpers/fixtures.js';

/** A valid AMKA for a birth date (DDMMYY) and serial: the Luhn check digit is computed. */
export function makeAmka(ddmmyy: string, serial = '1234'): string {
  const body = `${ddmmyy}${serial}`;
  for (let d = 0; d <= 9; d++) {
    const s = `${body}${d}`;
    let sum = 0;
    for (let i = 0; i < s.length; i++) {
      let x = Number(s[s.length - 1 - i]);
      if (i % 2 === 1) {
        x *= 2;
        if (x > 9) x -= 9;
      }
      sum += x;
    }
    if (sum % 10 === 0) return s;
  }
  throw new Error('unreachable');
}

/** The messages kept in the development outbox (no transport configured in tests). */
export async function devOutbox(app: FastifyInstance): Promise<Array<{ channel: string; to: string; text: string; subject: string | null; html: string | null; purpose: string }>> {
  const r = await app.inject({ method: 'GET', url: '/api/v1/dev/outbox' });
  if (r.statusCode !== 200) throw new Error(`dev outbox: ${r.statusCode}`);
  return (r.json() as { messages: any[] }).messages;
}

/** The newest PIN sent to `to` (a phone in E.164 or an email), read from the development outbox. */
export async function lastPinFor(app: FastifyInstance, to: string): Promise<string> {
  const m = (await devOutbox(app)).find((x) => x.to.toLowerCase() === to.toLowerCase() && x.purpose === 'activation_pin');
  const pin = m ? /\b(\d{6})\b/.exec(m.text)?.[1] : undefined;
  if (!pin) throw new Error(`no PIN for ${to}`);
  return pin;
}

/** A student waiting for activation, with a phone and an email on file. */
export async function seedStudent(ctx: AppContext, o: { externalId?: string; mobile?: string | null; email?: string | null; amka?: string | null; taxCode?: string | null; status?: string; registrarStatus?: string; population?: string } = {}) {
  return seedAccount(ctx, {
    externalId: o.externalId ?? 'S1001',
    population: o.population ?? 'student',
    givenName: 'Eleni',
    familyName: 'Papadopoulou',
    mobile: o.mobile === undefined ? '+306912345667' : o.mobile,
    personalEmail: o.email === undefined ? 'Eleni.P@example.org' : o.email,
    amka: o.amka === undefined ? null : o.amka,
    taxCode: o.taxCode ?? null,
    status: o.status ?? 'pending_activation',
    registrarStatus: o.registrarStatus ?? 'enrolled',
  });
}
