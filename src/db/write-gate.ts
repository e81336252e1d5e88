/**
 * The turn-taking of SQLite writes between the server's thread and a job's thread of the same
 * process (jobs/thread.ts). SQLite lets one connection write at a time; a connection that finds
 * the file locked sleeps and polls (its busy timeout), and a job committing batch after batch
 * wins nearly every race, so a server request could wait for seconds. With the gate, the two
 * threads take turns through shared memory: the server's thread, when it wants to write, waits at
 * most for the job's current batch, and the job lets it in before starting the next one.
 *
 * WAL checkpoints follow the same idea: while a job's connection is open, it checkpoints after
 * each of its commits, outside its turn, and the server's connection does not (its commit would
 * otherwise copy the job's pages back into the database inside the server's turn). Measured and
 * left: checkpointing every eighth commit made a purge of a million accounts about 15 % faster
 * (consecutive batches change many of the same pages), but each checkpoint then flushed enough to
 * disk that a server write to the WAL meanwhile could wait inside the file system, on the event
 * loop (stalls up to 150 ms); run inside the job's turn instead, it made server writes wait up
 * to 0.6 s for it.
 *
 * Memory layout (Int32): [0] who writes (0 nobody, 1 server, 2 job); [1] server writes waiting;
 * [2] job connections open.
 */
export type GateRole = 'server' | 'job';

const OWNER = 0;
const WAITING = 1;
const JOBS = 2;
/** SQLite's default: a commit checkpoints once the WAL holds this many pages. */
const AUTO_CHECKPOINT = 1000;
const ROLE = { server: 1, job: 2 } as const;
const noop = () => {};
/** Atomics.waitAsync (Node 16+; in TypeScript's ES2024 library, newer than this project's target). */
type WaitAsync = (cells: Int32Array, index: number, value: number, timeoutMs: number) => { async: false; value: string } | { async: true; value: Promise<string> };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

export class WriteGate {
  private readonly cells: Int32Array;
  private held = 0;
  private autoCheckpoint = true;

  constructor(
    readonly memory: SharedArrayBuffer,
    private readonly role: GateRole,
    private readonly timeoutMs = 5000,
  ) {
    this.cells = new Int32Array(memory);
  }

  static memory(): SharedArrayBuffer {
    return new SharedArrayBuffer(12);
  }

  /** A connection of this side opened (`pragma` runs a PRAGMA on it). */
  opened(pragma: (p: string) => unknown): void {
    if (this.role !== 'job') return;
    pragma('wal_autocheckpoint = 0');
    Atomics.add(this.cells, JOBS, 1);
  }

  closed(): void {
    if (this.role === 'job') Atomics.sub(this.cells, JOBS, 1);
  }

  /** Before a write of this connection: the server checkpoints only while no job connection is open. */
  beforeWrite(pragma: (p: string) => unknown): void {
    if (this.role !== 'server') return;
    const auto = Atomics.load(this.cells, JOBS) === 0;
    if (auto === this.autoCheckpoint) return;
    pragma(`wal_autocheckpoint = ${auto ? AUTO_CHECKPOINT : 0}`);
    this.autoCheckpoint = auto;
  }

  /** After a commit of this connection, its turn over: a job copies what it wrote into the database. */
  afterCommit(pragma: (p: string) => unknown): void {
    if (this.role === 'job') pragma('wal_checkpoint(PASSIVE)');
  }

  /** Whether this side holds its turn now. */
  get holding(): boolean {
    return this.held > 0;
  }

  /**
   * The server's thread, before it takes its turn (enter()), waits here without blocking its event
   * loop while a job's batch holds the turn: meanwhile the server keeps serving whatever needs no
   * write. Counted as a waiting server write, so the job lets it in before its next batch. Resolves
   * to a function to call once enter() has run (or past the timeout, when SQLite's own busy
   * timeout takes over).
   */
  async awaitTurn(): Promise<() => void> {
    if (this.role !== 'server' || this.held > 0) return noop;
    Atomics.add(this.cells, WAITING, 1);
    const release = () => {
      Atomics.sub(this.cells, WAITING, 1);
      Atomics.notify(this.cells, WAITING);
    };
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const owner = Atomics.load(this.cells, OWNER);
      const left = deadline - Date.now();
      if (owner === 0 || owner === ROLE.server || left <= 0) return release;
      const w = waitAsync(this.cells, OWNER, owner, Math.min(left, 50));
      if (w.async) await w.value;
    }
  }

  /** Waits (blocking this thread) for this side's turn to write. Re-entrant. */
  enter(): void {
    if (this.held++ > 0) return;
    const me = ROLE[this.role];
    const deadline = Date.now() + this.timeoutMs;
    if (this.role === 'server') Atomics.add(this.cells, WAITING, 1);
    try {
      for (;;) {
        const left = deadline - Date.now();
        // Past the deadline, SQLite's own busy timeout takes over.
        if (left <= 0) return;
        // The job lets a waiting server write go first, before each of its writes.
        if (this.role === 'job') {
          const waiting = Atomics.load(this.cells, WAITING);
          if (waiting > 0) {
            Atomics.wait(this.cells, WAITING, waiting, Math.min(left, 50));
            continue;
          }
        }
        const owner = Atomics.compareExchange(this.cells, OWNER, 0, me);
        if (owner === 0) return;
        Atomics.wait(this.cells, OWNER, owner, Math.min(left, 50));
      }
    } finally {
      if (this.role === 'server') {
        Atomics.sub(this.cells, WAITING, 1);
        Atomics.notify(this.cells, WAITING);
      }
    }
  }

  /** Ends this side's turn. */
  leave(): void {
    if (this.held === 0 || --this.held > 0) return;
    if (Atomics.compareExchange(this.cells, OWNER, ROLE[this.role], 0) === ROLE[this.role]) Atomics.notify(this.cells, OWNER);
  }
}
