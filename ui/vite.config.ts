import { defineConfig } from "vite";
import vue from "@vitejs/plugin-vue";
import Components from "unplugin-vue-components/vite";
import { ElementPlusResolver } from "unplugin-vue-components/resolvers";

// Tauri expects a fixed port and fails if it is taken; see src-tauri/tauri.conf.json devUrl.
export default defineConfig({
  // Issue 14 §5 (memory): Element Plus components are imported where a template uses them instead of
  // registered whole; the stylesheet stays one file (main.ts).
  plugins: [vue(), Components({ resolvers: [ElementPlusResolver({ importStyle: false })], dts: "src/components.d.ts" })],
  clearScreen: false,
  server: { port: 5173, strictPort: true },
  envPrefix: ["VITE_", "TAURI_ENV_"],
  build: {
    // WebKitGTK 2.40+ (Debian 12) handles ES2021 fine.
    target: "es2021",
    chunkSizeWarningLimit: 2000,
  },
});
