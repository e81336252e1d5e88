import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CompiledQuery } from 'kysely';
import { candidatesQuery, matchRecord } from '../../src/flows/activation-pin/matching.js';
import { makeApp, testConfig, type TestApp } from '../helpers/app.js';
import { suggestPasswords } from '../../src/auth/suggest-passwords.js';
import { checkPasswordPolicy } from '../../src/domain/password-policy.js';
import { makeAmka, seedStudent } from './helpers.js';

describe('record matching (table-driven, on the database)', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp({ config: testConfig((c) => (c.institution.defaultCountry = 'GR')) });
    await seedStudent(t.ctx, { externalId: 'A', mobile: '+306900000001', email: 'a@example.org' });
    await seedStudent(t.ctx, { externalId: 'B', mobile: '+306900000002', email: 'B@Example.org', amka: makeAmka('010101') });
    // Two siblings sharing a parent's phone, each with their own email.
    await seedStudent(t.ctx, { externalId: 'C1', mobile: '+306900000003', email: 'c1@example.org' });
    await seedStudent(t.ctx, { externalId: 'C2', mobile: '+306900000003', email: 'c2@example.org' });
    await seedStudent(t.ctx, { externalId: 'P', mobile: '+306900000004', email: null, status: 'provisional', registrarStatus: 'provisional' });
    await seedStudent(t.ctx, { externalId: 'Z', mobile: '+306900000005', email: null, status: 'active' });
    await seedStudent(t.ctx, { externalId: 'E', mobile: '+306900000006', email: null, population: 'external' });
    await seedStudent(t.ctx, { externalId: 'S', mobile: '+306900000007', email: null, status: 'suspended' });
    await seedStudent(t.ctx, { externalId: 'IT', mobile: '+306900000008', email: null, taxCode: 'RSSMRA80A01H501U' });
  });
  after(() => t.close());

  const cases: Array<[string, { mobile: string | null; email: string | null }, string, { sms?: boolean; email?: boolean; needsNationalId?: boolean }?]> = [
    ['mobile only', { mobile: '+306900000001', email: null }, 'match:A', { sms: true, email: false, needsNationalId: true }],
    ['email only, other case on file', { mobile: null, email: 'b@example.org' }, 'match:B', { sms: false, email: true, needsNationalId: false }],
    ['both, same record', { mobile: '+306900000001', email: 'a@example.org' }, 'match:A', { sms: true, email: true }],
    ['both, email wrong: the phone still matches, the PIN goes only there', { mobile: '+306900000001', email: 'x@example.org' }, 'match:A', { sms: true, email: false }],
    ['shared phone alone is ambiguous', { mobile: '+306900000003', email: null }, 'none'],
    ['shared phone with an email picks the one holding both', { mobile: '+306900000003', email: 'c2@example.org' }, 'match:C2', { sms: true, email: true }],
    ['phone of one record, email of another', { mobile: '+306900000001', email: 'b@example.org' }, 'none'],
    ['provisional record', { mobile: '+306900000004', email: null }, 'none'],
    ['active account', { mobile: '+306900000005', email: null }, 'already_active'],
    ['population without pin activation', { mobile: '+306900000006', email: null }, 'none'],
    ['suspended account', { mobile: '+306900000007', email: null }, 'none'],
    ['unknown', { mobile: '+306999999999', email: 'nobody@example.org' }, 'none'],
    ['nothing given', { mobile: null, email: null }, 'none'],
    ['a codice fiscale on file is a national identifier: no AMKA asked', { mobile: '+306900000008', email: null }, 'match:IT', { needsNationalId: false }],
  ];
  for (const [why, input, expected, extra] of cases) {
    it(`${why} → ${expected}`, async () => {
      const r = await matchRecord(t.ctx, t.ctx.db.kysely, input);
      if (r.kind === 'match') {
        assert.equal(`match:${r.username}`, expected);
        if (extra?.sms !== undefined) assert.equal(r.sms !== null, extra.sms);
        if (extra?.email !== undefined) assert.equal(r.email !== null, extra.email);
        if (extra?.needsNationalId !== undefined) assert.equal(r.needsNationalId, extra.needsNationalId);
      } else assert.equal(r.kind, expected);
    });
  }

  it('finds records through the phone and email indexes, never by walking a population', async (tc) => {
    if (t.ctx.db.dialect !== 'sqlite') return tc.skip('the query plan is SQLite-specific');
    for (const input of [{ mobile: '+306900000001', email: null }, { mobile: null, email: 'a@example.org' }, { mobile: '+306900000001', email: 'a@example.org' }]) {
      const q = candidatesQuery(t.ctx.db.kysely, input).compile();
      const plan = await t.ctx.db.kysely.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${q.sql}`, [...q.parameters]));
      const persons = plan.rows.map((r) => r.detail).filter((d) => /\bpersons\b/.test(d));
      assert.ok(persons.length > 0 && persons.every((d) => /USING INDEX persons_(mobile|personal_email)/.test(d)), persons.join(' | '));
    }
  });

  it('suggested passwords are distinct and pass the policy', () => {
    const s = suggestPasswords(t.ctx, 3, 'A');
    assert.equal(new Set(s).size, 3);
    for (const p of s) assert.deepEqual(checkPasswordPolicy(p, t.ctx.config.passwordPolicy, { username: 'A', isCommon: t.ctx.isCommonPassword }), []);
  });
});
