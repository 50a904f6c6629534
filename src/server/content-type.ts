/**
 * The request content type the admission endpoints accept: `application/json`
 * (case-insensitive), with optional parameters, of which `charset` may only be
 * `utf-8` (the body is decoded as UTF-8 whatever it says). A prefix match let
 * `application/json-patch+json` and `application/json.evil` through.
 * Not jshttp's `content-type` parser (express's): version 2 skips malformed
 * parameters (`; charset`, `; charset="utf-8`) instead of refusing them.
 */

/** RFC 9110 token: a parameter name or unquoted value. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** A quoted parameter value (RFC 9110 quoted-string), its backslash escapes undone. */
const QUOTED = /^"((?:[^"\\]|\\.)*)"$/;

/** Whether a `Content-Type` header value is JSON in UTF-8: `application/json`, `application/json; charset=utf-8`. */
export function isJsonContentType(value: string | undefined): boolean {
  if (value === undefined) return false;
  const [type, ...params] = value.split(';');
  if (type!.trim().toLowerCase() !== 'application/json') return false;
  for (const param of params) {
    const eq = param.indexOf('=');
    if (eq < 0) return false;
    const name = param.slice(0, eq).trim();
    let v = param.slice(eq + 1).trim();
    const quoted = QUOTED.exec(v);
    if (quoted) v = quoted[1]!.replace(/\\(.)/g, '$1');
    else if (!TOKEN.test(v)) return false;
    if (!TOKEN.test(name)) return false;
    if (name.toLowerCase() === 'charset' && v.toLowerCase() !== 'utf-8') return false;
  }
  return true;
}
