import { Errors } from "moleculer";
import { registerErrors } from "../../lib/errors";

/** The line would exceed what is in stock right now. Same type and `data.shortages` shape as inventory's. */
export class CartStockError extends Errors.MoleculerClientError {
	constructor(productId: string, requested: number, available: number) {
		super(`Only ${available} unit(s) available`, 409, "INSUFFICIENT_STOCK", { shortages: [{ productId, requested, available }] });
	}
}

registerErrors(CartStockError);
