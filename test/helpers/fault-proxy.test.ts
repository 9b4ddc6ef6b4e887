import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { FaultProxy } from './fault-proxy.js';
import { waitFor } from './wait.js';

async function echoServer(): Promise<{ port: number; close: () => void }> {
  const srv = net.createServer((s) => s.pipe(s));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { port: (srv.address() as net.AddressInfo).port, close: () => srv.close() };
}

async function connect(port: number): Promise<{ sock: net.Socket; got: () => string; closed: () => boolean }> {
  const sock = net.connect(port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  let data = '';
  let closed = false;
  sock.on('data', (d) => (data += d.toString()));
  sock.on('close', () => (closed = true));
  sock.on('error', () => {});
  return { sock, got: () => data, closed: () => closed };
}

test('fault proxy forwards, stalls, drops and cuts', async () => {
  const echo = await echoServer();
  const proxy = await FaultProxy.start(echo.port);
  try {
    const c = await connect(proxy.port);
    c.sock.write('hello');
    await waitFor(() => c.got() === 'hello', 'echo through proxy');

    proxy.stall('down', true);
    c.sock.write('-stalled');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(c.got(), 'hello');
    proxy.stall('down', false);
    await waitFor(() => c.got() === 'hello-stalled', 'stalled bytes delivered after resume');

    proxy.drop('up', true);
    c.sock.write('-lost');
    await new Promise((r) => setTimeout(r, 100));
    proxy.drop('up', false);
    c.sock.write('-kept');
    await waitFor(() => c.got() === 'hello-stalled-kept', 'dropped bytes never arrive');

    proxy.cut();
    await waitFor(() => c.closed(), 'cut closes the client side');
    proxy.refuse(true);
    const d = await connect(proxy.port);
    await waitFor(() => d.closed(), 'refused connection is closed');
  } finally {
    await proxy.close();
    echo.close();
  }
});

test('fault proxy throttles', async () => {
  const echo = await echoServer();
  const proxy = await FaultProxy.start(echo.port);
  try {
    proxy.throttle('up', 20000);
    const c = await connect(proxy.port);
    const t0 = Date.now();
    c.sock.write('x'.repeat(10000));
    await waitFor(() => c.got().length === 10000, 'throttled data arrives', 5000);
    assert.ok(Date.now() - t0 >= 350, `10 KB at 20 KB/s took ${Date.now() - t0} ms`);
  } finally {
    await proxy.close();
    echo.close();
  }
});
