// @ts-check
// The storefront: to be built.
