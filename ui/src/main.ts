//! Entry point: mounts the app on #app with the real Tauri IPC.
import "./styles.css";
import { App } from "./app";
import { events, ipc } from "./ipc";

const root = document.getElementById("app");
if (root) void new App(root, ipc, events).start();
