// 季度通报: the printable bulletin, rendered on the server; print it or save it as PDF.
import { api, cfg, download, hallApi, start, status, t } from "./common.js";

const form = document.getElementById("query");
const quarter = () => new FormData(form).get("quarter").toUpperCase();

async function show() {
  try {
    status("");
    const html = await api(hallApi(`/bulletin.html?quarter=${quarter()}`), { as: "text" });
    // Our own server's template output (escaped by jinja2), parsed as a document, not run.
    const doc = new DOMParser().parseFromString(`<body>${html}</body>`, "text/html");
    document.getElementById("bulletin").replaceChildren(...doc.body.childNodes);
  } catch (e) {
    status(`${t("error")}: ${e.message}`);
  }
}

form.addEventListener("submit", (e) => {
  e.preventDefault();
  show();
});
document.getElementById("print").addEventListener("click", () => window.print());
// The workbook holds every table of the bulletin; the CSV its ranking of windows.
for (const fmt of ["csv", "xlsx"]) {
  document.getElementById(`export-${fmt}`).addEventListener("click", () =>
    download(hallApi(`/bulletin.${fmt}?quarter=${quarter()}&words=1`), `hallq-${cfg.hall}-bulletin-${quarter()}.${fmt}`).catch((e) =>
      status(`${t("error")}: ${e.message}`),
    ),
  );
}

start(show);
