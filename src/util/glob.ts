/**
 * Glob matching identical to Redis's `stringmatchlen` (util.c): `*`, `?`, `[...]` with ranges
 * and `^` negation, `\` escapes, optional case folding. Works on latin1 byte strings.
 */
export function globMatch(pattern: string, str: string, nocase = false): boolean {
  return matchAt(pattern, 0, str, 0, nocase, 0);
}

const MAX_NESTING = 1000;

function matchAt(p: string, pi: number, s: string, si: number, nocase: boolean, nesting: number): boolean {
  if (nesting > MAX_NESTING) return false;
  const plen = p.length;
  const slen = s.length;
  while (pi < plen && si < slen) {
    const pc = p.charCodeAt(pi);
    switch (pc) {
      case 42 /* * */: {
        while (pi + 1 < plen && p.charCodeAt(pi + 1) === 42) pi++;
        if (pi + 1 === plen) return true;
        while (si < slen) {
          if (matchAt(p, pi + 1, s, si, nocase, nesting + 1)) return true;
          si++;
        }
        return false;
      }
      case 63 /* ? */:
        si++;
        break;
      case 91 /* [ */: {
        pi++;
        const not = p.charCodeAt(pi) === 94; /* ^ */
        if (not) pi++;
        let match = false;
        while (true) {
          if (pi >= plen) {
            pi--; // Redis: treat unterminated class as ending here
            break;
          }
          const c = p.charCodeAt(pi);
          if (c === 92 /* \ */ && pi + 2 <= plen - 1 + 1 && pi + 1 < plen) {
            pi++;
            if (eq(p.charCodeAt(pi), s.charCodeAt(si), nocase)) match = true;
          } else if (c === 93 /* ] */) {
            break;
          } else if (pi + 2 < plen && p.charCodeAt(pi + 1) === 45 /* - */) {
            let start = p.charCodeAt(pi);
            let end = p.charCodeAt(pi + 2);
            let ch = s.charCodeAt(si);
            if (start > end) {
              const t = start;
              start = end;
              end = t;
            }
            if (nocase) {
              start = lower(start);
              end = lower(end);
              ch = lower(ch);
            }
            pi += 2;
            if (ch >= start && ch <= end) match = true;
          } else if (eq(c, s.charCodeAt(si), nocase)) {
            match = true;
          }
          pi++;
        }
        if (not) match = !match;
        if (!match) return false;
        si++;
        break;
      }
      default:
        if (pc === 92 /* \ */ && pi + 1 < plen) pi++;
        if (!eq(p.charCodeAt(pi), s.charCodeAt(si), nocase)) return false;
        si++;
        break;
    }
    pi++;
    if (si === slen) {
      while (pi < plen && p.charCodeAt(pi) === 42) pi++;
      break;
    }
  }
  return pi === plen && si === slen;
}

function lower(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

function eq(a: number, b: number, nocase: boolean): boolean {
  return nocase ? lower(a) === lower(b) : a === b;
}
