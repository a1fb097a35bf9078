import { createApp } from "vue";
import ElementPlus from "element-plus";
import "element-plus/dist/index.css";
import "./style.css";
import App from "./App.vue";
import { vTid } from "./util";

createApp(App).use(ElementPlus).directive("tid", vTid).mount("#app");
