/**
 * Raw statements that would change a connection's state behind irisql's back.
 * On the pool, transaction control and session settings would stay on
 * whichever pooled connection ran them and reach its next user; inside a
 * transaction irisql manages, transaction control would end or split it
 * unseen. Every statement of a script is checked, after its comments; string
 * literals, quoted names and dollar-quoted bodies (a function's BEGIN ... END)
 * are not statements and are skipped.
 */
import { ValidationError } from "./errors.ts";
import { scanSql } from "./sql.ts";

const TRANSACTION_CONTROL =
  /^\s*(BEGIN|START\s+TRANSACTION|COMMIT|END|ROLLBACK|ABORT|SAVEPOINT|RELEASE|PREPARE\s+TRANSACTION)\b/i;
const SESSION_STATE = /^\s*(SET|RESET|DISCARD)\b/i;
const SET_CONFIG = /\bset_config\s*\(/i;
/** Text that could hold any of the above: most statements fail this one test and cost nothing more. */
const SUSPECT =
  /^\s*(BEGIN|START|COMMIT|END|ROLLBACK|ABORT|SAVEPOINT|RELEASE|PREPARE|SET|RESET|DISCARD)\b|;|--|\/\*|set_config/i;

export function refuseControl(text: string, where: "pool" | "transaction"): void {
  if (!SUSPECT.test(text)) return;
  const code = codeOnly(text);
  for (const statement of code.split(";")) {
    if (TRANSACTION_CONTROL.test(statement)) {
      throw new ValidationError(
        where === "pool"
          ? "Transaction control statements cannot run on the pool (the transaction would stay on one pooled " +
            "connection and swallow other callers' statements). Use engine.begin(fn) or engine.session(), " +
            "or hold a connection with engine.connect()."
          : "Transaction control statements cannot run inside a transaction irisql manages: use savepoint() for " +
            "nested work, and let begin()/commit()/rollback() end the transaction.",
      );
    }
    if (where === "pool" && SESSION_STATE.test(statement)) {
      throw new ValidationError(
        "Session settings (SET, RESET, DISCARD) cannot run on the pool: they would stay on one pooled connection " +
          "and reach its next user. Use SET LOCAL inside engine.begin(), hold a connection with engine.connect(), " +
          "or pass the setting in the engine options.",
      );
    }
  }
  if (where === "pool" && SET_CONFIG.test(code)) {
    throw new ValidationError(
      "set_config() cannot run on the pool: a session-wide setting would stay on one pooled connection. " +
        "Call it inside engine.begin() with is_local = true, or on a connection held with engine.connect().",
    );
  }
}

/** The statement text with comments, literals and quoted bodies blanked out. */
function codeOnly(text: string): string {
  let code = "";
  scanSql(text, (kind, start, end) => {
    code += kind === "code" ? text.slice(start, end) : kind === "comment" ? " " : " x ";
  });
  return code;
}
