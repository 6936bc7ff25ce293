import os from "node:os";
import pg from "pg";

export interface MachineInfo {
	cpu: string;
	cores: number;
	memoryGiB: number;
	os: string;
	node: string;
	postgres: string;
}

export async function machineInfo(databaseUrl: string): Promise<MachineInfo> {
	let postgres = "unknown";
	const c = new pg.Client({ connectionString: databaseUrl });
	try {
		await c.connect();
		const { rows } = await c.query<{ server_version: string }>("SHOW server_version");
		postgres = rows[0].server_version;
	} finally {
		await c.end().catch(() => undefined);
	}
	const cpus = os.cpus();
	return {
		cpu: cpus[0]?.model?.trim() || "unknown",
		cores: cpus.length,
		memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
		os: `${os.type()} ${os.release()} ${os.arch()}`,
		node: process.version,
		postgres
	};
}
