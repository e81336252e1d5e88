import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeApp, testConfig, type TestApp } from '../helpers/app.js';
import { apiClient, FormBrowser } from '../helpers/clients.js';
import { resendOutcome } from '../../src/flows/registration/service.js';
import type { RegistrationData } from '../../src/flows/registration/machine.js';
import type { StepRequest } from '../../src/flows/kernel/types.js';
import { details, lastMessage, messageCount } from './outbox.js';

const HOUR = 3_600_000;

async function outboxSize(t: TestApp): Promise<number> {
  return (await t.ctx.db.kysely.selectFrom('outbox').select('id').execute()).length;
}

async function register(t: TestApp, over: Record<string, unknown> = {}, opts: { ip?: string; lang?: string } = {}) {
  const c = apiClient(t.app, opts);
  const f = (await c.start('registration')).body;
  const r = await c.submit('registration', f.id, details(over));
  return { c, f, r };
}

describe('registration limits: client address', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp();
  });
  after(() => t.close());

  it('accepts 10 registrations an hour from one address, then answers 429 and sends nothing', async () => {
    for (let i = 0; i < 10; i++) {
      const { r } = await register(t, { username: `victim${i}`, email: `victim${i}@example.net` }, { ip: '203.0.113.5' });
      assert.equal(r.status, 200, JSON.stringify(r.body));
    }
    const before = await outboxSize(t);
    const { r } = await register(t, { username: 'victim10', email: 'victim10@example.net' }, { ip: '203.0.113.5', lang: 'it' });
    assert.equal(r.status, 429);
    assert.equal(r.body.error.code, 'registration.too_many_registrations');
    assert.match(r.body.error.message, /troppe registrazioni/i);
    assert.equal(r.body.state, 'awaiting_details');
    assert.equal(await outboxSize(t), before);
    assert.equal(await t.ctx.db.kysely.selectFrom('accounts').select('id').where('username_lower', '=', 'victim10').executeTakeFirst(), undefined);
    // Another address is not affected; an hour later the first one may register again.
    assert.equal((await register(t, { username: 'other.one', email: 'other.one@example.net' }, { ip: '203.0.113.6' })).r.status, 200);
    t.clock.advance(HOUR + 1000);
    assert.equal((await register(t, { username: 'victim10', email: 'victim10@example.net' }, { ip: '203.0.113.5' })).r.status, 200);
  });

  it('counts concurrent registrations atomically: no more than the limit get through', async () => {
    const t2 = await makeApp({ config: testConfig((c) => (c.registration.registrationsPerAddressPerHour = 2)) });
    try {
      const started = await Promise.all(
        Array.from({ length: 6 }, async (_, i) => {
          const c = apiClient(t2.app, { ip: '198.51.100.20' });
          return { c, f: (await c.start('registration')).body, i };
        }),
      );
      const answers = await Promise.all(started.map(({ c, f, i }) => c.submit('registration', f.id, details({ username: `burst${i}`, email: `burst${i}@example.net` }))));
      assert.equal(answers.filter((a) => a.status === 200).length, 2, JSON.stringify(answers.map((a) => [a.status, a.body.error?.code])));
      for (const a of answers.filter((x) => x.status !== 200)) assert.equal(a.body.error.code, 'registration.too_many_registrations');
      const sent = await t2.ctx.db.kysely.selectFrom('outbox').select('id').where('purpose', '=', 'email_verification').execute();
      assert.equal(sent.length, 2);
      const accounts = await t2.ctx.db.kysely.selectFrom('accounts').select('id').where('username_lower', 'like', 'burst%').execute();
      assert.equal(accounts.length, 2);
    } finally {
      await t2.close();
    }
  });
});

describe('registration limits: emails of one registration', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp();
  });
  after(() => t.close());

  it('puts change_email under the resend cooldown and caps the emails at 5 in all, sending nothing when refused', async () => {
    const { c, f } = await register(t, { username: 'cap.user', email: 'cap0@example.net' });
    const soon = await c.submit('registration', f.id, { action: 'change_email', email: 'cap1@example.net' });
    assert.equal(soon.status, 429);
    assert.equal(soon.body.error.code, 'registration.resend_too_soon');
    assert.equal(await messageCount(t.ctx, 'cap1@example.net'), 0);
    const acc = await t.ctx.db.kysely.selectFrom('accounts').select('email').where('username_lower', '=', 'cap.user').executeTakeFirstOrThrow();
    assert.equal(acc.email, 'cap0@example.net');

    // The first email, then four more (changes and resends alike): five in all.
    for (let i = 1; i <= 4; i++) {
      t.clock.advance(61_000);
      const r = i % 2 ? await c.submit('registration', f.id, { action: 'change_email', email: `cap${i}@example.net` }) : await c.submit('registration', f.id, { action: 'resend' });
      assert.equal(r.status, 200, JSON.stringify(r.body));
    }
    t.clock.advance(61_000);
    const before = await outboxSize(t);
    for (const payload of [{ action: 'change_email', email: 'cap9@example.net' }, { action: 'resend' }]) {
      const r = await c.submit('registration', f.id, payload, { 'accept-language': 'el' });
      assert.equal(r.status, 429, JSON.stringify(r.body));
      assert.equal(r.body.error.code, 'registration.too_many_emails');
      assert.match(r.body.error.message, /Δεν μπορούν να σταλούν άλλα email/);
    }
    // A login refused for the unconfirmed address cannot ask for more either.
    const l = apiClient(t.app);
    const lf = (await l.start('login')).body;
    const refused = await l.submit('login', lf.id, { username: 'cap.user', password: 'Lago-Maggiore-71' });
    assert.equal(refused.body.error.code, 'auth.email_not_verified');
    const more = await l.submit('login', lf.id, { action: 'resend_verification' });
    assert.equal(more.status, 429);
    assert.equal(more.body.error.code, 'registration.too_many_emails');
    assert.equal(await outboxSize(t), before);
    assert.equal(await messageCount(t.ctx, 'cap9@example.net'), 0);
  });

  it('a configured cap counts resends from every flow (registration and refused logins), even sent together', async () => {
    const t2 = await makeApp({ config: testConfig((c) => ((c.registration.emailsPerRegistration = 2), (c.registration.resendIntervalSeconds = 0))) });
    try {
      const { c, f } = await register(t2, { username: 'race.user', email: 'race@example.net' });
      // Logins refused for the unconfirmed address each offer a resend of their own.
      const logins = [];
      for (let i = 0; i < 3; i++) {
        const l = apiClient(t2.app);
        const lf = (await l.start('login')).body;
        assert.equal((await l.submit('login', lf.id, { username: 'race.user', password: 'Lago-Maggiore-71' })).body.error.code, 'auth.email_not_verified');
        logins.push({ l, lf });
      }
      const answers = await Promise.all([
        c.submit('registration', f.id, { action: 'resend' }),
        ...logins.map(({ l, lf }) => l.submit('login', lf.id, { action: 'resend_verification' })),
      ]);
      assert.equal(answers.filter((a) => a.status === 200).length, 1, JSON.stringify(answers.map((a) => [a.status, a.body.error?.code])));
      for (const a of answers.filter((x) => x.status !== 200)) {
        assert.equal(a.status, 429);
        assert.equal(a.body.error.code, 'registration.too_many_emails');
      }
      assert.equal(await messageCount(t2.ctx, 'race@example.net', 'email_verification'), 2);
    } finally {
      await t2.close();
    }
  });
});

describe('registration limits: checked again where the email is queued', () => {
  it('of two resends that both passed the first check, the second is refused inside its transaction and sends nothing', async () => {
    const t2 = await makeApp({ config: testConfig((c) => ((c.registration.emailsPerRegistration = 2), (c.registration.resendIntervalSeconds = 0))) });
    try {
      const { f } = await register(t2, { username: 'late.check', email: 'late.check@example.net' });
      const row = await t2.ctx.db.kysely.selectFrom('flows').select('data').where('id', '=', f.id).executeTakeFirstOrThrow();
      const data = (JSON.parse(row.data) as { d: RegistrationData }).d;
      const req: StepRequest = { meta: { ip: '127.0.0.1', correlationId: null }, locale: 'en', session: null, channel: 'api' };
      const next = () => ({ state: 'awaiting_verification', data });
      const first = await resendOutcome(t2.ctx, data, req, next);
      const second = await resendOutcome(t2.ctx, data, req, next);
      assert.ok(first.ok && second.ok);
      await t2.ctx.db.kysely.transaction().execute(async (tx) => void (await first.commit!(tx)));
      await assert.rejects(
        t2.ctx.db.kysely.transaction().execute(async (tx) => void (await second.commit!(tx))),
        (e: { code?: string }) => e.code === 'registration.too_many_emails',
      );
      assert.equal(await messageCount(t2.ctx, 'late.check@example.net', 'email_verification'), 2);
    } finally {
      await t2.close();
    }
  });
});

describe('registration: names', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp();
  });
  after(() => t.close());

  const refused: Array<[string, Record<string, string>, string]> = [
    ['a line break', { givenName: 'Mario\r\nBcc: x@example.net' }, 'field.control_character'],
    ['a tab', { familyName: 'Bian\tchi' }, 'field.control_character'],
    ['NUL', { givenName: 'Ma\u0000rio' }, 'field.control_character'],
    ['a C1 control (NEL)', { givenName: 'Ma\u0085rio' }, 'field.control_character'],
    ['DEL', { familyName: 'Bianchi\u007f' }, 'field.control_character'],
    ['a line separator', { givenName: 'Mario\u2028URGENT' }, 'field.control_character'],
    ['a right-to-left override', { familyName: 'Bianchi\u202efdp.exe' }, 'field.control_character'],
    ['a URL', { givenName: 'URGENT: your fees are overdue, pay at http://evil.example/pay' }, 'name.invalid'],
    ['www.', { familyName: 'see www.evil.example' }, 'name.invalid'],
    ['an email address', { givenName: 'pay@evil.example' }, 'name.invalid'],
    ['a path', { familyName: 'evil.example/pay' }, 'name.invalid'],
    ['65 characters', { givenName: 'A'.repeat(65) }, 'field.too_long'],
  ];
  for (const [what, over, code] of refused) {
    it(`refuses a name with ${what}, changing nothing and sending nothing`, async () => {
      const before = await outboxSize(t);
      const { r } = await register(t, { username: 'name.check', email: 'name.check@example.net', ...over }, { lang: 'it' });
      assert.equal(r.status, 422, JSON.stringify(r.body));
      assert.equal(r.body.error.code, 'validation.failed');
      const field = Object.keys(over)[0]!;
      assert.equal(r.body.error.fields[field], code);
      assert.ok(r.body.messages.some((m: { text: string }) => m.text && !m.text.startsWith('error.')));
      assert.equal(await outboxSize(t), before);
      assert.equal(await t.ctx.db.kysely.selectFrom('accounts').select('id').where('username_lower', '=', 'name.check').executeTakeFirst(), undefined);
    });
  }

  it('the browser form shows the translated field error', async () => {
    const b = new FormBrowser(t.app, 'en');
    await b.get('/flows/registration');
    const d = details();
    await b.submit({ username: 'form.name', password: d.password, passwordConfirm: d.passwordConfirm, givenName: 'Pay at https://evil.example', familyName: d.familyName, birthDate: d.birthDate, mobile: d.mobile, email: 'form.name@example.net', registrantType: 'person', consents: 'true' });
    assert.equal(b.status, 422);
    assert.match(b.text(), /A name cannot contain a web or email address/);
    assert.equal(await messageCount(t.ctx, 'form.name@example.net'), 0);
  });

  it('an email greets only with a name that passes the checks (real names do), and links only to the portal', async () => {
    const { c, f } = await register(t, { username: 'old.data', email: 'old.data@example.net' }, { ip: '192.0.2.50' });
    // A registration stored before the checks existed, whose name carries a message and a link.
    const row = await t.ctx.db.kysely.selectFrom('flows').select('data').where('id', '=', f.id).executeTakeFirstOrThrow();
    const stored = JSON.parse(row.data) as { d: Record<string, unknown> };
    stored.d.givenName = 'URGENT: your fees are overdue, pay at http://evil.example/pay';
    await t.ctx.db.kysely.updateTable('flows').set({ data: JSON.stringify(stored) }).where('id', '=', f.id).execute();
    t.clock.advance(61_000);
    const r = await c.submit('registration', f.id, { action: 'resend' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const mail = await lastMessage(t.ctx, 'old.data@example.net', 'email_verification');
    assert.equal(mail!.count, 2);
    for (const body of [mail!.text, mail!.html!]) {
      assert.doesNotMatch(body, /evil|URGENT/);
      const links = body.match(/https?:\/\/[^\s"<]+/g) ?? [];
      assert.ok(links.length > 0);
      for (const link of links) assert.ok(link.startsWith('http://localhost:3000/'), link);
    }

    // Real names, in any script, pass the checks and are in the greeting.
    const names: Array<[string, string]> = [
      ['José María', 'D’Angelo-Pérez'],
      ['Anne-Marie', "O'Brien"],
      ['Γιώργος', 'Παπαδόπουλος'],
      ['Nguyễn Văn', 'de la Santísima Trinidad y Fernández'],
    ];
    for (const [i, [givenName, familyName]] of names.entries()) {
      const ok = await register(t, { username: `real.name${i}`, email: `real${i}@example.net`, givenName, familyName }, { ip: `192.0.2.${i + 1}`, lang: 'en' });
      assert.equal(ok.r.status, 200, JSON.stringify(ok.r.body));
      const greeting = await lastMessage(t.ctx, `real${i}@example.net`, 'email_verification');
      assert.ok(greeting!.text.startsWith(`Hello ${givenName},`), greeting!.text);
    }
  });
});
