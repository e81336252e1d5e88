import { AlreadyExistsError, Attribute, Change, Control, NoSuchObjectError, ObjectClassViolationError, type Client } from 'ldapts';

/**
 * OpenLDAP's "permissive modify" control: adding a value that is there already, or deleting one
 * that is not, succeeds instead of failing the whole request — what makes group edits idempotent.
 */
export const permissiveModify = new Control('1.2.840.113556.1.4.1413');

/** At most this long is waited for more changes to a group, and at most this many go in one modify. */
const maxWaitMs = 50;
const maxBatch = 5000;

interface Pending {
  size: number;
  add: Set<string>;
  remove: Set<string>;
  waiters: Array<{ resolve: () => void; reject: (e: unknown) => void }>;
}

const memberChange = (operation: 'add' | 'delete', values: string[]) =>
  new Change({ operation, modification: new Attribute({ type: 'member', values }) });

/**
 * Coalesces group membership changes ("group commit"): while one modify of a group is on its way,
 * the changes asked for meanwhile gather and go together as the next one. A groupOfNames of ten
 * thousand members is rewritten whole by each modify, so one modify per member would make
 * provisioning quadratic; this way the batches grow with the server's latency.
 */
export class LdapGroupWriter {
  private pending = new Map<string, Pending>();
  private running = new Set<string>();
  private scheduled = new Set<string>();

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
      if (!p) this.pending.set(group, (p = { size: 0, add: new Set(), remove: new Set(), waiters: [] }));
      const m = member.toLowerCase();
      (how === 'add' ? p.add : p.remove).add(m);
      (how === 'add' ? p.remove : p.add).delete(m);
      p.waiters.push({ resolve, reject });
      p.size++;
      if (!this.running.has(group) && !this.scheduled.has(group)) this.schedule(group, Date.now(), -1);
    });
  }

  /**
   * Waits while changes keep arriving (they come from operations still on their way), at most
   * `maxWaitMs`, so a batch of deliveries becomes a handful of group modifies.
   */
  private schedule(group: string, since: number, seen: number): void {
    this.scheduled.add(group);
    setTimeout(() => {
      const size = this.pending.get(group)?.size ?? 0;
      if (size !== seen && size < maxBatch && Date.now() - since < maxWaitMs) return this.schedule(group, since, size);
      this.flush(group);
    }, 1);
  }

  private flush(group: string): void {
    this.scheduled.delete(group);
    const p = this.pending.get(group);
    if (this.running.has(group) || !p) return;
    this.pending.delete(group);
    this.running.add(group);
    void this.apply(group, p)
      .then(
        () => p.waiters.forEach((w) => w.resolve()),
        (e: unknown) => p.waiters.forEach((w) => w.reject(e)),
      )
      .finally(() => {
        this.running.delete(group);
        if (this.pending.has(group) && !this.scheduled.has(group)) this.schedule(group, Date.now(), -1);
      });
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
