/**
 * Manifest parsing and formatting. The accept/refuse cases and messages were checked against
 * redis-server 7.0.15 (a manifest it refuses must be refused here with the same message).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AofManifest, AofManifestError, baseFileName, incrFileName } from './manifest.js';

function refuse(text: string, message: string, lineNo?: number): void {
  assert.throws(
    () => AofManifest.parse(text),
    (e: unknown) => {
      assert.ok(e instanceof AofManifestError, String(e));
      assert.equal(e.message, message);
      if (lineNo !== undefined) assert.equal(e.lineNo, lineNo);
      return true;
    },
    JSON.stringify(text),
  );
}

test('a manifest as Redis writes it', () => {
  const am = AofManifest.parse('file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.1.incr.aof seq 1 type h\nfile appendonly.aof.2.incr.aof seq 2 type i\n');
  assert.deepEqual(am.base, { name: 'appendonly.aof.2.base.rdb', seq: 2, type: 'b' });
  assert.deepEqual(am.history, [{ name: 'appendonly.aof.1.incr.aof', seq: 1, type: 'h' }]);
  assert.deepEqual(am.incr, [{ name: 'appendonly.aof.2.incr.aof', seq: 2, type: 'i' }]);
  assert.equal(am.currBaseSeq, 2);
  assert.equal(am.currIncrSeq, 2);
  assert.equal(am.dirty, false);
});

test('accepted variations (comments, spacing, quoting, extra keys, long type value)', () => {
  const am = AofManifest.parse(
    '# comment\n  file   "appendonly.aof.2\\x2ebase.rdb"   SEQ 2 Type bxx extra value \r\n#x\nfile appendonly.aof.3.incr.aof seq 3 type i\n',
  );
  assert.equal(am.base?.name, 'appendonly.aof.2.base.rdb');
  assert.equal(am.base?.type, 'b');
  assert.equal(am.incr[0]?.seq, 3);
  // Only comments: no file at all, which means "no AOF".
  assert.ok(AofManifest.parse('#x\n').empty);
});

test('refused manifests, with Redis 7.0.15 messages', () => {
  refuse('', 'Found an empty AOF manifest');
  refuse('file a.1.base.rdb seq 1 type b', 'The AOF manifest file contains too long line');
  refuse('file a seq 1 type b\n' + 'x'.repeat(2000) + '\n', 'The AOF manifest file contains too long line');
  refuse('file a seq 1 type b\n\nfile b seq 1 type i\n', 'Invalid AOF manifest file format', 2);
  refuse('file a seq 1 type b extra\n', 'Invalid AOF manifest file format', 1);
  refuse('file a seq 1\n', 'Invalid AOF manifest file format', 1);
  refuse('file "a seq 1 type b\n', 'Invalid AOF manifest file format', 1);
  refuse('file a seq 0 type b\n', 'Invalid AOF manifest file format', 1);
  refuse('file a seq x type b\n', 'Invalid AOF manifest file format', 1);
  refuse('name a seq 1 type b\n', 'Invalid AOF manifest file format', 1);
  refuse('file a seq 1 type "" x y\n', 'Invalid AOF manifest file format', 1);
  refuse('file a seq 1 type b\nfile b seq 2 type b\n', 'Found duplicate base file information', 2);
  refuse('file ../a seq 1 type b\n', "File can't be a path, just a filename", 1);
  refuse('file a\\\\b seq 1 type b\n'.replace('\\\\', '\\'), "File can't be a path, just a filename", 1);
  refuse('file a seq 2 type i\nfile b seq 2 type i\n', 'Found a non-monotonic sequence number', 2);
  refuse('file a seq 1 type x\n', 'Unknown AOF file type', 1);
});

test('error log lines match Redis', () => {
  try {
    AofManifest.parse('file a seq 1 type b\nfile ../x seq 2 type i\n');
    assert.fail('should throw');
  } catch (e) {
    assert.deepEqual((e as AofManifestError).logLines(), [
      '*** FATAL AOF MANIFEST FILE ERROR ***',
      'Reading the manifest file, at line 2',
      ">>> 'file ../x seq 2 type i'",
      "File can't be a path, just a filename",
    ]);
  }
});

test('new base / incr files, history, and the written form', () => {
  const am = new AofManifest();
  const b1 = am.newBase('appendonly.aof', true);
  const i1 = am.newIncr('appendonly.aof');
  assert.equal(b1.name, baseFileName('appendonly.aof', 1, true));
  assert.equal(b1.name, 'appendonly.aof.1.base.rdb');
  assert.equal(i1.name, incrFileName('appendonly.aof', 1));
  assert.equal(am.toString(), 'file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n');
  // A rewrite: new incr first, then the new base; old files become history.
  am.newIncr('appendonly.aof');
  am.newBase('appendonly.aof', false);
  am.markRewrittenIncrAsHistory(true);
  assert.equal(
    am.toString(),
    'file appendonly.aof.2.base.aof seq 2 type b\n' +
      'file appendonly.aof.1.base.rdb seq 1 type h\n' +
      'file appendonly.aof.1.incr.aof seq 1 type h\n' +
      'file appendonly.aof.2.incr.aof seq 2 type i\n',
  );
  assert.equal(AofManifest.parse(am.toString()).toString(), am.toString());
  // With AOF off every incr file becomes history.
  am.markRewrittenIncrAsHistory(false);
  assert.equal(am.incr.length, 0);
});

test('names needing escapes are written quoted and read back', () => {
  const am = new AofManifest();
  for (const name of ['with space.aof', 'quote"d', 'tab\there', 'bin\x01\xff']) {
    am.base = { name, seq: 1, type: 'b' };
    const text = am.toString();
    assert.ok(text.startsWith('file "'), text);
    assert.equal(AofManifest.parse(text).base?.name, name);
  }
});
