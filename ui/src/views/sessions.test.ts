import { sessionInfo } from "../testing/fixtures";
import { passwordForm, sessionsList, type SessionsCallbacks } from "./sessions";

const flush = () => new Promise((r) => setTimeout(r, 0));

describe("sessions", () => {
  it("marks this device and offers Fermer on the others", async () => {
    const ended: string[] = [];
    const cb: SessionsCallbacks = { onEnd: async (id) => (ended.push(id), null), onChangePassword: async () => null };
    const el = sessionsList([sessionInfo({ _id: "other", device: "Chrome · Windows" }), sessionInfo({ _id: "me", current: true })], null, cb);
    const items = [...el.querySelectorAll<HTMLElement>("[data-testid=session]")];
    expect(items.map((i) => i.getAttribute("data-id"))).toEqual(["me", "other"]);
    expect(items[0].querySelector("[data-testid=this-device]")?.textContent).toBe("cet appareil");
    expect(items[0].querySelector("[data-testid=session-end]")).toBeNull();
    const close = items[1].querySelector<HTMLButtonElement>("[data-testid=session-end]")!;
    expect(close.textContent).toBe("Fermer");
    expect(close.getAttribute("aria-label")).toBe("Fermer la session « Chrome · Windows »");
    close.click();
    await flush();
    expect(ended).toEqual(["other"]);
  });

  it("changes the password, with the server's errors per field in French", async () => {
    const calls: Array<[string, string]> = [];
    const cb: SessionsCallbacks = {
      onEnd: async () => null,
      onChangePassword: async (c, n) => {
        calls.push([c, n]);
        return calls.length === 1 ? { errors: { currentPassword: "Le mot de passe actuel est incorrect" } } : null;
      },
    };
    document.body.replaceChildren();
    const form = passwordForm(cb) as HTMLFormElement;
    document.body.append(form);
    const field = (n: string) => form.querySelector<HTMLInputElement>(`[data-testid=field-${n}]`)!;
    const error = (n: string) => form.querySelector(`[data-testid=error-${n}]`)?.textContent;
    expect(form.querySelector("h3")?.textContent).toBe("Changer le mot de passe");
    form.requestSubmit();
    await flush();
    expect(error("currentPassword")).toBe("Saisissez votre mot de passe actuel");
    expect(calls).toEqual([]);
    field("currentPassword").value = "faux-1234";
    field("newPassword").value = "Nouveau-Secret-9";
    field("newPasswordAgain").value = "Autre-Secret-9";
    form.requestSubmit();
    await flush();
    expect(error("newPasswordAgain")).toBe("Les deux mots de passe ne correspondent pas");
    field("newPasswordAgain").value = "Nouveau-Secret-9";
    form.requestSubmit();
    await flush();
    expect(error("currentPassword")).toBe("Le mot de passe actuel est incorrect");
    expect(field("currentPassword").getAttribute("aria-invalid")).toBe("true");
    expect(document.activeElement).toBe(field("currentPassword"));
    field("currentPassword").value = "demo1234";
    form.requestSubmit();
    await flush();
    expect(calls.at(-1)).toEqual(["demo1234", "Nouveau-Secret-9"]);
    expect(error("currentPassword")).toBe("");
    expect(form.querySelector("[data-testid=password-done]")?.textContent).toContain("vos autres sessions sont fermées");
    expect(field("newPassword").value).toBe("");
  });
});
