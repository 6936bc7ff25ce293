// @ts-check
/** Who may do what: users, roles and permissions. */
import { api } from "../shared/api.js";
import { dateTime, h, onSubmit } from "../shared/ui.js";
import { submitAsNavigation } from "./catalog.js";
import { actionButton, actionLink, busy, can, confirmAction, field, nav, pageOf, pager, session, table } from "./kit.js";

/**
 * @typedef {{ id: string, email: string, name: string, phone: string | null, role: string, roleId: string, createdAt: string, emailVerified: boolean }} User
 * @typedef {{ id: number, name: string, builtin: boolean }} Permission
 * @typedef {{ id: string, name: string, builtin: boolean, allPermissions: boolean, permissions: Permission[] }} Role
 * @typedef {import("./kit.js").RouteContext} RouteContext
 * @typedef {import("./kit.js").View} View
 */

const PAGE_SIZE = 20;

/** Every role, when the signed-in user may list them (for pickers and filters). @returns {Promise<Role[] | undefined>} */
async function rolesIfAllowed() {
	if (!can("role.view")) return undefined;
	const { items } = /** @type {{ items: Role[] }} */ (await api("GET", "/admin/roles"));
	return items;
}

/** @param {Role[]} roles @param {string | undefined} selected @param {string} [name] @param {string} [blank] */
function roleSelect(roles, selected, name = "roleId", blank) {
	return h(
		"select",
		{ name },
		blank !== undefined ? h("option", { value: "" }, blank) : null,
		roles.map(r => h("option", { value: r.id, selected: r.id === selected }, r.name))
	);
}

/** Asks, then deletes a user. @param {User} u @param {HTMLButtonElement} button */
async function deleteUser(u, button) {
	const sure = await confirmAction({
		title: `Delete ${u.name}'s account?`,
		body: `${u.email} will no longer be able to sign in. Their orders stay. This cannot be undone.`,
		confirm: "Delete account"
	});
	if (!sure) return;
	await busy(button, async () => {
		await api("DELETE", `/admin/users/${u.id}`);
		nav.go("/admin/users", `Deleted ${u.email}.`);
	});
}

/** @param {RouteContext} ctx @returns {Promise<View>} */
export async function usersView({ query }) {
	const search = query.get("search") ?? "";
	const roleId = query.get("roleId") ?? "";
	const [page, roles] = await Promise.all([
		/** @type {Promise<{ items: User[], total: number, page: number, pageSize: number }>} */ (
			api("GET", "/admin/users", { query: { search, roleId, page: pageOf(query), pageSize: PAGE_SIZE } })
		),
		rolesIfAllowed()
	]);
	const filter = h(
		"form",
		{ class: "toolbar", role: "search", method: "get", action: "/admin/users", onsubmit: submitAsNavigation, "aria-label": "Find users" },
		field("Name or e-mail", h("input", { type: "search", name: "search", value: search, maxlength: "100" })),
		roles ? field("Role", roleSelect(roles, roleId, "roleId", "Any role")) : null,
		h("button", { type: "submit", class: "secondary" }, "Find")
	);
	const rows = page.items.map(u => [
		can("user.update") ? h("a", { href: `/admin/users/${u.id}` }, u.name) : u.name,
		u.email,
		u.role,
		u.emailVerified ? "yes" : "no",
		dateTime(u.createdAt),
		h(
			"div",
			{ class: "row actions" },
			can("user.delete") && u.id !== session.user?.id
				? actionButton("Delete", u.email, e => deleteUser(u, /** @type {HTMLButtonElement} */ (e.currentTarget)), "danger small")
				: null
		)
	]);
	return {
		title: "Users",
		content: [
			h("div", { class: "row toolbar-row" }, filter, can("user.store") ? h("a", { href: "/admin/users/new", class: "button" }, "New user") : null),
			table("Users", ["Name", "E-mail", "Role", "Verified", "Joined", "Actions"], rows, search || roleId ? "No user matches." : "No users."),
			pager(page, query)
		]
	};
}

/** A new user's form (`new`) or an existing one's. @param {RouteContext} ctx @returns {Promise<View>} */
export async function userView({ params: [id] }) {
	const isNew = id === "new";
	if (isNew && !can("user.store")) throw new Error("Your account is not allowed to create users.");
	const [found, roles] = await Promise.all([
		isNew ? undefined : /** @type {Promise<{ user: User & { permissions: string[] } }>} */ (api("GET", `/admin/users/${id}`)),
		rolesIfAllowed()
	]);
	const user = found?.user;
	const editable = isNew || can("user.update");
	const inputs = [
		field("Name", h("input", { name: "name", required: true, maxlength: "100", value: user?.name, autocomplete: "off" })),
		field("E-mail", h("input", { name: "email", type: "email", required: true, value: user?.email, autocomplete: "off" })),
		field(
			"Phone (optional)",
			h("input", { name: "phone", type: "tel", value: user?.phone ?? "", autocomplete: "off" }),
			"International format, e.g. +5511987654321."
		),
		isNew
			? field(
					"Password",
					h("input", { name: "password", type: "password", required: true, minlength: "8", autocomplete: "new-password" }),
					"At least 8 characters."
				)
			: null,
		roles ? field("Role", roleSelect(roles, user?.roleId ?? roles.find(r => r.name === "customer")?.id)) : null
	];
	const form = /** @type {HTMLFormElement} */ (
		h("form", { class: "narrow", novalidate: true }, inputs, editable ? h("button", { type: "submit" }, isNew ? "Create user" : "Save changes") : null)
	);
	if (!editable) for (const el of form.querySelectorAll("input, select")) el.setAttribute("disabled", "");
	onSubmit(form, async v => {
		/** @type {Record<string, unknown>} */
		const body = { name: v.name, email: v.email };
		if (v.roleId) body.roleId = v.roleId;
		if (isNew) {
			if (v.phone) body.phone = v.phone;
			body.password = v.password;
			const { user: created } = /** @type {{ user: User }} */ (await api("POST", "/admin/users", { body }));
			nav.go(`/admin/users/${created.id}`, `Created ${created.email} (${created.role}).`);
		} else {
			body.phone = v.phone || null;
			const { user: saved } = /** @type {{ user: User }} */ (await api("PATCH", `/admin/users/${id}`, { body }));
			nav.reload(`Saved ${saved.email} (${saved.role}).`);
		}
	});
	return {
		title: user ? user.name : "New user",
		content: [
			h("p", null, h("a", { href: "/admin/users" }, "← All users")),
			user ? h("p", { class: "muted" }, `Joined ${dateTime(user.createdAt)}. E-mail ${user.emailVerified ? "verified" : "not verified yet"}.`) : null,
			form,
			user
				? h(
						"section",
						{ "aria-labelledby": "perm-title" },
						h("h2", { id: "perm-title" }, `What the ${user.role} role allows`),
						h(
							"ul",
							{ class: "chips" },
							user.permissions.map(p => h("li", null, h("code", null, p)))
						)
					)
				: null,
			user && can("user.delete") && user.id !== session.user?.id
				? h(
						"section",
						{ class: "danger-zone", "aria-labelledby": "delete-title" },
						h("h2", { id: "delete-title" }, "Delete"),
						h(
							"button",
							{
								type: "button",
								class: "danger",
								onclick: (/** @type {Event} */ e) => deleteUser(user, /** @type {HTMLButtonElement} */ (e.currentTarget))
							},
							"Delete account"
						)
					)
				: null
		]
	};
}

/** Asks, then deletes a role. @param {Role} r @param {HTMLButtonElement} button */
async function deleteRole(r, button) {
	const sure = await confirmAction({
		title: `Delete the ${r.name} role?`,
		body: "Only a role no one holds can be deleted. This cannot be undone.",
		confirm: "Delete role"
	});
	if (!sure) return;
	await busy(button, async () => {
		await api("DELETE", `/admin/roles/${r.id}`);
		nav.go("/admin/roles", `Deleted the ${r.name} role.`);
	});
}

/** @param {Role} r */
function rolePermissions(r) {
	if (r.allPermissions) return h("em", null, "every permission");
	if (r.permissions.length === 0) return h("span", { class: "muted" }, "none");
	return h(
		"ul",
		{ class: "chips" },
		r.permissions.map(p => h("li", null, h("code", null, p.name)))
	);
}

/** @returns {Promise<View>} */
export async function rolesView() {
	const roles = /** @type {Role[]} */ (await rolesIfAllowed());
	const rows = roles.map(r => [
		can("role.update") && !r.allPermissions ? h("a", { href: `/admin/roles/${r.id}` }, r.name) : h("span", null, r.name),
		r.builtin ? "built in" : "",
		rolePermissions(r),
		h(
			"div",
			{ class: "row actions" },
			can("role.delete") && !r.builtin
				? actionButton("Delete", `the ${r.name} role`, e => deleteRole(r, /** @type {HTMLButtonElement} */ (e.currentTarget)), "danger small")
				: null
		)
	]);
	return {
		title: "Roles",
		content: [
			can("role.store") ? h("p", null, h("a", { href: "/admin/roles/new", class: "button" }, "New role")) : null,
			table("Roles", ["Role", "Kind", "Permissions", "Actions"], rows, "No roles.")
		]
	};
}

/** A new role's form (`new`) or an existing one's: its name and a checkbox per permission. @param {RouteContext} ctx @returns {Promise<View>} */
export async function roleView({ params: [id] }) {
	const isNew = id === "new";
	if (isNew && !can("role.store")) throw new Error("Your account is not allowed to create roles.");
	const [found, all] = await Promise.all([
		isNew ? undefined : /** @type {Promise<{ role: Role }>} */ (api("GET", `/admin/roles/${id}`)),
		can("permission.view") ? /** @type {Promise<{ items: Permission[] }>} */ (api("GET", "/admin/permissions")) : undefined
	]);
	const role = found?.role;
	const editable = isNew || (can("role.update") && !role?.allPermissions);
	const held = new Set(role?.permissions.map(p => p.id));
	/** Permissions grouped by what they are about (the part before the dot). */
	const groups = new Map();
	for (const p of all?.items ?? role?.permissions ?? []) {
		const key = p.name.split(".")[0];
		groups.set(key, [...(groups.get(key) ?? []), p]);
	}
	const boxes = [...groups].map(([group, perms]) =>
		h(
			"fieldset",
			{ class: "perm-group" },
			h("legend", null, group),
			perms.map((/** @type {Permission} */ p) => {
				const box = h("input", {
					type: "checkbox",
					name: "permissionIds",
					value: String(p.id),
					id: `perm-${p.id}`,
					checked: held.has(p.id),
					disabled: !editable
				});
				return h("div", { class: "check" }, box, h("label", { for: `perm-${p.id}` }, p.name));
			})
		)
	);
	const form = /** @type {HTMLFormElement} */ (
		h(
			"form",
			{ novalidate: true },
			field("Name", h("input", { name: "name", required: true, maxlength: "50", value: role?.name, readonly: role?.builtin || !editable })),
			role?.allPermissions
				? h("p", { class: "notice" }, "This role holds every permission, including ones added later; it cannot be changed.")
				: h(
						"fieldset",
						{ class: "perms" },
						h("legend", null, "Permissions"),
						all ? null : h("p", { class: "muted" }, "Your account cannot list permissions: only the ones the role holds are shown."),
						h("div", { class: "perm-grid" }, boxes)
					),
			editable ? h("button", { type: "submit" }, isNew ? "Create role" : "Save role") : null
		)
	);
	onSubmit(form, async v => {
		const permissionIds = new FormData(form).getAll("permissionIds").map(Number);
		/** @type {Record<string, unknown>} */
		const body = { permissionIds };
		if (!role?.builtin) body.name = v.name;
		if (isNew) {
			const { role: created } = /** @type {{ role: Role }} */ (await api("POST", "/admin/roles", { body }));
			nav.go(`/admin/roles/${created.id}`, `Created the ${created.name} role with ${created.permissions.length} permissions.`);
		} else {
			const { role: saved } = /** @type {{ role: Role }} */ (await api("PATCH", `/admin/roles/${id}`, { body }));
			nav.reload(`Saved the ${saved.name} role: ${saved.permissions.length} permissions.`);
		}
	});
	return {
		title: role ? `Role: ${role.name}` : "New role",
		content: [
			h("p", null, h("a", { href: "/admin/roles" }, "← All roles")),
			form,
			role && can("role.delete") && !role.builtin
				? h(
						"section",
						{ class: "danger-zone", "aria-labelledby": "delete-title" },
						h("h2", { id: "delete-title" }, "Delete"),
						h(
							"button",
							{
								type: "button",
								class: "danger",
								onclick: (/** @type {Event} */ e) => deleteRole(role, /** @type {HTMLButtonElement} */ (e.currentTarget))
							},
							"Delete role"
						)
					)
				: null
		]
	};
}

/** Asks, then deletes a permission. @param {Permission} p @param {HTMLButtonElement} button */
async function deletePermission(p, button) {
	const sure = await confirmAction({ title: `Delete ${p.name}?`, body: "Every role loses it. This cannot be undone.", confirm: "Delete permission" });
	if (!sure) return;
	await busy(button, async () => {
		await api("DELETE", `/admin/permissions/${p.id}`);
		nav.go("/admin/permissions", `Deleted ${p.name}.`);
	});
}

const NAME_HINT = "resource.verb, the verb one of view, store, update, delete: e.g. report.view.";

/** @returns {Promise<View>} */
export async function permissionsView() {
	const { items } = /** @type {{ items: Permission[] }} */ (await api("GET", "/admin/permissions"));
	let form = null;
	if (can("permission.store")) {
		form = /** @type {HTMLFormElement} */ (
			h(
				"form",
				{ class: "toolbar", novalidate: true, "aria-labelledby": "new-perm-title" },
				h("h2", { id: "new-perm-title", class: "visually-hidden" }, "New permission"),
				field("New permission", h("input", { name: "name", required: true, maxlength: "64", autocomplete: "off", spellcheck: "false" }), NAME_HINT),
				h("button", { type: "submit" }, "Add permission")
			)
		);
		onSubmit(form, async v => {
			const { permission } = /** @type {{ permission: Permission }} */ (await api("POST", "/admin/permissions", { body: { name: v.name } }));
			nav.reload(`Added ${permission.name}.`);
		});
	}
	const rows = items.map(p => [
		h("code", null, p.name),
		p.builtin ? "built in" : "added",
		h(
			"div",
			{ class: "row actions" },
			!p.builtin && can("permission.update") ? actionLink(`/admin/permissions/${p.id}`, "Rename", p.name) : null,
			!p.builtin && can("permission.delete")
				? actionButton("Delete", p.name, e => deletePermission(p, /** @type {HTMLButtonElement} */ (e.currentTarget)), "danger small")
				: null
		)
	]);
	return {
		title: "Permissions",
		content: [
			form,
			table("Permissions", ["Permission", "Kind", "Actions"], rows, "No permissions."),
			h("p", { class: "muted small" }, "Built-in permissions are declared by Momentum's code: they cannot be renamed or deleted.")
		]
	};
}

/** Renaming one permission. @param {RouteContext} ctx @returns {Promise<View>} */
export async function permissionView({ params: [id] }) {
	const { permission } = /** @type {{ permission: Permission }} */ (await api("GET", `/admin/permissions/${id}`));
	const editable = can("permission.update") && !permission.builtin;
	const form = /** @type {HTMLFormElement} */ (
		h(
			"form",
			{ class: "narrow", novalidate: true },
			field(
				"Name",
				h("input", { name: "name", required: true, maxlength: "64", value: permission.name, readonly: !editable, spellcheck: "false" }),
				NAME_HINT
			),
			editable ? h("button", { type: "submit" }, "Rename") : null
		)
	);
	onSubmit(form, async v => {
		const { permission: saved } = /** @type {{ permission: Permission }} */ (await api("PATCH", `/admin/permissions/${id}`, { body: { name: v.name } }));
		nav.go("/admin/permissions", `Renamed ${permission.name} to ${saved.name}.`);
	});
	return {
		title: `Permission: ${permission.name}`,
		content: [
			h("p", null, h("a", { href: "/admin/permissions" }, "← All permissions")),
			permission.builtin ? h("p", { class: "notice" }, "This permission is built in: it cannot be renamed or deleted.") : null,
			form,
			!permission.builtin && can("permission.delete")
				? h(
						"section",
						{ class: "danger-zone", "aria-labelledby": "delete-title" },
						h("h2", { id: "delete-title" }, "Delete"),
						h(
							"button",
							{
								type: "button",
								class: "danger",
								onclick: (/** @type {Event} */ e) => deletePermission(permission, /** @type {HTMLButtonElement} */ (e.currentTarget))
							},
							"Delete permission"
						)
					)
				: null
		]
	};
}
