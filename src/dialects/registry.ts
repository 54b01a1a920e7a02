/** Which dialect a URL scheme chooses: each dialect declares its own schemes. */
import type { Dialect, SchemeTarget } from "./dialect.ts";
import { irisDialect } from "./iris/iris-dialect.ts";
import { postgresDialect } from "./postgres/postgres-dialect.ts";

const DIALECTS: readonly Dialect[] = [postgresDialect, irisDialect];

/** The dialect and kind of target for a lower-case scheme, or undefined for an unknown one. */
export function dialectForScheme(scheme: string): { dialect: Dialect; target: SchemeTarget } | undefined {
  for (const dialect of DIALECTS) {
    if (Object.hasOwn(dialect.schemes, scheme)) return { dialect, target: dialect.schemes[scheme] };
  }
  return undefined;
}
