/** The node groups of `npm run cluster` (app/cluster.ts), the same split as the docker-compose containers. */
export const CLUSTER_GROUPS: readonly { node: string; services: string }[] = [
	{ node: "gateway", services: "gateway" },
	{ node: "identity", services: "identity" },
	{ node: "catalog", services: "catalog,inventory,cart" },
	{ node: "checkout", services: "order,payment,notification" }
];
