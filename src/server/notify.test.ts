import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Keyspace } from '../keyspace/keyspace.js';
import { formatNotifyFlags, parseNotifyFlags, parseNotifyDirective, KeyspaceNotifier, NOTIFY_NEW } from './notify.js';

/** CONFIG SET value → CONFIG GET value, as redis-server 7.0.15 answers. */
const NORMALISED: [string, string][] = [
  ['KEA', 'AKE'],
  ['Ex', 'xE'],
  ['g$lshzxetd', 'A'],
  ['Km', 'Km'],
  ['A', 'A'],
  ['AKEmn', 'AKEm'],
  ['lKx', 'lxK'],
  ['', ''],
  ['AA', 'A'],
  ['Kn', 'nK'],
  ['ged', 'ged'],
  ['mEKndtxzhsl$g', 'g$lshzxtdnKEm'],
  ['ndtexzhsl$g', 'A'],
];

test('notify-keyspace-events is normalised like Redis', () => {
  for (const [input, shown] of NORMALISED) {
    const flags = parseNotifyFlags(input);
    assert.notEqual(flags, null, input);
    assert.equal(formatNotifyFlags(flags!), shown, input);
  }
  // 'A' hides an 'n' in the text, but the flag is kept.
  assert.ok((parseNotifyFlags('An')! & NOTIFY_NEW) !== 0);
});

test('invalid class characters are rejected with Redis\'s message', () => {
  assert.equal(parseNotifyFlags('Q'), null);
  assert.equal(parseNotifyFlags('KEa'), null);
  assert.throws(() => parseNotifyDirective(['Q']), /Invalid event class character\. Use 'Ag\$lshzxeKEtmdn'\./);
  assert.throws(() => parseNotifyDirective(['K', 'E']), /wrong number of arguments/);
});

test('notifier publishes keyspace and keyevent messages for enabled classes only', () => {
  const sent: [string, string][] = [];
  const n = new KeyspaceNotifier({ publish: (ch, msg) => (sent.push([ch, msg]), 0) });
  const ks = new Keyspace(4, { now: () => 0, mayExpire: () => true, onExpired: () => {} });
  ks.addListener(n);
  const db3 = ks.dbs[3]!;
  ks.changed(db3, 'k', '$', 'set');
  assert.deepEqual(sent, []);
  n.setFlags(parseNotifyFlags('KE$')!);
  ks.changed(db3, 'k', '$', 'set');
  ks.changed(db3, 'k', 'g', 'del');
  assert.deepEqual(sent, [
    ['__keyspace@3__:k', 'set'],
    ['__keyevent@3__:set', 'k'],
  ]);
  sent.length = 0;
  n.setFlags(parseNotifyFlags('Ex')!);
  ks.notify(db3, 'k', 'x', 'expired');
  assert.deepEqual(sent, [['__keyevent@3__:expired', 'k']]);
  sent.length = 0;
  // A class without K or E publishes nothing.
  n.setFlags(parseNotifyFlags('A')!);
  ks.changed(db3, 'k', 'g', 'del');
  assert.deepEqual(sent, []);
});
