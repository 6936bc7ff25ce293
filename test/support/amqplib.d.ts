/** The part of amqplib (RabbitMQ's client, which Moleculer's AMQP transporter drives) the tests use directly. */
declare module "amqplib" {
	export interface Connection {
		close(): Promise<void>;
	}
	export function connect(url: string): Promise<Connection>;
}
