import { AlreadyExistsError, Attribute, Change, Client, NoSuchObjectError } from 'ldapts';
import type { ProvisionedAccount, ProvisioningTarget, TargetEntry, TargetRef } from '../ports/provisioning-target.js';
import { LdapGroupWriter, permissiveModify } from './ldap-group-writer.js';

export interface LdapTargetOptions {
  id: string;
  url: string;
  bindDn: string;
  bindPassword: string;
  baseDn: string;
  populations: string[] | null;
  quotaAttribute: string;
  quotaUnit: 'bytes' | 'kilobytes' | 'megabytes' | 'gigabytes';
  objectClasses: string[];
  lockWith: 'ppolicy' | 'remove-password';
}

/** ppolicy's "locked until an administrator unlocks it" value. */
const lockedForever = '000001010000Z';
const unitBytes = { bytes: 1, kilobytes: 1024, megabytes: 1024 ** 2, gigabytes: 1024 ** 3 } as const;

/** Escapes a value for use in an RDN (RFC 4514). */
export function escapeRdn(v: string): string {
  return v.replace(/[\\,+"<>;=]/g, (c) => `\\${c}`).replace(/^([ #])/, '\\$1').replace(/ $/, '\\ ');
}

/**
 * How a password hash is written to `userPassword`: argon2 in the {ARGON2} scheme (slapd's argon2
 * module verifies it), crypt(3) formats in {CRYPT}, LDAP schemes ({SSHA}…) as they are. Null for
 * anything else, which is then not written (binds fail rather than accept an unknown format).
 */
export function ldapPasswordValue(hash: string | null): string | null {
  if (!hash) return null;
  if (hash.startsWith('$argon2')) return `{ARGON2}${hash}`;
  if (/^\{[A-Z0-9.-]+\}/i.test(hash)) return hash;
  if (/^\$(1|2[abxy]?|5|6|y)\$/.test(hash)) return `{CRYPT}${hash}`;
  return null;
}

const first = (v: unknown): string | undefined => {
  const x = Array.isArray(v) ? v[0] : v;
  return x === undefined ? undefined : Buffer.isBuffer(x) ? x.toString('utf8') : String(x);
};
const replace = (type: string, values: string[]) => new Change({ operation: 'replace', modification: new Attribute({ type, values }) });

/**
 * An OpenLDAP (or compatible) directory: `uid=<username>,ou=people,<base>` entries with
 * inetOrgPerson and the configured auxiliary classes, members of `cn=<population>,ou=groups,<base>`.
 * Suspension sets ppolicy's permanent lock (or removes the password: `lockWith`).
 */
export class LdapProvisioningTarget implements ProvisioningTarget {
  readonly type = 'ldap' as const;
  readonly id: string;
  private client: Client | null = null;
  private binding: Promise<Client> | null = null;
  private bound = false;
  private containersReady: Promise<void> | null = null;
  private readonly groups: LdapGroupWriter;
  private readonly people: string;
  private readonly groupsOu: string;

  constructor(private readonly o: LdapTargetOptions) {
    this.id = o.id;
    this.people = `ou=people,${o.baseDn}`;
    this.groupsOu = `ou=groups,${o.baseDn}`;
    this.groups = new LdapGroupWriter(() => this.session());
  }

  keyOf(ref: TargetRef): string {
    return ref.username.toLowerCase();
  }

  private dn(username: string): string {
    return `uid=${escapeRdn(username)},${this.people}`;
  }

  private groupDn(population: string): string {
    return `cn=${escapeRdn(population)},${this.groupsOu}`;
  }

  /**
   * A bound connection, shared by concurrent callers (requests are pipelined on it); a dropped
   * one is replaced on the next call.
   */
  private session(): Promise<Client> {
    if (this.binding && (!this.bound || this.client?.isConnected)) return this.binding;
    const client = new Client({ url: this.o.url, timeout: 30_000, connectTimeout: 10_000 });
    this.client = client;
    this.bound = false;
    this.containersReady = null;
    this.binding = client.bind(this.o.bindDn, this.o.bindPassword).then(
      () => {
        this.bound = true;
        return client;
      },
      (e: unknown) => {
        this.binding = null;
        throw e;
      },
    );
    return this.binding;
  }

  /** ou=people and ou=groups, created once per connection when missing. */
  private containers(c: Client): Promise<void> {
    this.containersReady ??= (async () => {
      for (const [dn, ou] of [[this.people, 'people'], [this.groupsOu, 'groups']] as const) {
        await c.add(dn, { objectClass: ['organizationalUnit'], ou }).catch((e: unknown) => {
          if (!(e instanceof AlreadyExistsError)) throw e;
        });
      }
    })().catch((e: unknown) => {
      this.containersReady = null;
      throw e;
    });
    return this.containersReady;
  }

  private attributes(a: ProvisionedAccount): Record<string, string[]> {
    const quota = a.mailQuotaBytes === null ? [] : [String(Math.round(a.mailQuotaBytes / unitBytes[this.o.quotaUnit]))];
    const password = this.o.lockWith === 'remove-password' && a.suspended ? null : ldapPasswordValue(a.passwordHash);
    return {
      cn: [`${a.givenName} ${a.familyName}`.trim() || a.username],
      sn: [a.familyName || a.username],
      givenName: a.givenName ? [a.givenName] : [],
      mail: a.email ? [a.email] : [],
      [this.o.quotaAttribute]: quota,
      userPassword: password ? [password] : [],
      ...(this.o.lockWith === 'ppolicy' ? { pwdAccountLockedTime: a.suspended ? [lockedForever] : [] } : {}),
    };
  }

  async ensureAccount(a: ProvisionedAccount): Promise<void> {
    const c = await this.session();
    await this.containers(c);
    const dn = this.dn(a.username);
    const attrs = this.attributes(a);
    const objectClass = ['inetOrgPerson', ...this.o.objectClasses];
    const present = Object.fromEntries(Object.entries(attrs).filter(([, v]) => v.length > 0));
    // A new entry is in no group yet; an existing one may be in another population's group.
    let groupsNow: string[] = [];
    try {
      await c.add(dn, { objectClass, uid: [a.username], ...present });
    } catch (e) {
      if (!(e instanceof AlreadyExistsError)) throw e;
      // The entry exists: bring every managed attribute to its value (empty removes it).
      // ppolicy clears pwdAccountLockedTime whenever userPassword is written, even in the same
      // request: a lock is therefore set by a modify of its own, after the password.
      const lockLater = this.o.lockWith === 'ppolicy' && a.suspended;
      const changes = [
        new Change({ operation: 'add', modification: new Attribute({ type: 'objectClass', values: objectClass }) }),
        ...Object.entries(attrs)
          .filter(([k]) => !(lockLater && k === 'pwdAccountLockedTime'))
          .map(([k, v]) => replace(k, v)),
      ];
      await c.modify(dn, changes, permissiveModify);
      if (lockLater) await c.modify(dn, replace('pwdAccountLockedTime', [lockedForever]));
      groupsNow = await this.groupsOf(c, dn);
    }
    const wanted = a.population ? this.groupDn(a.population) : null;
    await Promise.all([
      ...(wanted ? [this.groups.add(wanted, dn)] : []),
      ...groupsNow.filter((g) => g.toLowerCase() !== wanted?.toLowerCase()).map((g) => this.groups.remove(g, dn)),
    ]);
  }

  async setPassword(ref: TargetRef, passwordHash: string | null): Promise<boolean> {
    const c = await this.session();
    const v = ldapPasswordValue(passwordHash);
    try {
      await c.modify(this.dn(ref.username), replace('userPassword', v ? [v] : []));
      return true;
    } catch (e) {
      if (e instanceof NoSuchObjectError) return false;
      throw e;
    }
  }

  async suspend(ref: TargetRef): Promise<boolean> {
    const c = await this.session();
    try {
      const change = this.o.lockWith === 'ppolicy' ? replace('pwdAccountLockedTime', [lockedForever]) : replace('userPassword', []);
      await c.modify(this.dn(ref.username), change);
      return true;
    } catch (e) {
      if (e instanceof NoSuchObjectError) return false;
      throw e;
    }
  }

  async delete(ref: TargetRef): Promise<void> {
    const c = await this.session();
    const dn = this.dn(ref.username);
    await c.del(dn).catch((e: unknown) => {
      if (!(e instanceof NoSuchObjectError)) throw e;
    });
    const groups = await this.groupsOf(c, dn);
    await Promise.all(groups.map((g) => this.groups.remove(g, dn)));
  }

  private async groupsOf(c: Client, dn: string): Promise<string[]> {
    try {
      const r = await c.search(this.groupsOu, { scope: 'one', filter: `(member=${dn.replace(/[\\*()\0]/g, (x) => `\\${x.charCodeAt(0).toString(16).padStart(2, '0')}`)})`, attributes: ['cn'] });
      return r.searchEntries.map((e) => e.dn);
    } catch (e) {
      if (e instanceof NoSuchObjectError) return [];
      throw e;
    }
  }

  async list(): Promise<TargetEntry[]> {
    const c = await this.session();
    const populationOf = new Map<string, string>();
    try {
      for await (const page of c.searchPaginated(this.groupsOu, { scope: 'one', filter: '(objectClass=groupOfNames)', attributes: ['cn', 'member'], paged: { pageSize: 200 } })) {
        for (const g of page.searchEntries) {
          const cn = first(g.cn);
          if (!cn || (this.o.populations && !this.o.populations.includes(cn))) continue;
          const members = Array.isArray(g.member) ? g.member : [g.member];
          for (const m of members) populationOf.set(String(m).toLowerCase(), cn);
        }
      }
    } catch (e) {
      if (!(e instanceof NoSuchObjectError)) throw e;
    }
    const out: TargetEntry[] = [];
    const attributes = ['uid', 'mail', 'givenName', 'sn', this.o.quotaAttribute, 'userPassword', 'pwdAccountLockedTime'];
    try {
      for await (const page of c.searchPaginated(this.people, { scope: 'one', filter: '(objectClass=inetOrgPerson)', attributes, paged: { pageSize: 500 } })) {
        for (const e of page.searchEntries) {
          const uid = first(e.uid);
          if (!uid) continue;
          const quota = first(e[this.o.quotaAttribute]);
          const password = first(e.userPassword);
          out.push({
            key: uid.toLowerCase(),
            username: uid,
            email: first(e.mail) ?? null,
            givenName: first(e.givenName) ?? null,
            familyName: first(e.sn) ?? null,
            population: populationOf.get(this.dn(uid).toLowerCase()) ?? null,
            mailQuotaBytes: quota === undefined ? null : Number(quota) * unitBytes[this.o.quotaUnit],
            suspended: this.o.lockWith === 'ppolicy' ? first(e.pwdAccountLockedTime) !== undefined : password === undefined,
            passwordValue: password ?? null,
          });
        }
      }
    } catch (e) {
      if (!(e instanceof NoSuchObjectError)) throw e;
    }
    return out;
  }

  differences(a: ProvisionedAccount, e: TargetEntry): string[] {
    const want = this.attributes(a);
    const out: string[] = [];
    const same = (x: string | null | undefined, y: string | undefined) => (x ?? '') === (y ?? '');
    if (!same(e.email?.toLowerCase(), want.mail![0]?.toLowerCase())) out.push('mail');
    if (!same(e.givenName, want.givenName![0])) out.push('givenName');
    if (!same(e.familyName, want.sn![0])) out.push('sn');
    if (e.population !== a.population) out.push('group');
    const quota = want[this.o.quotaAttribute]![0];
    if ((e.mailQuotaBytes === null ? undefined : String(Math.round(e.mailQuotaBytes / unitBytes[this.o.quotaUnit]))) !== quota) out.push(this.o.quotaAttribute);
    if (e.suspended !== a.suspended) out.push('locked');
    if (e.passwordValue !== undefined && !same(e.passwordValue, want.userPassword![0])) out.push('userPassword');
    return out;
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = null;
    this.binding = null;
    this.containersReady = null;
    if (c?.isConnected) await c.unbind().catch(() => {});
  }
}
