// @ts-check
/**
 * Momentum's storefront: plain ES modules, no framework, no build. The catalog comes with the first page;
 * buying (shop.js) and the account (account.js) load when first visited. Everything goes through the public
 * REST API (../shared/api.js).
 */
import { onSignedOut } from "../shared/api.js";
import { catalogView, productView } from "./catalog.js";
import { route, sessionEnded, start } from "./core.js";

const shop = () => import("./shop.js");
const account = () => import("./account.js");

route(/^\/(?:products)?$/, async () => catalogView);
route(/^\/products\/([^/]+)$/, async () => productView);
route(/^\/cart$/, async () => (await shop()).cartView);
route(/^\/checkout$/, async () => (await shop()).checkoutView);
route(/^\/orders$/, async () => (await shop()).ordersView);
route(/^\/orders\/([^/]+)$/, async () => (await shop()).orderView);
route(/^\/account$/, async () => (await account()).accountView);
route(/^\/notifications$/, async () => (await account()).notificationsView);
route(/^\/login$/, async () => (await account()).loginView);
route(/^\/register$/, async () => (await account()).registerView);
route(/^\/verify-email$/, async () => (await account()).verifyEmailView);
route(/^\/forgot-password$/, async () => (await account()).forgotPasswordView);
route(/^\/reset-password$/, async () => (await account()).resetPasswordView);

onSignedOut(sessionEnded);
void start();
