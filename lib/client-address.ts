import net from "node:net";

/**
 * Who is calling: the client address a request came from, believing `X-Forwarded-For` only from trusted
 * proxies (TRUSTED_PROXIES). Throttling and rate limits are keyed by it, so a header a client can forge must
 * never choose the key: behind no proxy the socket's address is the answer, whatever the header says.
 */
export class ClientAddresses {
	private readonly trusted = new net.BlockList();
	private readonly any: boolean;

	constructor(trustedProxies: readonly string[]) {
		for (const entry of trustedProxies) {
			const [address, bits] = entry.split("/");
			const family = net.isIP(address) === 6 ? "ipv6" : "ipv4";
			if (bits === undefined) this.trusted.addAddress(address, family);
			else this.trusted.addSubnet(address, Number(bits), family);
		}
		this.any = trustedProxies.length > 0;
	}

	/** True when `address` is one of the configured proxies. */
	isTrusted(address: string): boolean {
		if (!this.any || !net.isIP(address)) return false;
		return this.trusted.check(address, net.isIP(address) === 6 ? "ipv6" : "ipv4");
	}

	/**
	 * The client address of a request from `peer` (the socket's address) carrying `forwardedFor`: walking the
	 * X-Forwarded-For chain from the right (the hop nearest to us), every trusted proxy is skipped and the first
	 * address that is not one is the client. Anything a client wrote further left is never looked at.
	 */
	resolve(peer: string | undefined, forwardedFor: string | string[] | undefined): string {
		let client = normalize(peer ?? "") || "unknown";
		if (!this.isTrusted(client) || forwardedFor === undefined) return client;
		const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(",") : forwardedFor).split(",").map(h => normalize(h.trim()));
		for (let i = hops.length - 1; i >= 0; i--) {
			// a hop that is no address at all is where the trustworthy part of the chain ends
			if (!net.isIP(hops[i])) break;
			client = hops[i];
			if (!this.isTrusted(client)) break;
		}
		return client;
	}

	/** Whether a request from `peer` reached the proxy over TLS (X-Forwarded-Proto from a trusted proxy). */
	forwardedHttps(peer: string | undefined, forwardedProto: string | string[] | undefined): boolean {
		if (!this.isTrusted(normalize(peer ?? ""))) return false;
		const proto = Array.isArray(forwardedProto) ? forwardedProto[0] : forwardedProto;
		return proto?.split(",")[0].trim().toLowerCase() === "https";
	}
}

/** `::ffff:10.0.0.1` is 10.0.0.1; brackets and zone ids go. */
export function normalize(address: string): string {
	let a = address.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
	if (/^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(a)) a = a.slice(7);
	return a.toLowerCase();
}

/**
 * The key a rate limit or throttle counts a client address under. An IPv6 client usually holds a whole /64
 * (rotating through it costs nothing), so IPv6 addresses count per /64; IPv4 per address.
 */
export function addressKey(address: string): string {
	if (net.isIP(address) !== 6) return address;
	const groups = expandIpv6(address);
	return groups ? `${groups.slice(0, 4).join(":")}::/64` : address;
}

function expandIpv6(address: string): string[] | undefined {
	const [head, tail] = address.split("::");
	const left = head ? head.split(":") : [];
	const right = tail !== undefined && tail !== "" ? tail.split(":") : [];
	// an embedded IPv4 tail (::1.2.3.4) takes two groups
	const last = right.length ? right[right.length - 1] : left[left.length - 1];
	if (last?.includes(".")) return undefined;
	const missing = 8 - left.length - right.length;
	if (tail === undefined && left.length !== 8) return undefined;
	const groups = [...left, ...Array(tail === undefined ? 0 : missing).fill("0"), ...right];
	return groups.length === 8 ? groups.map(g => g.replace(/^0+(?=.)/, "")) : undefined;
}
