import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeApp, type TestApp } from '../helpers/app.js';
import { apiClient, FormBrowser } from '../helpers/clients.js';
import { seedAccount } from '../helpers/fixtures.js';
import { createSession } from '../../src/sessions/sessions.js';
import { transitionAccount } from '../../src/accounts/lifecycle.js';
import { lastMessage, messageCount } from './outbox.js';

const codeIn = (text: string) => /\b(\d{6})\b/.exec(text)![1]!;

describe('username recovery and password reset', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp();
    await seedAccount(t.ctx, { externalId: 'ext-1', population: 'external', username: 'lucia.neri', email: 'lucia@example.org', personalEmail: 'lucia@example.org', status: 'active', password: 'Vecchia-Pass-11', givenName: 'Lucia' });
    await seedAccount(t.ctx, { externalId: '20260001', username: '20260001', email: '20260001@studenti.unidemo.example.org', personalEmail: 'paolo@example.org', mobile: '+393401112233', status: 'active', password: 'Vecchia-Pass-22', givenName: 'Paolo' });
    await seedAccount(t.ctx, { externalId: '20260002', username: '20260002', email: '20260002@studenti.unidemo.example.org', status: 'active', password: 'Vecchia-Pass-33' });
    await seedAccount(t.ctx, { externalId: 'spid-1', population: 'external', username: 'spid.only', email: 'spid@example.org', status: 'active' });
    await t.ctx.db.kysely.updateTable('accounts').set({ federated_only: 1 }).where('username_lower', '=', 'spid.only').execute();
  });
  after(() => t.close());

  it('username-recovery: same answer for known and unknown addresses; the username goes to the address on file', async () => {
    const c = apiClient(t.app);
    const known = await c.submit('username-recovery', (await c.start('username-recovery')).body.id, { email: 'LUCIA@example.org' });
    const unknown = await c.submit('username-recovery', (await c.start('username-recovery')).body.id, { email: 'nobody@example.org' });
    assert.equal(known.status, 200);
    assert.equal(unknown.status, 200);
    assert.deepEqual({ ...known.body, id: 0, expiresAt: 0 }, { ...unknown.body, id: 0, expiresAt: 0 });
    assert.deepEqual(known.body.result, {});
    const mail = await lastMessage(t.ctx, 'lucia@example.org', 'username_recovery');
    assert.match(mail!.text, /lucia\.neri/);
    assert.equal(await messageCount(t.ctx, 'nobody@example.org'), 0);
    // A student's personal email finds the student's username.
    await c.submit('username-recovery', (await c.start('username-recovery')).body.id, { email: 'paolo@example.org' });
    assert.match((await lastMessage(t.ctx, 'paolo@example.org', 'username_recovery'))!.text, /20260001/);
    const bad = await c.submit('username-recovery', (await c.start('username-recovery')).body.id, { email: 'not-an-email' });
    assert.equal(bad.body.error.fields.email, 'email.invalid');
  });

  it('username-recovery: the address of a SPID-only account gets the same answer as an unknown one; its reminder points to SPID', async () => {
    const c = apiClient(t.app, { lang: 'el' });
    const spid = await c.submit('username-recovery', (await c.start('username-recovery')).body.id, { email: 'SPID@example.org' });
    const unknown = await c.submit('username-recovery', (await c.start('username-recovery')).body.id, { email: 'nobody.else@example.org' });
    assert.equal(spid.status, 200, JSON.stringify(spid.body));
    assert.deepEqual({ ...spid.body, id: 0, expiresAt: 0 }, { ...unknown.body, id: 0, expiresAt: 0 });
    assert.equal(spid.body.state, 'completed');
    assert.deepEqual(spid.body.result, {});
    const mail = await lastMessage(t.ctx, 'spid@example.org', 'username_recovery');
    assert.match(mail!.text, /spid\.only/);
    assert.match(mail!.text, /μόνο μέσω SPID/);
    assert.match(mail!.text, /http:\/\/localhost:3000\/flows\/login\?lang=el/);
    assert.doesNotMatch(mail!.text, /password-reset/);
  });

  it('username-recovery: one email a minute to an address however it is spelt; a void registration is nobody\'s to recover', async () => {
    await seedAccount(t.ctx, { externalId: 'ext-caps', population: 'external', username: 'anna.caps', email: 'Anna.Caps@Example.org', personalEmail: 'Anna.Caps@Example.org', status: 'active', password: 'Vecchia-Pass-77', givenName: 'Anna' });
    const c = apiClient(t.app);
    for (const spelling of ['anna.caps@example.org', 'ANNA.CAPS@EXAMPLE.ORG', 'Anna.Caps@Example.org']) {
      assert.equal((await c.submit('username-recovery', (await c.start('username-recovery')).body.id, { email: spelling })).status, 200);
    }
    assert.equal(await messageCount(t.ctx, 'Anna.Caps@Example.org', 'username_recovery'), 1);

    // A registration past its lifetime, not yet removed by the job.
    const { accountId } = await seedAccount(t.ctx, { externalId: 'ext-void', population: 'external', username: 'void.reg', email: 'void.reg@example.org', personalEmail: 'void.reg@example.org', status: 'pending_verification', password: 'Vecchia-Pass-88' });
    const past = new Date(t.clock.now().getTime() - 3_600_000).toISOString();
    await t.ctx.db.kysely.insertInto('registrations').values({ account_id: accountId, flow_id: null, email_lower: 'void.reg@example.org', created_at: past, expires_at: past, verified_at: null }).execute();
    assert.equal((await c.submit('username-recovery', (await c.start('username-recovery')).body.id, { email: 'void.reg@example.org' })).status, 200);
    assert.equal(await messageCount(t.ctx, 'void.reg@example.org', 'username_recovery'), 0, 'no username of a void registration is sent');
  });

  it('username-recovery: an account not active yet is pointed to its activation, never to a reset; one email per address names every account', async () => {
    const c = apiClient(t.app, { lang: 'it' });
    const recover = async (email: string) => c.submit('username-recovery', (await c.start('username-recovery')).body.id, { email });
    // A student whose record is imported but not activated: a reset would send nothing.
    await seedAccount(t.ctx, { externalId: '20269999', username: '20269999', personalEmail: 'pend@example.org', status: 'pending_activation', givenName: 'Marta' });
    await recover('pend@example.org');
    const pending = (await lastMessage(t.ctx, 'pend@example.org', 'username_recovery'))!;
    assert.match(pending.text, /20269999/);
    assert.match(pending.text, /non è ancora attivo: attivalo qui/);
    assert.match(pending.text, /\/flows\/activation-pin\?lang=it/);
    assert.doesNotMatch(pending.text, /password-reset/);
    // A registration not confirmed yet (within its link's lifetime): confirm it, or sign in to have the link again.
    const { accountId } = await seedAccount(t.ctx, { externalId: 'ext-unconf', population: 'external', username: 'new.comer', email: 'new.comer@example.org', personalEmail: 'new.comer@example.org', status: 'pending_verification', password: 'Vecchia-Pass-99' });
    const later = new Date(t.clock.now().getTime() + 3_600_000).toISOString();
    await t.ctx.db.kysely.insertInto('registrations').values({ account_id: accountId, flow_id: null, email_lower: 'new.comer@example.org', created_at: t.clock.now().toISOString(), expires_at: later, verified_at: null }).execute();
    await recover('new.comer@example.org');
    const unconfirmed = (await lastMessage(t.ctx, 'new.comer@example.org', 'username_recovery'))!;
    assert.match(unconfirmed.text, /registrazione non è ancora confermata/);
    assert.match(unconfirmed.text, /\/flows\/login\?lang=it/);
    // One address, two accounts (an external user who is also staff not yet activated by the referent): one email.
    await seedAccount(t.ctx, { externalId: 'ext-two', population: 'external', username: 'gino.ext', email: 'gino@example.org', personalEmail: 'gino@example.org', status: 'active', password: 'Vecchia-Pass-55' });
    await seedAccount(t.ctx, { externalId: 'STF-9', population: 'staff', username: 'gino.staff', personalEmail: 'gino@example.org', status: 'pending_activation' });
    await recover('gino@example.org');
    assert.equal(await messageCount(t.ctx, 'gino@example.org', 'username_recovery'), 1);
    const both = (await lastMessage(t.ctx, 'gino@example.org', 'username_recovery'))!;
    assert.match(both.text, /Lo usano questi account/);
    assert.match(both.text, /gino\.ext/);
    assert.match(both.text, /gino\.staff \(non ancora attivo\)/);
    assert.match(both.text, /\/flows\/password-reset\?lang=it/);
    assert.match(both.text, /referente informatico della tua struttura/);
  });

  // The registrar writes addresses as people gave them (`Rita.Verdi@…`), a registration as typed
  // (`rita.verdi@…`): the one mailbox got two emails, each naming one account.
  it('username-recovery: one email per address whatever the case each record spells it in, naming every account', async () => {
    await seedAccount(t.ctx, { externalId: 'ext-rita', population: 'external', username: 'rita.verdi', email: 'rita.verdi@example.org', personalEmail: 'rita.verdi@example.org', status: 'active', password: 'Vecchia-Pass-66', givenName: 'Rita' });
    await seedAccount(t.ctx, { externalId: '20268888', username: '20268888', personalEmail: 'Rita.Verdi@Example.org', status: 'pending_activation', givenName: 'Rita' });
    for (const [lang, many] of [
      ['it', /Lo usano questi account/],
      ['en', /These accounts use it/],
    ] as const) {
      await t.ctx.db.kysely.deleteFrom('outbox').where('purpose', '=', 'username_recovery').execute();
      const c = apiClient(t.app, { lang });
      assert.equal((await c.submit('username-recovery', (await c.start('username-recovery')).body.id, { email: 'RITA.VERDI@example.org' })).status, 200);
      const sent = await t.ctx.db.kysely.selectFrom('outbox').select(['recipient', 'payload']).where('purpose', '=', 'username_recovery').execute();
      assert.equal(sent.length, 1, JSON.stringify(sent.map((m) => m.recipient)));
      const text = (JSON.parse(sent[0]!.payload) as { text: string }).text;
      assert.match(text, many);
      assert.match(text, /rita\.verdi/);
      assert.match(text, /20268888/);
      assert.match(text, /\/flows\/activation-pin\?lang=/);
      assert.match(text, /\/flows\/password-reset\?lang=/);
      t.clock.advance(61_000);
    }
  });

  it('password-reset: code by email and SMS, attempts limited, sessions ended, new password works', async () => {
    const session = await createSession(t.ctx.db.kysely, (await t.ctx.db.kysely.selectFrom('accounts').select('id').where('username', '=', '20260001').executeTakeFirstOrThrow()).id, t.clock.now(), 3_600_000, { ip: null });
    const c = apiClient(t.app);
    const f = (await c.start('password-reset')).body;
    const r1 = await c.submit('password-reset', f.id, { identifier: '20260001' });
    assert.equal(r1.body.state, 'awaiting_code');
    assert.equal(r1.body.data.accountId, undefined);
    // The identifier sent again (a double submit): the flow has left that step, and no second code goes out.
    const twice = await c.submit('password-reset', f.id, { identifier: '20260001' });
    assert.equal(twice.status, 409);
    assert.equal(twice.body.error.code, 'flow.wrong_state');
    assert.equal(await messageCount(t.ctx, 'paolo@example.org', 'password_reset'), 1);
    const mail = await lastMessage(t.ctx, 'paolo@example.org', 'password_reset');
    const sms = await lastMessage(t.ctx, '+393401112233', 'password_reset');
    assert.ok(mail && sms);
    assert.equal(sms.channel, 'sms');
    // The SMS says which language it is written in, like the email.
    assert.equal(sms.lang, 'en');
    assert.equal(mail.lang, 'en');
    assert.equal(mail.subject, 'Demo University: your password reset code');
    const code = codeIn(mail.text);
    assert.equal(codeIn(sms.text), code);
    // Never to the institutional mailbox whose password is being reset.
    assert.equal(await messageCount(t.ctx, '20260001@studenti.unidemo.example.org'), 0);
    const wrong = await c.submit('password-reset', f.id, { code: code === '000000' ? '111111' : '000000' });
    assert.equal(wrong.status, 422);
    assert.equal(wrong.body.error.code, 'reset.code_invalid');
    const ok = await c.submit('password-reset', f.id, { code });
    assert.equal(ok.body.state, 'awaiting_password');
    const weak = await c.submit('password-reset', f.id, { password: 'password1', passwordConfirm: 'password1' });
    assert.equal(weak.body.error.code, 'password.policy');
    const done = await c.submit('password-reset', f.id, { password: 'Nuova-Pass-2026', passwordConfirm: 'Nuova-Pass-2026' });
    assert.deepEqual(done.body.result, { username: '20260001' });
    const me = await c.request('GET', '/api/v1/session', undefined, { authorization: `Bearer ${session.token}` });
    assert.equal(me.status, 401);
    const l = await c.start('login');
    assert.equal((await c.submit('login', l.body.id, { username: '20260001', password: 'Nuova-Pass-2026' })).status, 200);
    // The code is single-use: a second flow cannot reuse it.
    const f2 = (await c.start('password-reset')).body;
    await c.submit('password-reset', f2.id, { identifier: 'paolo@example.org' });
    assert.equal((await c.submit('password-reset', f2.id, { code })).body.error.code, 'reset.code_invalid');
  });

  it('password-reset: unknown identifiers and accounts without a recovery address look the same; attempts run out', async () => {
    const c = apiClient(t.app);
    for (const identifier of ['ghost.user', 'ghost@example.org', '20260002']) {
      const f = (await c.start('password-reset')).body;
      const r = await c.submit('password-reset', f.id, { identifier });
      assert.equal(r.status, 200);
      assert.equal(r.body.state, 'awaiting_code');
      assert.deepEqual(Object.keys(r.body.data).sort(), ['codeMinutes', 'helpdesk']);
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await c.submit('password-reset', f.id, { code: '123456' })).status);
      assert.deepEqual(statuses, [422, 422, 422, 422, 429, 429], identifier);
    }
    // A real flow locks the same way.
    const f = (await c.start('password-reset')).body;
    await c.submit('password-reset', f.id, { identifier: 'lucia.neri' });
    const code = codeIn((await lastMessage(t.ctx, 'lucia@example.org', 'password_reset'))!.text);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await c.submit('password-reset', f.id, { code: code === '123456' ? '654321' : '123456' })).status);
    assert.deepEqual(statuses, [422, 422, 422, 422, 429]);
    assert.equal((await c.submit('password-reset', f.id, { code })).status, 429);
    const spid = await c.submit('password-reset', (await c.start('password-reset')).body.id, { identifier: 'spid.only' });
    assert.equal(spid.body.error.code, 'auth.federated_only');
  });

  it('password-reset: the code expires', async () => {
    t.clock.advance(2 * 60_000); // past the resend cool-down of the earlier tests' codes
    const c = apiClient(t.app);
    const f = (await c.start('password-reset')).body;
    await c.submit('password-reset', f.id, { identifier: 'lucia@example.org' });
    const code = codeIn((await lastMessage(t.ctx, 'lucia@example.org', 'password_reset'))!.text);
    t.clock.advance(16 * 60_000);
    assert.equal((await c.submit('password-reset', f.id, { code })).body.error.code, 'reset.code_invalid');
  });

  it('password-reset: codes follow the PIN limits per account across flows; limited and unknown answer alike; a new code revokes the old', async () => {
    await seedAccount(t.ctx, { externalId: 'ext-7', population: 'external', username: 'anna.verdi', email: 'anna@example.org', personalEmail: 'anna@example.org', status: 'active', password: 'Vecchia-Pass-77' });
    const { resendCooldownSeconds, maxPerHour } = t.ctx.config.activation.pin;
    const c = apiClient(t.app);
    const request = async (identifier: string) => {
      const f = (await c.start('password-reset')).body;
      const r = await c.submit('password-reset', f.id, { identifier });
      assert.equal(r.status, 200);
      return { id: f.id as string, body: { ...r.body, id: 0, expiresAt: 0 } };
    };
    const sent = () => messageCount(t.ctx, 'anna@example.org', 'password_reset');
    // Ten requests in a row: one email, and every answer is the unknown identifier's answer.
    const unknown = await request('nobody.here');
    const flows: string[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await request(i % 2 ? 'anna.verdi' : 'ANNA@example.org');
      assert.deepEqual(r.body, unknown.body);
      flows.push(r.id);
    }
    assert.equal(await sent(), 1);
    const first = codeIn((await lastMessage(t.ctx, 'anna@example.org', 'password_reset'))!.text);
    // A limited flow runs out of attempts exactly like an unknown one.
    const limited: number[] = [];
    const ghost: number[] = [];
    for (let i = 0; i < 6; i++) {
      limited.push((await c.submit('password-reset', flows[9]!, { code: first === '123456' ? '654321' : '123456' })).status);
      ghost.push((await c.submit('password-reset', unknown.id, { code: '123456' })).status);
    }
    assert.deepEqual(limited, ghost);
    // After the cool-down a new code goes out, and the previous one is dead in every flow.
    t.clock.advance(resendCooldownSeconds * 1000 + 1000);
    const next = await request('anna.verdi');
    assert.deepEqual(next.body, unknown.body);
    assert.equal(await sent(), 2);
    const second = codeIn((await lastMessage(t.ctx, 'anna@example.org', 'password_reset'))!.text);
    if (second !== first) {
      assert.equal((await c.submit('password-reset', flows[0]!, { code: first })).body.error.code, 'reset.code_invalid');
      assert.equal((await c.submit('password-reset', next.id, { code: first })).body.error.code, 'reset.code_invalid');
    }
    assert.equal((await c.submit('password-reset', next.id, { code: second })).body.state, 'awaiting_password');
    // At most maxPerHour codes an hour, however the requests are spaced.
    for (let i = 0; i < maxPerHour + 2; i++) {
      t.clock.advance(resendCooldownSeconds * 1000 + 1000);
      assert.deepEqual((await request('anna.verdi')).body, unknown.body);
    }
    assert.equal(await sent(), maxPerHour);
    t.clock.advance(3_600_000);
    await request('anna.verdi');
    assert.equal(await sent(), maxPerHour + 1);
  });

  it('works in the browser without JavaScript (Italian), with the helpdesk path', async () => {
    const b = new FormBrowser(t.app, 'it');
    await b.get('/flows/username-recovery');
    assert.match(b.text(), /Recupera il nome utente/);
    await b.submit({ email: 'lucia@example.org' });
    assert.match(b.text(), /Controlla la tua email/);
    const r = new FormBrowser(t.app, 'it');
    await r.get('/flows/password-reset');
    await r.submit({ identifier: 'lucia.neri' });
    assert.match(r.text(), /Inserisci il codice/);
    assert.match(r.text(), /helpdesk \(helpdesk@unidemo\.example\.org\)/);
    const code = codeIn((await lastMessage(t.ctx, 'lucia@example.org', 'password_reset'))!.text);
    await r.submit({ code: '999999' === code ? '111111' : '999999' });
    assert.equal(r.status, 422);
    assert.match(r.text(), /Il codice non è corretto/);
    await r.submit({ code });
    assert.match(r.text(), /Scegli una nuova password/);
    await r.submit({ password: 'Altra-Pass-2027', passwordConfirm: 'Altra-Pass-2027' });
    assert.match(r.text(), /La nuova password di lucia\.neri è attiva/);
    assert.doesNotMatch(r.html, /Altra-Pass-2027/);
  });
});

describe('email change', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp();
    await seedAccount(t.ctx, { externalId: 'ext-9', population: 'external', username: 'sara.blu', email: 'sara@example.org', personalEmail: 'sara@example.org', status: 'active', password: 'Sara-Pass-2026' });
    await seedAccount(t.ctx, { externalId: 'ext-8', population: 'external', username: 'taken.one', email: 'taken@example.org', personalEmail: 'taken@example.org', status: 'active' });
  });
  after(() => t.close());

  it('through the API: needs a session, confirmed by the link sent to the new address', async () => {
    const anon = apiClient(t.app);
    assert.equal((await anon.start('email-change')).status, 401);
    const l = await anon.start('login');
    const token = (await anon.submit('login', l.body.id, { username: 'sara.blu', password: 'Sara-Pass-2026' })).body.result.sessionToken;
    const c = apiClient(t.app, { bearer: token });
    const f = (await c.start('email-change')).body;
    assert.equal((await c.submit('email-change', f.id, { email: 'sara@example.org' })).body.error.code, 'email_change.same');
    assert.equal((await c.submit('email-change', f.id, { email: 'Taken@example.org' })).body.error.code, 'registration.email_registered');
    const r = await c.submit('email-change', f.id, { email: 'sara.new@example.org' });
    assert.equal(r.body.state, 'awaiting_confirmation');
    // Sending the link again at once is too soon: the wait is said in params and Retry-After.
    const soon = await c.submit('email-change', f.id, { action: 'resend' });
    assert.equal(soon.status, 429);
    assert.equal(soon.body.error.code, 'registration.resend_too_soon');
    assert.ok(soon.body.error.params.seconds >= 1, JSON.stringify(soon.body.error));
    assert.equal(soon.res.headers['retry-after'], String(soon.body.error.params.seconds));
    const mail = await lastMessage(t.ctx, 'sara.new@example.org', 'email_change');
    const link = /(http:\/\/localhost:3000\/confirm-email\?\S+)/.exec(mail!.text)![1]!;
    const tok = new URL(link).searchParams.get('token')!;
    assert.equal((await c.submit('email-change', f.id, { token: tok.replace(/.$/, (x) => (x === 'A' ? 'B' : 'A')) })).body.error.code, 'registration.link_invalid');
    const done = await c.submit('email-change', f.id, { token: tok });
    assert.deepEqual(done.body.result, { email: 'sara.new@example.org' });
    // The link opened again still says what it did; another code for the same flow learns nothing.
    const again = await t.app.inject({ method: 'GET', url: `/confirm-email?token=${encodeURIComponent(tok)}`, headers: { accept: 'text/html' } });
    assert.match(again.body, /sara\.new@example\.org/);
    const forged = tok.replace(/.$/, (x) => (x === 'A' ? 'B' : 'A'));
    const guess = await t.app.inject({ method: 'GET', url: `/confirm-email?token=${encodeURIComponent(forged)}`, headers: { accept: 'text/html' } });
    assert.doesNotMatch(guess.body, /sara\.new@example\.org/);
    const acc = await t.ctx.db.kysely.selectFrom('accounts').select(['email']).where('username_lower', '=', 'sara.blu').executeTakeFirstOrThrow();
    assert.equal(acc.email, 'sara.new@example.org');
    // The replaced address is told, with the new one masked.
    const notice = (await lastMessage(t.ctx, 'sara@example.org', 'email_changed'))!;
    assert.match(notice.text, /sara\.blu/);
    assert.match(notice.text, /s\*\*\*@example\.org/);
    assert.doesNotMatch(notice.text, /sara\.new@/);
    assert.equal(await messageCount(t.ctx, 'sara.new@example.org', 'email_changed'), 0);
  });

  it('the link works for the hours its email says, counted from when it was sent, not from when the form was opened', async () => {
    await seedAccount(t.ctx, { externalId: 'ext-late', population: 'external', username: 'lena.late', email: 'lena@example.org', personalEmail: 'lena@example.org', status: 'active', password: 'Lena-Pass-2026' });
    const anon = apiClient(t.app, { lang: 'it' });
    const l = await anon.start('login');
    const token = (await anon.submit('login', l.body.id, { username: 'lena.late', password: 'Lena-Pass-2026' })).body.result.sessionToken;
    const c = apiClient(t.app, { bearer: token, lang: 'it' });
    const f = (await c.start('email-change')).body;
    t.clock.advance(11 * 3_600_000);
    assert.equal((await c.submit('email-change', f.id, { email: 'lena.new@example.org' })).body.state, 'awaiting_confirmation');
    const link = /http:\/\/localhost:3000(\/confirm-email\?\S+)/.exec((await lastMessage(t.ctx, 'lena.new@example.org', 'email_change'))!.text)![1]!;
    t.clock.advance(14 * 3_600_000);
    const ok = await t.app.inject({ method: 'GET', url: link, headers: { accept: 'text/html' } });
    assert.equal(ok.statusCode, 200, 'opened 14 hours after it was sent (25 after the form)');
    assert.match(ok.body, /lena\.new@example\.org/);
    // The old address is told, in the language the person used.
    assert.match((await lastMessage(t.ctx, 'lena@example.org', 'email_changed'))!.text, /è appena stato cambiato/);
  });

  it('an expired link says to change the address again, not to register again', async () => {
    await seedAccount(t.ctx, { externalId: 'ext-old', population: 'external', username: 'olga.old', email: 'olga@example.org', personalEmail: 'olga@example.org', status: 'active', password: 'Olga-Pass-2026' });
    const anon = apiClient(t.app);
    const l = await anon.start('login');
    const token = (await anon.submit('login', l.body.id, { username: 'olga.old', password: 'Olga-Pass-2026' })).body.result.sessionToken;
    const c = apiClient(t.app, { bearer: token });
    const f = (await c.start('email-change')).body;
    await c.submit('email-change', f.id, { email: 'olga.new@example.org' });
    const link = /http:\/\/localhost:3000(\/confirm-email\?\S+)/.exec((await lastMessage(t.ctx, 'olga.new@example.org', 'email_change'))!.text)![1]!;
    t.clock.advance(25 * 3_600_000);
    const late = await t.app.inject({ method: 'GET', url: link.replace(/lang=\w+/, 'lang=en'), headers: { accept: 'text/html' } });
    assert.equal(late.statusCode, 410);
    assert.match(late.body, /change your email address again/);
    assert.match(late.body, /href="\/flows\/email-change"/);
    assert.doesNotMatch(late.body, /register again/i);
    assert.equal(await messageCount(t.ctx, 'olga@example.org', 'email_changed'), 0);
  });

  it('in the browser: from the account page, the emailed link confirms', async () => {
    const b = new FormBrowser(t.app, 'en');
    await b.get('/flows/login');
    await b.submit({ username: 'sara.blu', password: 'Sara-Pass-2026' });
    await b.get('/account');
    assert.match(b.html, /href="\/flows\/email-change"/);
    await b.get('/flows/email-change');
    await b.submit({ email: 'sara.third@example.org' });
    assert.match(b.text(), /We have sent a confirmation link to sara\.third@example\.org/);
    const mail = await lastMessage(t.ctx, 'sara.third@example.org', 'email_change');
    const link = new URL(/(http:\/\/localhost:3000\/confirm-email\?\S+)/.exec(mail!.text)![1]!);
    await b.get(`${link.pathname}${link.search}`);
    assert.equal(b.status, 200);
    assert.match(b.text(), /Your registered address is now sara\.third@example\.org/);
    assert.doesNotMatch(b.html, new RegExp(link.searchParams.get('token')!));
  });

  it('a suspension ends the sessions at once, and an email change asked before it is not confirmed after', async () => {
    const { accountId, personId } = await seedAccount(t.ctx, { externalId: 'ext-sus', population: 'external', username: 'susi.ok', email: 'susi@example.org', personalEmail: 'susi@example.org', status: 'active', password: 'Susi-Pass-2026' });
    const b = new FormBrowser(t.app, 'en');
    await b.get('/flows/login');
    await b.submit({ username: 'susi.ok', password: 'Susi-Pass-2026' });
    await b.get('/flows/email-change');
    await b.submit({ email: 'susi.new@example.org' });
    const mail = await lastMessage(t.ctx, 'susi.new@example.org', 'email_change');
    const link = /http:\/\/localhost:3000(\/confirm-email\?\S+)/.exec(mail!.text)![1]!;
    const api = apiClient(t.app);
    const l = await api.start('login');
    const token = (await api.submit('login', l.body.id, { username: 'susi.ok', password: 'Susi-Pass-2026' })).body.result.sessionToken;

    const account = await t.ctx.db.kysely.selectFrom('accounts').select(['status', 'version']).where('id', '=', accountId).executeTakeFirstOrThrow();
    await t.ctx.db.kysely.transaction().execute((tx) =>
      transitionAccount(tx, { id: accountId, personId, status: 'active', version: account.version }, 'suspended', { actor: 'test', reason: 'test', at: t.clock.now(), provisioning: t.ctx }),
    );
    // The browser's page and the API's bearer token stop at once.
    const page = await t.app.inject({ method: 'GET', url: '/account', headers: { accept: 'text/html', cookie: [...b.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } });
    assert.equal(page.statusCode, 303);
    assert.match(String(page.headers.location), /^\/flows\/login\//);
    assert.equal((await apiClient(t.app, { bearer: token }).start('email-change')).status, 401);
    // The link sent before the suspension does not change the address.
    const confirm = await t.app.inject({ method: 'GET', url: link, headers: { accept: 'text/html' } });
    assert.doesNotMatch(confirm.body, /susi\.new@example\.org/);
    const stored = await t.ctx.db.kysely.selectFrom('accounts').select('email').where('id', '=', accountId).executeTakeFirstOrThrow();
    assert.equal(stored.email, 'susi@example.org');
  });

  it('an email change asked before the password changed is not confirmed after (someone who had the password)', async () => {
    const { accountId } = await seedAccount(t.ctx, { externalId: 'ext-tk', population: 'external', username: 'tina.k', email: 'tina@example.org', personalEmail: 'tina@example.org', status: 'active', password: 'Tina-Pass-2026' });
    const signIn = async (password: string) => {
      const api = apiClient(t.app);
      const l = await api.start('login');
      return apiClient(t.app, { bearer: (await api.submit('login', l.body.id, { username: 'tina.k', password })).body.result.sessionToken });
    };
    // Someone else, signed in with the password, asks to move the address to theirs.
    const other = await signIn('Tina-Pass-2026');
    const f = (await other.start('email-change')).body;
    assert.equal((await other.submit('email-change', f.id, { email: 'intruder@example.org' })).body.state, 'awaiting_confirmation');
    const link = /http:\/\/localhost:3000(\/confirm-email\?\S+)/.exec((await lastMessage(t.ctx, 'intruder@example.org', 'email_change'))!.text)![1]!;
    t.clock.advance(60_000);
    // The owner changes the password: the other session ends, and so does what it asked for.
    const owner = await signIn('Tina-Pass-2026');
    const pc = (await owner.start('password-change')).body;
    assert.equal((await owner.submit('password-change', pc.id, { currentPassword: 'Tina-Pass-2026', newPassword: 'Tina-Back-2027', newPasswordConfirm: 'Tina-Back-2027' })).body.state, 'completed');
    const confirm = await t.app.inject({ method: 'GET', url: link, headers: { accept: 'text/html' } });
    assert.equal(confirm.statusCode, 422);
    assert.doesNotMatch(confirm.body, /intruder@example\.org/);
    const stored = await t.ctx.db.kysely.selectFrom('persons as p').innerJoin('accounts as a', 'a.person_id', 'p.id').select(['a.email', 'p.personal_email']).where('a.id', '=', accountId).executeTakeFirstOrThrow();
    assert.deepEqual(stored, { email: 'tina@example.org', personal_email: 'tina@example.org' });
    assert.equal(await messageCount(t.ctx, 'tina@example.org', 'email_changed'), 0);
    // A change the owner asks for after the new password still works.
    const again = (await owner.start('email-change')).body;
    await owner.submit('email-change', again.id, { email: 'tina.new@example.org' });
    const mine = /http:\/\/localhost:3000(\/confirm-email\?\S+)/.exec((await lastMessage(t.ctx, 'tina.new@example.org', 'email_change'))!.text)![1]!;
    const ok = await t.app.inject({ method: 'GET', url: mine, headers: { accept: 'text/html' } });
    assert.equal(ok.statusCode, 200);
    assert.match(ok.body, /tina\.new@example\.org/);
  });
});
