/** Start a TypeScript file in a child process with the runtime running this test. */
import { spawn } from "node:child_process";

export function runtimeCommand(file: string, args: string[]): { cmd: string; args: string[] } {
  const g = globalThis as { Deno?: { execPath(): string }; Bun?: unknown; process?: { execPath: string } };
  if (g.Deno) return { cmd: g.Deno.execPath(), args: ["run", "-A", file, ...args] };
  if (g.Bun) return { cmd: g.process!.execPath, args: [file, ...args] };
  return { cmd: g.process!.execPath, args: ["--import", "tsx", file, ...args] };
}

export function runChild(
  file: string,
  args: string[],
  timeoutMs: number,
): Promise<{ code: number | null; out: string; timedOut: boolean }> {
  const { cmd, args: full } = runtimeCommand(file, args);
  return new Promise((resolve) => {
    const child = spawn(cmd, full, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, out, timedOut });
    });
  });
}
