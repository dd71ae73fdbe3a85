import { allKeys, dictionaryFor, label, language, setLanguage, t } from "./i18n";

const params = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe("i18n", () => {
  afterEach(() => setLanguage("fr"));

  it("is French by default", () => {
    expect(language()).toBe("fr");
    expect(t("nav.inbox")).toBe("Boîte de réception");
  });

  it("has a non-empty English text with the same placeholders for every key", () => {
    const fr = dictionaryFor("fr");
    const en = dictionaryFor("en");
    for (const key of allKeys) {
      expect(en[key], key).toBeTruthy();
      expect(params(en[key]), key).toEqual(params(fr[key]));
    }
  });

  it("switches to English and fills placeholders", () => {
    setLanguage("en");
    expect(t("list.count", { n: 3 })).toBe("3 requests");
    expect(document.documentElement.lang).toBe("en");
  });

  it("leaves an unknown placeholder visible rather than inventing a value", () => {
    expect(t("status.outbox", {})).toBe("{n} en attente");
  });

  it("labels statuses, kinds and priorities and falls back to the code", () => {
    expect(label("status", "en_route")).toBe("En route");
    expect(label("kind", "quote")).toBe("Devis");
    expect(label("priority", "urgent")).toBe("Urgente");
    expect(label("status", "mystery")).toBe("mystery");
  });
});
