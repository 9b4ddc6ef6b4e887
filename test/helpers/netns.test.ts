import { test } from 'node:test';
import assert from 'node:assert/strict';
import { netnsAvailable, TestNetwork } from './netns.js';

test('network namespaces give separate hosts that can be partitioned', { skip: !netnsAvailable() && 'needs root and ip netns' }, () => {
  const net = TestNetwork.create(2);
  try {
    const [a, b] = net.hosts;
    const ping = (from: typeof a, to: string) => from!.run('ping', ['-c', '1', '-W', '1', to]).includes('1 received');
    assert.ok(ping(a, b!.address), 'hosts reach each other');
    net.partition(1);
    assert.ok(!ping(a, b!.address), 'partitioned host is unreachable');
    net.heal(1);
    assert.ok(ping(a, b!.address), 'healed host is reachable again');
  } finally {
    net.destroy();
  }
});
