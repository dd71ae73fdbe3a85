import { setLanguage } from "../i18n";
import { defaultFilters, type Filters } from "../query";
import { renderFilters } from "./filters";

function mount(q: Filters = defaultFilters()) {
  const host = document.createElement("div");
  document.body.replaceChildren(host);
  const patches: Array<Partial<Filters>> = [];
  renderFilters(host, q, (p) => patches.push(p));
  return { host, patches };
}

describe("inbox filters", () => {
  afterEach(() => setLanguage("fr"));

  it("gives every control a visible label that is also its accessible name", () => {
    const { host } = mount();
    const controls = [...host.querySelectorAll<HTMLInputElement | HTMLSelectElement>("select, input")];
    expect(controls.length).toBe(8);
    for (const c of controls) {
      const labels = [...(c.labels ?? [])];
      expect(labels.length, c.dataset.testid).toBe(1);
      expect(labels[0].textContent?.trim(), c.dataset.testid).not.toBe("");
      expect(c.hasAttribute("aria-label"), c.dataset.testid).toBe(false);
    }
    const names = (id: string) => host.querySelector<HTMLSelectElement>(`[data-testid=filter-${id}]`)!.labels![0].textContent;
    expect(["kind", "status", "priority", "sort"].map(names)).toEqual(["Type", "Statut", "Priorité", "Trier par"]);
    expect(host.getAttribute("role")).toBe("group");
  });

  it("no longer shows three drop-downs that all read 'Tous'", () => {
    const { host } = mount();
    const shown = ["kind", "status", "priority"].map((id) => host.querySelector<HTMLSelectElement>(`[data-testid=filter-${id}]`)!.selectedOptions[0].textContent);
    expect(shown).toEqual(["Tous les types", "Tous les statuts", "Toutes les priorités"]);
    expect(new Set(shown).size).toBe(3);
    setLanguage("en");
    const en = mount().host;
    expect(en.querySelector<HTMLSelectElement>("[data-testid=filter-priority]")!.selectedOptions[0].textContent).toBe("All priorities");
    expect(en.querySelector("[data-testid=label-priority]")!.textContent).toBe("Priority");
  });

  it("has an En retard box that patches overdueOnly", () => {
    const { host, patches } = mount();
    const box = host.querySelector<HTMLInputElement>("[data-testid=filter-overdue]")!;
    expect(box.labels![0].textContent).toBe("En retard");
    expect(box.labels![0].title).toContain("dépassé");
    box.checked = true;
    box.dispatchEvent(new Event("change"));
    expect(patches).toEqual([{ overdueOnly: true }]);
    expect(mount({ ...defaultFilters(), overdueOnly: true }).host.querySelector<HTMLInputElement>("[data-testid=filter-overdue]")!.checked).toBe(true);
  });

  it("patches a select's value, null for the 'all' choice", () => {
    const { host, patches } = mount({ ...defaultFilters(), kind: "intervention" });
    const kind = host.querySelector<HTMLSelectElement>("[data-testid=filter-kind]")!;
    expect(kind.value).toBe("intervention");
    kind.value = "";
    kind.dispatchEvent(new Event("change"));
    const prio = host.querySelector<HTMLSelectElement>("[data-testid=filter-priority]")!;
    prio.value = "urgent";
    prio.dispatchEvent(new Event("change"));
    expect(patches).toEqual([{ kind: null }, { priority: "urgent" }]);
  });
});
