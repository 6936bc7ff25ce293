import { expect } from "chai";
import { addressKey, ClientAddresses, normalize } from "../../../lib/client-address";

describe("client addresses", () => {
	it("is the socket's address when no proxy is trusted, whatever X-Forwarded-For says", () => {
		const clients = new ClientAddresses([]);
		expect(clients.resolve("203.0.113.9", "1.2.3.4")).to.equal("203.0.113.9");
		expect(clients.resolve("::ffff:203.0.113.9", undefined)).to.equal("203.0.113.9");
	});

	it("believes X-Forwarded-For from a trusted proxy, taking the first untrusted hop from the right", () => {
		const clients = new ClientAddresses(["10.0.0.0/8", "192.0.2.1"]);
		// the client wrote 6.6.6.6 itself; the load balancers added 198.51.100.7 and 10.1.2.3
		expect(clients.resolve("192.0.2.1", "6.6.6.6, 198.51.100.7, 10.1.2.3")).to.equal("198.51.100.7");
		expect(clients.resolve("10.9.9.9", ["198.51.100.8"])).to.equal("198.51.100.8");
		// from an untrusted peer the header is ignored
		expect(clients.resolve("198.51.100.9", "10.1.1.1")).to.equal("198.51.100.9");
	});

	it("stops at a hop that is not an address", () => {
		const clients = new ClientAddresses(["127.0.0.1"]);
		expect(clients.resolve("127.0.0.1", "unknown, 198.51.100.7")).to.equal("198.51.100.7");
		expect(clients.resolve("127.0.0.1", "garbage")).to.equal("127.0.0.1");
	});

	it("trusts X-Forwarded-Proto only from a trusted proxy", () => {
		expect(new ClientAddresses(["127.0.0.1"]).forwardedHttps("127.0.0.1", "https")).to.equal(true);
		expect(new ClientAddresses([]).forwardedHttps("127.0.0.1", "https")).to.equal(false);
		expect(new ClientAddresses(["127.0.0.1"]).forwardedHttps("127.0.0.1", "http")).to.equal(false);
	});

	it("counts IPv6 clients per /64 and IPv4 clients per address", () => {
		expect(addressKey("2001:db8:1:2:aaaa::1")).to.equal("2001:db8:1:2::/64");
		expect(addressKey("2001:db8:1:2:bbbb:cccc:dddd:eeee")).to.equal("2001:db8:1:2::/64");
		expect(addressKey("::1")).to.equal("0:0:0:0::/64");
		expect(addressKey("203.0.113.9")).to.equal("203.0.113.9");
		expect(normalize("[2001:DB8::1]")).to.equal("2001:db8::1");
	});
});
