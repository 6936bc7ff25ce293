import { Errors } from "moleculer";
import { registerErrors } from "../../lib/errors";

/** Another product (active or archived) already uses this SKU, compared case-insensitively. */
export class SkuTakenError extends Errors.MoleculerClientError {
	constructor(sku: string) {
		super("A product with this SKU already exists", 409, "SKU_TAKEN", { sku });
	}
}

registerErrors(SkuTakenError);
