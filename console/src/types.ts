// The shapes of the JSON API the console uses (components/docs/openapi/openapi.json,
// and the admin endpoints added for the console).

export type OrderState =
  | "placed"
  | "payment_pending"
  | "paid"
  | "payment_failed"
  | "accepted"
  | "baking"
  | "ready"
  | "completed"
  | "cancelled"
  | "refund_pending"
  | "refunded";

/** Every error body: `detail` (what to show), `error` (the same text), `request_id`. */
export interface ErrorBody {
  detail: string;
  error?: string;
  request_id?: string;
  /** 409 from a transition: where the order is and where it may go. */
  state?: OrderState;
  allowed?: OrderState[];
  /** 412 from a transition: the order's current version. */
  version?: number;
}

export interface Branch {
  bran_id: string;
  bran_nm: string;
}

export interface AdminBranch extends Branch {
  is_open: boolean;
}

/** `GET /api/menu/`: the pizzas on sale. */
export interface MenuPizza {
  pizza_id: string;
  pizza_type__pizza_nm: string;
  size: string;
  price: number;
  pizza_type_id: string;
  pizza_categ: string;
}

/** `GET /api/admin/menu/`: the whole catalogue, sold-out pizzas included. */
export interface CatalogPizza {
  pizza_id: string;
  pizza_type_id: string;
  name: string;
  category: string;
  size: string;
  price: number;
  sold_out: boolean;
}

export interface AdminPizza {
  pizza_id: string;
  price: number;
  sold_out: boolean;
}

export interface OrderLine {
  pizza_id: string;
  quantity: number;
  unit_price: number | null;
}

export interface QueuedOrder {
  order_id: number;
  member_id: string;
  date: string | null;
  time: string | null;
  state: OrderState;
  version: number;
  lines: OrderLine[];
  next: OrderState[];
}

export interface QueuePage {
  branch: string;
  marker: number;
  orders: QueuedOrder[];
  next_cursor: number | null;
}

export interface OrderMoved {
  order_id: number;
  state: OrderState;
  version: number;
}

export interface AuditEntry {
  audit_id: number;
  at: string;
  actor: string;
  action: string;
  subject: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

export interface AuditPage {
  entries: AuditEntry[];
  next_cursor: number | null;
}

export interface RoleGrant {
  member_id: string;
  role: "staff" | "admin";
  branch_id: string | null;
}

export interface MemberRoles {
  member_id: string;
  admin: boolean;
  staff: string[];
}

export interface SalesReport {
  /** The first day asked for, else the first day sold (null when nothing was sold). */
  from: string | null;
  to: string | null;
  branch: string | null;
  orders: number;
  revenue: number;
  average_order_value: number;
  pizzas_sold: number;
  by_day: { date: string; orders: number; revenue: number }[];
  by_hour: { hour: number; orders: number; revenue: number }[];
  pizzas: { pizza_type_id: string; name: string; category: string; quantity: number; revenue: number }[];
  sizes: { size: string; quantity: number; revenue: number }[];
  categories: { category: string; quantity: number; revenue: number }[];
  branches: { branch_id: string; name: string; orders: number; revenue: number }[];
}
