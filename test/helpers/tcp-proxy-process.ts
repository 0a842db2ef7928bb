// A plain TCP proxy, run as its own process so a test can freeze it (SIGSTOP) into a real network
// black hole: the kernel still completes connections to its port (its listen backlog), but not a
// byte passes either way until SIGCONT. Usage: node --import tsx tcp-proxy-process.ts PORT TARGET_PORT
import net from 'node:net';

const [port, target] = process.argv.slice(2).map(Number);
if (!port || !target) throw new Error('usage: tcp-proxy-process.ts PORT TARGET_PORT');
const server = net.createServer((client) => {
  const upstream = net.connect({ host: '127.0.0.1', port: target });
  const end = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', end).on('close', end);
  upstream.on('error', end).on('close', end);
  client.pipe(upstream);
  upstream.pipe(client);
});
server.listen(port, '127.0.0.1', () => process.stdout.write(`listening ${port}\n`));
