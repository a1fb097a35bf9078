import { createApp } from "vue";
import { vLoading } from "element-plus";
import "element-plus/dist/index.css";
import "./style.css";
import App from "./App.vue";

// Components are imported per use (vite.config.ts); the one directive the screens use is registered here.
createApp(App).directive("loading", vLoading).mount("#app");
