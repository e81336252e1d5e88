import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeApp, type TestApp } from '../helpers/app.js';
import { apiClient, FormBrowser } from '../helpers/clients.js';
import { seedAccount } from '../helpers/fixtures.js';
import { translate } from '../../src/i18n/index.js';
import { details, lastMessage, messageCount, verificationLink } from './outbox.js';

/**
 * What the unimi registration page promises people who come back or register from abroad: those
 * whose credentials are no longer valid register again; the link's deadline reads right wherever
 * they are; the username rules are told before they are enforced; someone who left the registration
 * page and signs in before confirming can "check the address it was sent to and correct it, or have
 * another email sent".
 */
describe('registration for people coming back and from abroad', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp();
  });
  after(() => t.close());

  async function register(over: Record<string, unknown>, lang = 'en') {
    const c = apiClient(t.app, { lang });
    const f = (await c.start('registration')).body;
    return { c, f, r: await c.submit('registration', f.id, details(over)) };
  }

  it('an address held only by an account that ended (a record that ceased before activation) can register again', async () => {
    await seedAccount(t.ctx, { externalId: '20190077', population: 'student', status: 'expired', registrarStatus: 'ceased', personalEmail: 'chiara.galli@example.org' });
    // Recovery has nothing for that account: no reminder is sent to the address.
    const rec = apiClient(t.app);
    const rf = (await rec.start('username-recovery')).body;
    assert.equal((await rec.submit('username-recovery', rf.id, { email: 'chiara.galli@example.org' })).status, 200);
    assert.equal(await lastMessage(t.ctx, 'chiara.galli@example.org', 'username_recovery'), null);
    // So registration does not send the person there: the address is free.
    const { r } = await register({ username: 'chiara.galli', email: 'Chiara.Galli@example.org' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.state, 'awaiting_verification');
    assert.ok(await lastMessage(t.ctx, 'Chiara.Galli@example.org', 'email_verification'));
  });

  it('an address of an account still in use is still registered', async () => {
    await seedAccount(t.ctx, { externalId: '20190078', population: 'student', status: 'active', personalEmail: 'piero.sala@example.org', password: 'Whatever-12' });
    const { r } = await register({ username: 'piero.sala', email: 'piero.sala@example.org' });
    assert.equal(r.status, 422);
    assert.equal(r.body.error.code, 'registration.email_registered');
  });

  it('the page of a link sent again names the time zone of its deadline, as the email does', async () => {
    for (const lang of ['en', 'it', 'el'] as const) {
      const email = `abroad.${lang}@example.org`;
      const { c, f, r } = await register({ username: `abroad.${lang}`, email }, lang);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      t.clock.advance(61_000);
      const again = await c.submit('registration', f.id, { action: 'resend' });
      assert.equal(again.status, 200, JSON.stringify(again.body));
      const mail = await lastMessage(t.ctx, email, 'email_verification');
      const zone = /\(([^)]+)\)/.exec(mail!.text)![1]!;
      assert.ok(again.body.data.linkWorksUntil.endsWith(`(${zone})`), `${lang}: ${again.body.data.linkWorksUntil} / ${zone}`);
      const b = new FormBrowser(t.app, lang);
      await b.get('/flows/registration');
      await b.submit({ username: `page.${lang}`, password: 'Lago-Maggiore-71', passwordConfirm: 'Lago-Maggiore-71', givenName: 'Mario', familyName: 'Bianchi', birthDate: '1990-04-12', mobile: '+39 333 123 4567', email: `page.${lang}@example.org`, registrantType: 'person', consents: 'true' });
      t.clock.advance(61_000);
      await b.submit({ action: 'resend' });
      assert.equal(b.status, 200, b.text());
      assert.ok(b.text().includes(`(${zone})`), `${lang}: ${b.text()}`);
    }
  });

  it('the username hint tells every rule the check enforces, in each language', async () => {
    for (const lang of ['en', 'it', 'el'] as const) {
      const hint = translate(lang, 'registration.usernameHelp');
      const error = translate(lang, 'error.username.invalid');
      // The error is the hint's rules said again: the hint must end with the same last rule.
      const lastRule = (s: string) => s.replace(/\.$/, '').split(',').at(-1)!.trim();
      assert.equal(lastRule(hint), lastRule(error), `${lang}: ${hint}`);
      const { r } = await register({ username: `1${lang}user`, email: `digit.${lang}@example.org` }, lang);
      assert.equal(r.body.error.fields.username, 'username.invalid');
    }
  });

  it('a login refused for an unconfirmed registration says where the link went and corrects a wrong address (API)', async () => {
    const { r } = await register({ username: 'lena.w', email: 'lena@gmial.com' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const oldLink = await verificationLink(t.ctx, 'lena@gmial.com');
    const l = apiClient(t.app, { lang: 'en' });
    const lf = (await l.start('login')).body;
    const refused = await l.submit('login', lf.id, { username: 'lena.w', password: 'Lago-Maggiore-71' });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, 'auth.email_not_verified');
    assert.equal(refused.body.data.verificationEmail, 'lena@gmial.com');
    assert.deepEqual(refused.body.actions, ['submit', 'resend_verification', 'change_verification_email']);
    assert.ok(refused.body.fields.some((f: { name: string; required: boolean }) => f.name === 'email' && !f.required));

    // Too soon after the registration's email: said, and the offers stay for a minute later.
    const soon = await l.submit('login', lf.id, { action: 'change_verification_email', email: 'lena@gmail.com' });
    assert.equal(soon.status, 429);
    assert.equal(soon.body.error.code, 'registration.resend_too_soon');
    assert.deepEqual(soon.body.actions, ['submit', 'resend_verification', 'change_verification_email']);
    t.clock.advance(61_000);
    const bad = await l.submit('login', lf.id, { action: 'change_verification_email', email: 'lena@gmail' });
    assert.equal(bad.status, 422);
    assert.equal(bad.body.error.fields.email, 'email.invalid');
    const taken = await l.submit('login', lf.id, { action: 'change_verification_email', email: 'piero.sala@example.org' });
    assert.equal(taken.body.error.code, 'registration.email_registered');
    assert.equal(await messageCount(t.ctx, 'piero.sala@example.org', 'email_verification'), 0);

    const fixed = await l.submit('login', lf.id, { action: 'change_verification_email', email: 'lena@gmail.com' });
    assert.equal(fixed.status, 200, JSON.stringify(fixed.body));
    assert.equal(fixed.body.data.verificationResentTo, 'lena@gmail.com');
    // The old link stops working; the new one activates.
    const old = await apiClient(t.app).request('GET', oldLink.path);
    assert.equal(old.status, 422);
    const link = await verificationLink(t.ctx, 'lena@gmail.com');
    assert.equal((await apiClient(t.app).request('GET', link.path)).status, 200);
    const acc = await t.ctx.db.kysely.selectFrom('accounts').select(['status', 'email']).where('username_lower', '=', 'lena.w').executeTakeFirstOrThrow();
    assert.deepEqual(acc, { status: 'active', email: 'lena@gmail.com' });
  });

  it('the sign-in page of an unconfirmed registration shows the address and a form to correct it, in each language', async () => {
    // A new hour: the registrations above used up this client address's share of the last one.
    t.clock.advance(3_660_000);
    for (const lang of ['it', 'en', 'el'] as const) {
      const { r } = await register({ username: `typo.${lang}`, email: `typo.${lang}@exampel.org` }, lang);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const b = new FormBrowser(t.app, lang);
      await b.get('/flows/login');
      await b.submit({ username: `typo.${lang}`, password: 'Lago-Maggiore-71' });
      assert.equal(b.status, 403);
      const said = translate(lang, 'login.verificationSentTo', { email: `typo.${lang}@exampel.org` });
      assert.ok(b.text().includes(said), `${lang}: ${b.text()}`);
      assert.match(b.html, /name="action" value="change_verification_email"/);
      assert.ok(b.text().includes(translate(lang, 'action.change_verification_email')));
      assert.ok(b.text().includes(translate(lang, 'login.field.email')));
      t.clock.advance(61_000);
      await b.submit({ email: `typo.${lang}@example.org` }, { action: 'change_verification_email' });
      assert.equal(b.status, 200, b.text());
      assert.ok(b.text().includes(translate(lang, 'login.verificationResent', { email: `typo.${lang}@example.org` })), b.text());
      assert.ok(await lastMessage(t.ctx, `typo.${lang}@example.org`, 'email_verification'));
    }
  });
});
