/**
 * The Python contender's process: bench/sqlalchemy_contender.py under
 * .venv-bench/bin/python (scripts/bench/setup-python.sh), one per bench/run.ts
 * process, started on first use. Each request is one JSON line; the answer to a
 * "run" is the time Python measured around the awaited SQLAlchemy work, so the
 * pipe round trip is not in the figure. The sampler takes turns with it call by
 * call, as with the contenders in this process (see Contender.timed).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";

const root = new URL("..", import.meta.url).pathname;
export const PYTHON = root + ".venv-bench/bin/python";
const SCRIPT = root + "bench/sqlalchemy_contender.py";

interface Answer {
  ok?: boolean;
  ms?: number;
  error?: string;
}

class PythonProcess {
  private child: ChildProcess;
  private buffered = "";
  private waiting: ((a: Answer) => void)[] = [];
  private exited: string | undefined;

  constructor() {
    this.child = spawn(PYTHON, [SCRIPT], { cwd: root, stdio: ["pipe", "pipe", "inherit"] });
    this.child.stdout!.setEncoding("utf8");
    this.child.stdout!.on("data", (chunk: string) => {
      this.buffered += chunk;
      let at: number;
      while ((at = this.buffered.indexOf("\n")) >= 0) {
        const line = this.buffered.slice(0, at);
        this.buffered = this.buffered.slice(at + 1);
        this.waiting.shift()?.(JSON.parse(line) as Answer);
      }
    });
    this.child.on("exit", (code) => {
      this.exited = `the SQLAlchemy contender exited (code ${code})`;
      for (const w of this.waiting.splice(0)) w({ error: this.exited });
    });
  }

  async request(message: Record<string, unknown>): Promise<Answer> {
    if (this.exited) throw new Error(this.exited);
    const answer = new Promise<Answer>((resolve) => this.waiting.push(resolve));
    this.child.stdin!.write(JSON.stringify(message) + "\n");
    const a = await answer;
    if (a.error) throw new Error(`SQLAlchemy contender: ${a.error}`);
    return a;
  }

  quit(): Promise<void> {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.child.kill("SIGKILL"), 10_000);
      this.child.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
      this.child.stdin!.end(JSON.stringify({ op: "quit" }) + "\n");
    });
  }
}

let shared: PythonProcess | undefined;

export function pythonAvailable(): boolean {
  return existsSync(PYTHON);
}

/** One epoch of the SQLAlchemy contender for a case: a fresh AsyncEngine in the Python process. */
export async function openPython(
  caseId: string,
  options: { url: string; pool: number; rows?: number; queries?: number },
): Promise<{ timed: () => Promise<number>; close: () => Promise<void> }> {
  if (!pythonAvailable()) {
    throw new Error(`${PYTHON} is missing: run scripts/bench/setup-python.sh (bench/check does)`);
  }
  shared ??= new PythonProcess();
  const p = shared;
  await p.request({ op: "open", case: caseId, ...options });
  return {
    timed: async () => (await p.request({ op: "run" })).ms!,
    close: async () => {
      await p.request({ op: "close" });
    },
  };
}

/** Ends the Python process, if one was started. */
export async function stopPython(): Promise<void> {
  const p = shared;
  shared = undefined;
  await p?.quit();
}
