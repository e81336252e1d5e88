import { randomUUID } from 'node:crypto';
import { hash } from '@node-rs/argon2';
import { createContext } from '../../src/app/container.js';
import { argon2Options } from '../../src/auth/passwords.js';
import { readEnv } from '../../src/config/env.js';
import { loadInstitution } from '../../src/config/load-institution.js';
import { connect } from '../../src/db/connect.js';
import { nameKeyColumns } from '../../src/domain/name-key.js';
import { enqueueAccountProvisioning } from '../../src/provisioning/enqueue.js';
import { runProvisioningOnce } from '../../src/provisioning/run-once.js';
import { closeTargets } from '../../src/provisioning/targets.js';
import { slapdMissing, startSlapd } from '../../test/helpers/slapd.js';
import type { BenchSection, Figure } from '../lib.js';

const N = Number(process.env.BENCH_LDAP_ACCOUNTS ?? 10_000);
const quota = String(7 * 1024 ** 3);

/**
 * Provisioning N activated students to a real slapd through the outbox (ensure + set_password per
 * account, as activation enqueues them), against `ldapadd` of the same entries as LDIF into an
 * identical fresh slapd in the same run. Wall-clock: most of the work is slapd's, in another
 * process, so CPU time of this process alone would flatter Tessera.
 */
export const ldapSection: BenchSection = {
  name: 'ldap',
  async run(): Promise<Figure[]> {
    if (slapdMissing) {
      process.stdout.write(`skipped: ${slapdMissing}\n`);
      return [];
    }
    const passwordHash = await hash('Bench-Pw-2026', argon2Options);
    const users = Array.from({ length: N }, (_, i) => ({ id: randomUUID(), uid: `b${String(i).padStart(6, '0')}`, given: 'Anna', family: `Rossi${i}` }));
    const mail = (uid: string) => `${uid}@studenti.unidemo.example.org`;

    const throughOutbox = async (): Promise<number> => {
      const slapd = await startSlapd();
      const db = connect('sqlite::memory:');
      const env = readEnv({ NODE_ENV: 'test', TESSERA_SECRET: 'bench-secret-bench-secret-bench-secret-0', LOG_LEVEL: 'silent', LDAP_URL: slapd.url, LDAP_BIND_DN: slapd.rootDn, LDAP_BIND_PASSWORD: slapd.rootPassword, LDAP_BASE_DN: slapd.baseDn });
      const config = structuredClone(loadInstitution(undefined).config);
      const ctx = await createContext({ env, config, db, logLevel: 'silent' });
      try {
        const now = new Date().toISOString();
        for (let i = 0; i < N; i += 500) {
          const chunk = users.slice(i, i + 500);
          await db.kysely.insertInto('persons').values(chunk.map((u) => ({ id: u.id, population: 'student', external_id: u.uid, given_name: u.given, family_name: u.family, ...nameKeyColumns(u.given, u.family), birth_date: null, tax_code: null, amka: null, insurance_country: null, insurance_number: null, mobile: null, personal_email: null, personal_email_lower: null, registrar_status: 'active', org_unit: null, role: null, contract_type: null, entitlements: '[]', extra: '{}', source_hash: 'bench', created_at: now, updated_at: now }))).execute();
          await db.kysely.insertInto('accounts').values(chunk.map((u) => ({ id: u.id, person_id: u.id, username: u.uid, username_lower: u.uid, email: mail(u.uid), email_lower: mail(u.uid), status: 'active', password_hash: passwordHash, password_changed_at: now, federated_only: 0, roles: '[]', created_at: now, updated_at: now, version: 1 }))).execute();
        }
        // What activation enqueues, for every account.
        await db.kysely.transaction().execute(async (tx) => {
          for (const u of users) await enqueueAccountProvisioning(ctx, tx, new Date(now), u.id, ['ensure', 'set_password']);
        });
        const t0 = performance.now();
        const report = await runProvisioningOnce(ctx, { batch: 5000, concurrency: Number(process.env.BENCH_CONC ?? 256) });
        const seconds = (performance.now() - t0) / 1000;
        const found = slapd.search(`ou=people,${slapd.baseDn}`, '(objectClass=inetOrgPerson)', ['uid'], 'one').length;
        if (report.delivered !== 2 * N || found !== N) throw new Error(`provisioned ${found}/${N} entries, report ${JSON.stringify(report)}`);
        return seconds;
      } finally {
        await closeTargets(ctx);
        await db.close();
        await slapd.stop();
      }
    };

    const withLdapadd = async (): Promise<number> => {
      const slapd = await startSlapd();
      const base = slapd.baseDn;
      const ldif: string[] = [`dn: ou=people,${base}`, 'objectClass: organizationalUnit', 'ou: people', '', `dn: ou=groups,${base}`, 'objectClass: organizationalUnit', 'ou: groups', ''];
      for (const u of users) {
        ldif.push(
          `dn: uid=${u.uid},ou=people,${base}`,
          'objectClass: inetOrgPerson',
          'objectClass: tesseraAccount',
          `uid: ${u.uid}`,
          `cn: ${u.given} ${u.family}`,
          `sn: ${u.family}`,
          `givenName: ${u.given}`,
          `mail: ${mail(u.uid)}`,
          `tesseraMailQuota: ${quota}`,
          `userPassword: {ARGON2}${passwordHash}`,
          '',
        );
      }
      ldif.push(`dn: cn=student,ou=groups,${base}`, 'objectClass: groupOfNames', 'cn: student', ...users.map((u) => `member: uid=${u.uid},ou=people,${base}`), '');
      const text = ldif.join('\n');
      try {
        const t0 = performance.now();
        slapd.ldapadd(text);
        return (performance.now() - t0) / 1000;
      } finally {
        await slapd.stop();
      }
    };

    // The machine is shared: the two are run alternately, twice, and the best of each kept.
    const outboxRuns: number[] = [];
    const ldapaddRuns: number[] = [];
    for (let round = 0; round < 2; round++) {
      outboxRuns.push(await throughOutbox());
      ldapaddRuns.push(await withLdapadd());
    }
    const outboxSeconds = Math.min(...outboxRuns);
    const ldapaddSeconds = Math.min(...ldapaddRuns);
    const viaOutbox = N / outboxSeconds;
    const viaLdapadd = N / ldapaddSeconds;
    return [
      { metric: `provisioning ${N} accounts through the outbox`, value: viaOutbox, unit: 'entries/s' },
      { metric: `ldapadd of the same ${N} entries (LDIF)`, value: viaLdapadd, unit: 'entries/s' },
      { metric: 'outbox provisioning / ldapadd throughput', value: viaOutbox / viaLdapadd, unit: 'ratio', goal: '≥ 0.5' },
    ];
  },
};
