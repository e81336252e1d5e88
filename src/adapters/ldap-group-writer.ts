import { AlreadyExistsError, Attribute, Change, Control, NoSuchObjectError, ObjectClassViolationError, type Client } from 'ldapts';

/**
 * OpenLDAP's "permissive modify" control: adding a value that is there already, or deleting one
 * that is not, succeeds instead of failing the whole request — what makes group edits idempotent.
 */
export const permissiveModify = new Control('1.2.840.113556.1.4.1413');

interface Pending {
  add: Set<string>;
  remove: Set<string>;
  waiters: Array<{ resolve: () => void; reject: (e: unknown) => void }>;
}

const memberChange = (operation: 'add' | 'delete', values: string[]) =>
  new Change({ operation, modification: new Attribute({ type: 'member', values }) });

/**
 * Coalesces group membership changes: every change asked for in the same tick goes to the server
 * as one modify per group. A groupOfNames of ten thousand members is rewritten whole by each
 * modify, so one modify per member would make provisioning quadratic.
 */
export class LdapGroupWriter {
  private pending = new Map<string, Pending>();
  private running = new Map<string, Promise<void>>();
  private scheduled = false;

  constructor(private readonly session: () => Promise<Client>) {}

  /** Resolves once `member` is in `group` (created when missing). */
  add(group: string, member: string): Promise<void> {
    return this.enqueue(group, member, 'add');
  }

  /** Resolves once `member` is not in `group`; the group is removed with its last member. */
  remove(group: string, member: string): Promise<void> {
    return this.enqueue(group, member, 'remove');
  }

  private enqueue(group: string, member: string, how: 'add' | 'remove'): Promise<void> {
    return new Promise((resolve, reject) => {
      let p = this.pending.get(group);
      if (!p) this.pending.set(group, (p = { add: new Set(), remove: new Set(), waiters: [] }));
      const m = member.toLowerCase();
      (how === 'add' ? p.add : p.remove).add(m);
      (how === 'add' ? p.remove : p.add).delete(m);
      p.waiters.push({ resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flushAll());
      }
    });
  }

  private flushAll(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = new Map();
    for (const [group, p] of batch) {
      // Changes to one group are applied one batch after the other, never concurrently.
      const prev = this.running.get(group) ?? Promise.resolve();
      const next = prev.then(() => this.apply(group, p)).then(
        () => p.waiters.forEach((w) => w.resolve()),
        (e: unknown) => p.waiters.forEach((w) => w.reject(e)),
      );
      this.running.set(group, next);
      void next.finally(() => {
        if (this.running.get(group) === next) this.running.delete(group);
      });
    }
  }

  private async apply(group: string, p: Pending): Promise<void> {
    const client = await this.session();
    if (p.add.size) {
      const values = [...p.add];
      try {
        await client.modify(group, memberChange('add', values), permissiveModify);
      } catch (e) {
        if (!(e instanceof NoSuchObjectError)) throw e;
        const cn = /^cn=([^,]+)/i.exec(group)?.[1] ?? 'group';
        try {
          await client.add(group, { objectClass: ['groupOfNames'], cn, member: values });
        } catch (e2) {
          if (!(e2 instanceof AlreadyExistsError)) throw e2;
          await client.modify(group, memberChange('add', values), permissiveModify);
        }
      }
    }
    if (p.remove.size) {
      try {
        await client.modify(group, memberChange('delete', [...p.remove]), permissiveModify);
      } catch (e) {
        if (e instanceof NoSuchObjectError) return;
        if (!(e instanceof ObjectClassViolationError)) throw e;
        // groupOfNames needs a member: the last one leaving takes the group with it.
        await client.del(group).catch((d: unknown) => {
          if (!(d instanceof NoSuchObjectError)) throw d;
        });
      }
    }
  }
}
