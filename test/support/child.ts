import { fork, type ChildProcess } from 'node:child_process';

/** A Node child process (`fork`) that talks over IPC; its output is kept for error messages. */
export class Child {
  readonly process: ChildProcess;
  #output = '';
  readonly #messages: unknown[] = [];
  readonly #waiting: Array<{ test(message: any): boolean; resolve(message: any): void }> = [];
  #exit: string | undefined;

  constructor(script: string, options: { env?: Record<string, string>; cwd?: string; args?: string[] } = {}) {
    this.process = fork(script, options.args ?? [], { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    this.process.stdout!.on('data', (d) => (this.#output += d));
    this.process.stderr!.on('data', (d) => (this.#output += d));
    this.process.on('message', (message: any) => {
      const i = this.#waiting.findIndex((w) => w.test(message));
      if (i === -1) this.#messages.push(message);
      else this.#waiting.splice(i, 1)[0].resolve(message);
    });
    this.process.on('exit', (code, signal) => {
      this.#exit = `exited with ${signal ?? code}`;
      for (const waiting of this.#waiting.splice(0)) waiting.resolve({ error: `${script} ${this.#exit}:\n${this.#output}` });
    });
  }

  /** What the child printed so far. */
  get output(): string {
    return this.#output;
  }

  /** The next message `test` accepts (one already received counts); a message with `error` rejects. */
  async message<T = any>(test: (message: any) => boolean = () => true, timeoutMs = 120_000): Promise<T> {
    const i = this.#messages.findIndex(test);
    let message: any;
    if (i !== -1) message = this.#messages.splice(i, 1)[0];
    else if (this.#exit) message = { error: `child ${this.#exit}:\n${this.#output}` };
    else {
      message = await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no message from the child after ${timeoutMs} ms:\n${this.#output}`)), timeoutMs);
        this.#waiting.push({ test: (m) => test(m) || (m && m.error), resolve: (m) => (clearTimeout(timer), resolve(m)) });
      });
    }
    if (message && message.error) throw new Error(`child process failed: ${message.error}\n${this.#output}`);
    return message as T;
  }

  send(message: unknown): void {
    this.process.send(message as any);
  }

  /** Asks the child to close ('close' message), waits for it to exit, kills it after `graceMs`. */
  async close(graceMs = 10_000): Promise<void> {
    if (this.#exit) return;
    const exited = new Promise((resolve) => this.process.once('exit', resolve));
    try {
      this.process.send('close');
    } catch {
      // already gone
    }
    const timer = setTimeout(() => this.process.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
}
