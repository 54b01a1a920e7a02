/**
 * One irisql Session per request, the way async SQLAlchemy apps use one
 * AsyncSession per request: handlers read `c.var.session`; the transaction
 * commits when the handler answered with a success, rolls back otherwise,
 * and the connection is given back in every case. That last part matters on
 * PGlite, which has a single connection: a session left open would block
 * every later request.
 */
import type { MiddlewareHandler } from "hono";
import type { Engine, Session } from "irisql";

export interface SessionEnv {
  Variables: { session: Session };
}

export function sessionPerRequest(engine: Engine): MiddlewareHandler<SessionEnv> {
  return async (c, next) => {
    // Cheap: a session takes a connection only at its first statement.
    const session = engine.session();
    c.set("session", session);
    try {
      await next();
      // Hono turns a thrown error into c.error plus an error response; either means: do not commit.
      if (!c.error && c.res.ok) await session.commit();
    } finally {
      await session.close(); // rolls back whatever was not committed
    }
  };
}
