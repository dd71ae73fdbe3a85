import type { QuoteDoc } from "../bindings/QuoteDoc";
import { setLanguage } from "../i18n";
import { blankDraft, readDraft, renderQuote, typedFrom } from "./quote";

const nbsp = (s: string | null | undefined) => (s ?? "").replace(/[\u202f\u00a0]/g, " ");

export const storedQuote: QuoteDoc = {
  lines: [
    { designation: "Caméra IP 4K", quantity: 4, unitPrice: 85000, lineTotal: 340000 },
    { designation: "Installation", quantity: 1, unitPrice: 150001, lineTotal: 150001 },
  ],
  subtotal: 490001, discount: 10000, taxableAmount: 480001, vatRate: 18, vatAmount: 86400, total: 566401,
  validUntil: "2026-12-31", notes: "Garantie 12 mois", issuedOn: "2026-11-26",
};

describe("quote", () => {
  beforeEach(() => setLanguage("fr"));

  it("reads typed lines into whole francs, with or without group separators", () => {
    const read = readDraft({
      lines: [
        { designation: " Caméra IP 4K ", quantity: "4", unitPrice: "85 000" },
        { designation: "", quantity: "", unitPrice: "" },
      ],
      discount: "10\u202f000",
      validUntil: "2026-12-31",
      notes: " Garantie ",
    });
    expect(read).toEqual({
      draft: { lines: [{ designation: "Caméra IP 4K", quantity: 4, unitPrice: 85000 }], discount: 10000, validUntil: "2026-12-31", notes: "Garantie" },
    });
  });

  it("names every line at fault, in French", () => {
    const read = readDraft({
      lines: [
        { designation: "", quantity: "0", unitPrice: "12,5" },
        { designation: "NVR", quantity: "1", unitPrice: "-3" },
      ],
      discount: "beaucoup",
      validUntil: "",
      notes: "",
    });
    expect(read).toEqual({
      errors: [
        "Ligne 1 : indiquez une désignation",
        "Ligne 1 : la quantité est un nombre entier d'au moins 1",
        "Ligne 1 : le prix est un nombre entier de francs",
        "Ligne 2 : le prix est un nombre entier de francs",
        "La remise est un nombre entier de francs",
        "Indiquez une date de validité",
      ],
    });
    expect(readDraft({ ...blankDraft(new Date("2026-11-26T12:00:00Z")), lines: [] })).toEqual({ errors: ["Ajoutez au moins une ligne"] });
  });

  it("starts a new quote valid 30 days, and an edit from the stored one", () => {
    expect(blankDraft(new Date("2026-11-26T12:00:00Z")).validUntil).toBe("2026-12-26");
    expect(typedFrom(storedQuote).lines[1]).toEqual({ designation: "Installation", quantity: "1", unitPrice: "150001" });
  });

  it("shows the lines and the totals in F CFA, discount included", () => {
    const el = renderQuote(storedQuote);
    const rows = [...el.querySelectorAll("tbody tr")].map((tr) => nbsp(tr.textContent));
    expect(rows[0]).toContain("Caméra IP 4K");
    expect(rows[0]).toContain("340 000 F CFA");
    const foot = nbsp(el.querySelector("tfoot")?.textContent);
    expect(foot).toContain("Remise (F CFA)10 000 F CFA");
    expect(foot).toContain("TVA 18 %86 400 F CFA");
    expect(nbsp(el.querySelector("[data-testid=quote-total]")?.textContent)).toBe("Total TTC566 401 F CFA");
    expect(nbsp(el.textContent)).toContain("Valable jusqu'au 31/12/2026");
  });
});
