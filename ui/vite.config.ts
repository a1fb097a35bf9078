import { defineConfig } from "vite";
import vue from "@vitejs/plugin-vue";

// Tauri expects a fixed port and fails if it is taken; see src-tauri/tauri.conf.json devUrl.
export default defineConfig({
  plugins: [vue()],
  clearScreen: false,
  server: { port: 5173, strictPort: true },
  envPrefix: ["VITE_", "TAURI_ENV_"],
  build: {
    // WebKitGTK 2.40+ (Debian 12) handles ES2021 fine.
    target: "es2021",
    chunkSizeWarningLimit: 2000,
  },
});
