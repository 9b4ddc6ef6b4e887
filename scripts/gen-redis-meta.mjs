// Captures Redis 7.0's command metadata (COMMAND INFO, COMMAND DOCS) and config defaults
// (CONFIG GET *) from a running redis-server, as typed RESP3 trees, into
// src/commands/meta/redis-7.0.json. Mirra serves COMMAND replies from this data for the
// commands it implements, so arity, flags, key specs and docs match Redis exactly.
// Usage: node scripts/gen-redis-meta.mjs <port>
import net from 'node:net';
import fs from 'node:fs';

const port = Number(process.argv[2] ?? 6379);

function parse(buf, pos) {
  const t = String.fromCharCode(buf[pos]);
  const nl = buf.indexOf('\r\n', pos);
  const line = buf.toString('latin1', pos + 1, nl);
  let p = nl + 2;
  switch (t) {
    case '+': return [{ t: 'simple', v: line }, p];
    case '-': return [{ t: 'error', v: line }, p];
    case ':': return [{ t: 'int', v: Number(line) }, p];
    case '_': return [{ t: 'null' }, p];
    case ',': return [{ t: 'double', v: line }, p];
    case '#': return [{ t: 'bool', v: line === 't' }, p];
    case '$': case '=': {
      const n = Number(line);
      if (n < 0) return [{ t: 'null' }, p];
      const s = buf.toString('latin1', p, p + n);
      return [{ t: 'bulk', v: t === '=' ? s.slice(4) : s }, p + n + 2];
    }
    case '*': case '~': case '%': case '>': {
      const n = Number(line) * (t === '%' ? 2 : 1);
      const items = [];
      for (let i = 0; i < n; i++) { const [v, np] = parse(buf, p); items.push(v); p = np; }
      return [{ t: t === '*' ? 'array' : t === '~' ? 'set' : t === '%' ? 'map' : 'push', v: items }, p];
    }
    default: throw new Error('bad type ' + t);
  }
}

function request(cmds) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    const out = [];
    s.on('data', (d) => {
      data = Buffer.concat([data, d]);
      try {
        let p = 0;
        out.length = 0;
        while (p < data.length) { const [v, np] = parse(data, p); out.push(v); p = np; }
        if (out.length === cmds.length) { s.end(); resolve(out); }
      } catch { /* incomplete */ }
    });
    s.on('error', reject);
    for (const c of cmds) s.write(`*${c.length}\r\n` + c.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join(''));
  });
}

const [hello, info, docs, config] = await request([['HELLO', '3'], ['COMMAND', 'INFO'], ['COMMAND', 'DOCS'], ['CONFIG', 'GET', '*']]);
void hello;
const commands = {};
for (const rec of info.v) commands[rec.v[0].v] = { info: rec };
for (let i = 0; i < docs.v.length; i += 2) {
  const name = docs.v[i].v;
  (commands[name] ??= {}).docs = docs.v[i + 1];
}
const configDefaults = {};
for (let i = 0; i < config.v.length; i += 2) configDefaults[config.v[i].v] = config.v[i + 1].v;
fs.writeFileSync('src/commands/meta/redis-7.0.json', JSON.stringify({ commands, configDefaults }));
console.log(Object.keys(commands).length, 'commands,', Object.keys(configDefaults).length, 'config entries');
