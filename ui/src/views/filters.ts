//! The inbox's filter bar: every control with a visible label (its accessible name too), each
//! "all" choice saying what it is about, and the check boxes including *En retard*.
import { h, replace } from "../dom";
import { label, t, type MessageKey } from "../i18n";
import { KINDS, PRIORITIES, SORTS, statusOptions, type Filters } from "../query";

type Select = "kind" | "status" | "priority" | "sort";

const ALL: Record<Exclude<Select, "sort">, MessageKey> = {
  kind: "filter.allKinds",
  status: "filter.allStatuses",
  priority: "filter.allPriorities",
};

/** Fills `host` with the filter controls for `q`; `onChange` gets each change as a patch. */
export function renderFilters(host: HTMLElement, q: Filters, onChange: (p: Partial<Filters>) => void): void {
  const select = (id: Select, value: string | null, options: Array<[string, string]>, patch: (v: string | null) => Partial<Filters>) => {
    const el = h(
      "select",
      {
        id: `filter-${id}`,
        attrs: { "data-testid": `filter-${id}` },
        on: { change: (e) => onChange(patch((e.target as HTMLSelectElement).value || null)) },
      },
      ...(id === "sort" ? [] : [h("option", { value: "" }, t(ALL[id]))]),
      ...options.map(([v, text]) => h("option", { value: v }, text)),
    );
    el.value = value ?? "";
    return h(
      "span",
      { class: "filter" },
      h("label", { attrs: { for: `filter-${id}`, "data-testid": `label-${id}` } }, t(`filter.${id}`)),
      el,
    );
  };
  const check = (id: string, on: boolean, text: MessageKey, patch: (v: boolean) => Partial<Filters>, hint?: MessageKey) =>
    h(
      "label",
      { class: "check", title: hint ? t(hint) : undefined },
      h("input", { type: "checkbox", checked: on, attrs: { "data-testid": `filter-${id}` }, on: { change: (e) => onChange(patch((e.target as HTMLInputElement).checked)) } }),
      t(text),
    );
  host.setAttribute("role", "group");
  host.setAttribute("aria-label", t("filter.legend"));
  replace(
    host,
    select("kind", q.kind, KINDS.map((k) => [k, label("kind", k)]), (v) => ({ kind: v as Filters["kind"] })),
    select("status", q.status, statusOptions(q.kind).map((k) => [k, label("status", k)]), (v) => ({ status: v })),
    select("priority", q.priority, PRIORITIES.map((k) => [k, label("priority", k)]), (v) => ({ priority: v as Filters["priority"] })),
    check("mine", q.assignedToMe, "filter.mine", (v) => ({ assignedToMe: v })),
    check("unread", q.unreadOnly, "filter.unread", (v) => ({ unreadOnly: v })),
    check("active", q.activeOnly, "filter.active", (v) => ({ activeOnly: v })),
    check("overdue", q.overdueOnly, "filter.overdue", (v) => ({ overdueOnly: v }), "filter.overdueHint"),
    select("sort", q.sort, SORTS.map((k) => [k, t(`sort.${k}`)]), (v) => (v ? { sort: v as Filters["sort"] } : {})),
  );
}
