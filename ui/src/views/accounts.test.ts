import { accounts } from "../testing/fixtures";
import { accountsView, type AccountsCallbacks, type Answer } from "./accounts";

const flush = () => new Promise((r) => setTimeout(r, 0));
const key = (el: Element, k: string) => el.dispatchEvent(new KeyboardEvent("keydown", { key: k, bubbles: true, cancelable: true }));

function mount(cb: Partial<AccountsCallbacks> = {}) {
  document.body.replaceChildren();
  const log: Array<[string, unknown[]]> = [];
  const answer = (name: string) => (...a: unknown[]): Promise<Answer> => {
    log.push([name, a]);
    return Promise.resolve(null);
  };
  const full: AccountsCallbacks = { create: answer("create"), update: answer("update"), resetPassword: answer("resetPassword"), ...cb };
  const el = accountsView(accounts(), null, "admin", full);
  document.body.append(el);
  const row = (email: string) => el.querySelector<HTMLElement>(`[data-testid=account-row][data-email="${email}"]`)!;
  return { el, log, row };
}

describe("accounts screen", () => {
  it("lists every account with its role, state and last activity, labelled for the keyboard", () => {
    const { el, row } = mount();
    expect(el.querySelectorAll("[data-testid=account-row]").length).toBe(3);
    expect(row("technicien2@itvision.sn").getAttribute("data-active")).toBe("false");
    expect(row("technicien2@itvision.sn").querySelector("[data-testid=account-state]")?.textContent).toBe("Désactivé");
    expect(row("technicien@itvision.sn").querySelector("[data-testid=account-state]")?.textContent).toBe("Actif");
    const role = row("technicien@itvision.sn").querySelector<HTMLSelectElement>("[data-testid=account-role]")!;
    expect(role.value).toBe("TECHNICIAN");
    expect(role.getAttribute("aria-label")).toBe("Rôle de Moussa Diop");
    expect(row("technicien2@itvision.sn").querySelector("[data-testid=account-toggle]")?.textContent).toBe("Réactiver");
    expect(row("admin@itvision.sn").textContent).toContain("vous");
    expect(row("technicien@itvision.sn").textContent).toContain("jamais");
    // Every control is a real button or select: Tab reaches all of them.
    for (const b of el.querySelectorAll("button, select")) expect(b.getAttribute("tabindex")).not.toBe("-1");
  });

  it("changes a role at once", async () => {
    const { row, log } = mount();
    const role = row("technicien@itvision.sn").querySelector<HTMLSelectElement>("[data-testid=account-role]")!;
    role.value = "ADMIN";
    role.dispatchEvent(new Event("change"));
    await flush();
    expect(log).toEqual([["update", ["t1", { role: "ADMIN" }]]]);
  });

  it("deactivates only after a confirmation; Esc cancels, Enter confirms", async () => {
    const { row, log } = mount();
    const toggle = row("technicien@itvision.sn").querySelector<HTMLButtonElement>("[data-testid=account-toggle]")!;
    toggle.focus();
    toggle.click();
    let dialog = document.querySelector<HTMLElement>("[data-testid=confirm-dialog]")!;
    expect(dialog.textContent).toContain("Désactiver le compte de Moussa Diop (technicien@itvision.sn) ?");
    expect(document.activeElement?.getAttribute("data-testid")).toBe("dialog-confirm");
    key(document.activeElement!, "Escape");
    await flush();
    expect(document.querySelector("[data-testid=confirm-dialog]")).toBeNull();
    expect(document.activeElement).toBe(toggle);
    expect(log).toEqual([]);
    toggle.click();
    dialog = document.querySelector<HTMLElement>("[data-testid=confirm-dialog]")!;
    dialog.querySelector("form")!.requestSubmit();
    await flush();
    await flush();
    expect(log).toEqual([["update", ["t1", { active: false }]]]);
    expect(document.querySelector("[data-testid=confirm-dialog]")).toBeNull();
  });

  it("creates an account; the server's French errors stay beside their fields", async () => {
    const seen: unknown[] = [];
    const { el } = mount({
      create: (a) => {
        seen.push(a);
        return Promise.resolve(seen.length === 1 ? { errors: { email: "Cette adresse e-mail est déjà utilisée" } } : null);
      },
    });
    el.querySelector<HTMLButtonElement>("[data-testid=account-create]")!.click();
    const dialog = document.querySelector<HTMLElement>("[data-testid=account-dialog]")!;
    const field = (n: string) => dialog.querySelector<HTMLInputElement>(`[data-testid=field-${n}]`)!;
    expect(document.activeElement).toBe(field("name"));
    expect(field("email").closest("label")?.textContent).toContain("E-mail");
    // Empty: refused here, each field named.
    dialog.querySelector("form")!.requestSubmit();
    await flush();
    expect(dialog.querySelector("[data-testid=error-name]")?.textContent).toBe("Indiquez un nom");
    expect(field("name").getAttribute("aria-invalid")).toBe("true");
    expect(seen).toEqual([]);
    field("name").value = "Ibrahima Fall";
    field("email").value = "admin@itvision.sn";
    field("password").value = "Camera-Ip-2025";
    dialog.querySelector("form")!.requestSubmit();
    await flush();
    await flush();
    expect(dialog.isConnected).toBe(true);
    expect(dialog.querySelector("[data-testid=error-email]")?.textContent).toBe("Cette adresse e-mail est déjà utilisée");
    expect(dialog.querySelector("[data-testid=error-name]")?.textContent).toBe("");
    expect(document.activeElement).toBe(field("email"));
    field("email").value = "ibrahima@itvision.sn";
    dialog.querySelector("form")!.requestSubmit();
    await flush();
    await flush();
    expect(seen[1]).toEqual({ name: "Ibrahima Fall", email: "ibrahima@itvision.sn", role: "TECHNICIAN", password: "Camera-Ip-2025" });
    expect(dialog.isConnected).toBe(false);
  });

  it("resets a password with the new one typed twice", async () => {
    const { row, log } = mount();
    row("technicien@itvision.sn").querySelector<HTMLButtonElement>("[data-testid=account-reset]")!.click();
    const dialog = document.querySelector<HTMLElement>("[data-testid=reset-dialog]")!;
    expect(dialog.textContent).toContain("Toutes les sessions de Moussa Diop");
    dialog.querySelector<HTMLInputElement>("[data-testid=field-password]")!.value = "Nouveau-2025";
    dialog.querySelector<HTMLInputElement>("[data-testid=field-passwordAgain]")!.value = "Nouveau-2026";
    dialog.querySelector("form")!.requestSubmit();
    await flush();
    expect(dialog.querySelector("[data-testid=error-passwordAgain]")?.textContent).toBe("Les deux mots de passe ne correspondent pas");
    dialog.querySelector<HTMLInputElement>("[data-testid=field-passwordAgain]")!.value = "Nouveau-2025";
    dialog.querySelector("form")!.requestSubmit();
    await flush();
    await flush();
    expect(log).toEqual([["resetPassword", ["t1", "Nouveau-2025"]]]);
    expect(dialog.isConnected).toBe(false);
  });
});
