// The whole App mounted on jsdom for view tests, over the fake shell: one definition for
// every test file. jsdom has no ResizeObserver: the virtual list gets one that does nothing.
import { afterEach } from "vitest";
import { App } from "../app";
import { fakeIpc, memoryStorage } from "./fixtures";

class NoResize {
  observe() {}
  disconnect() {}
}
(globalThis as unknown as { ResizeObserver: unknown }).ResizeObserver = NoResize;

// Every App a test started is stopped when the test ends: an interval left running would fire
// after jsdom is torn down and fail the run ("document is not defined").
const started: App[] = [];
afterEach(() => started.splice(0).forEach((app) => app.stop()));

/** Registers an App built by hand so that it is stopped with the test. */
export function track(app: App): App {
  started.push(app);
  return app;
}

/** Lets the fake shell's promises and the app's short timers run. */
export const flush = async () => {
  for (let i = 0; i < 6; i++) await new Promise((r) => setTimeout(r, 20));
};

/** A key pressed where the focus is (the body when nothing has it). */
export const press = (key: string, init: KeyboardEventInit = {}) =>
  (document.activeElement ?? document.body).dispatchEvent(new KeyboardEvent("keydown", { key, bubbles: true, cancelable: true, ...init }));

/** A fresh document with the App started on `fakeIpc(opts)`. */
export async function mount(opts: Parameters<typeof fakeIpc>[0] = {}, storage = memoryStorage({ "itv.server": "http://127.0.0.1:8080" })) {
  document.body.replaceChildren();
  const root = document.createElement("div");
  document.body.appendChild(root);
  const fake = fakeIpc(opts);
  const app = track(new App(root, fake.ipc, fake.events, storage));
  await app.start();
  await flush();
  return { root, app, storage, ...fake };
}
