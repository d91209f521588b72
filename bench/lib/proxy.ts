/**
 * A byte-counting TCP proxy on loopback: point a credential's Base URL at it and it forwards to
 * the real system, counting every byte each way (HTTP headers and bodies, as on the wire).
 */
import net from 'node:net';

export interface CountingProxy {
	url: string;
	/** Bytes client -> system (requests) and system -> client (responses). */
	counts(): { up: number; down: number; connections: number };
	reset(): void;
	close(): Promise<void>;
}

export async function countingProxy(targetUrl: string): Promise<CountingProxy> {
	const target = new URL(targetUrl);
	let up = 0;
	let down = 0;
	let connections = 0;
	const sockets = new Set<net.Socket>();
	const server = net.createServer((client) => {
		connections++;
		const upstream = net.connect(Number(target.port), target.hostname);
		sockets.add(client);
		sockets.add(upstream);
		client.on('data', (d: Buffer) => (up += d.length));
		upstream.on('data', (d: Buffer) => (down += d.length));
		client.pipe(upstream);
		upstream.pipe(client);
		const end = () => {
			client.destroy();
			upstream.destroy();
			sockets.delete(client);
			sockets.delete(upstream);
		};
		client.on('error', end);
		upstream.on('error', end);
		client.on('close', end);
		upstream.on('close', end);
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as net.AddressInfo;
	return {
		url: `http://127.0.0.1:${port}`,
		counts: () => ({ up, down, connections }),
		reset: () => {
			up = 0;
			down = 0;
			connections = 0;
		},
		close: () =>
			new Promise<void>((resolve) => {
				for (const s of sockets) s.destroy();
				server.close(() => resolve());
			}),
	};
}
