// Pizza names for order lines, which carry only a pizza id. The public menu names the
// pizzas on sale; an admin's catalogue also names the sold-out ones.

import { api } from "./api";
import type { CatalogPizza, MenuPizza } from "./types";
import type { Session } from "./session";

export interface PizzaName {
  name: string;
  size: string;
}

let names: Map<string, PizzaName> | null = null;
let loading: Promise<Map<string, PizzaName>> | null = null;

/** The names of the pizzas (empty if neither list could be read: lines then show ids). */
export function pizzaNames(session: Session): Promise<Map<string, PizzaName>> {
  if (names) return Promise.resolve(names);
  if (loading) return loading;
  loading = (async () => {
    const found = new Map<string, PizzaName>();
    try {
      const menu = await api.get<MenuPizza[]>("/api/menu/", { auth: false });
      for (const p of menu.data ?? []) found.set(p.pizza_id, { name: p.pizza_type__pizza_nm, size: p.size });
    } catch {
      // ids are shown instead
    }
    if (session.roles.admin) {
      try {
        const all = await api.get<{ pizzas: CatalogPizza[] }>("/api/admin/menu/");
        for (const p of all.data?.pizzas ?? []) found.set(p.pizza_id, { name: p.name, size: p.size });
      } catch {
        // the public menu's names are enough
      }
    }
    if (found.size > 0) names = found;
    loading = null;
    return found;
  })();
  return loading;
}

export function describePizza(names: Map<string, PizzaName>, pizzaId: string): string {
  const known = names.get(pizzaId);
  return known ? `${known.name} (${known.size})` : pizzaId;
}
