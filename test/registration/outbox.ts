import type { AppContext } from '../../src/app/context.js';

/** The newest message in the outbox for a recipient (and purpose), as delivered text. */
export async function lastMessage(ctx: AppContext, to: string, purpose?: string) {
  let q = ctx.db.kysely.selectFrom('outbox').selectAll().where('recipient', '=', to);
  if (purpose) q = q.where('purpose', '=', purpose);
  const rows = await q.execute();
  const row = rows.sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0)).at(-1);
  if (!row) return null;
  const p = JSON.parse(row.payload) as { subject: string | null; text: string; html: string | null; lang?: string };
  return { ...p, purpose: row.purpose, channel: row.channel, count: rows.length };
}

export async function messageCount(ctx: AppContext, to: string, purpose?: string): Promise<number> {
  let q = ctx.db.kysely.selectFrom('outbox').select('id').where('recipient', '=', to);
  if (purpose) q = q.where('purpose', '=', purpose);
  return (await q.execute()).length;
}

/** The activation link in the newest verification email to `to`, as a path, and its token. */
export async function verificationLink(ctx: AppContext, to: string): Promise<{ path: string; token: string }> {
  const m = await lastMessage(ctx, to, 'email_verification');
  if (!m) throw new Error(`no verification email to ${to}`);
  const url = /(https?:\/\/\S+\/verify-email\?\S+)/.exec(m.text)![1]!;
  const u = new URL(url);
  return { path: `${u.pathname}${u.search}`, token: u.searchParams.get('token')! };
}

export const details = (over: Record<string, unknown> = {}) => ({
  username: 'mario.bianchi',
  password: 'Lago-Maggiore-71',
  passwordConfirm: 'Lago-Maggiore-71',
  givenName: 'Mario',
  familyName: 'Bianchi',
  birthDate: '1990-04-12',
  mobile: '+39 333 123 4567',
  email: 'mario.bianchi@example.org',
  consents: { privacy: true },
  ...over,
});
