// @ts-check
// The admin: to be built.
