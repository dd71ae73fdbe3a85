// Vite builds the desktop UI into ui/dist, which tauri.conf.json serves; Vitest runs the view-logic tests.
import { defineConfig } from "vitest/config";

export default defineConfig({
  clearScreen: false,
  server: { port: 1420, strictPort: true },
  build: { target: "es2022", outDir: "dist", emptyOutDir: true },
  test: { environment: "jsdom", globals: true, include: ["src/**/*.test.ts"] },
});
