// The simulated merchant portal's only script: keeps the fleet table live. It asks the server for
// the table's rows every 2 seconds (server-rendered and escaped there) and puts them in place, so
// a terminal that polls, is claimed, attests or activates shows up without a reload.
"use strict";
(function () {
  const rows = document.getElementById("fleet-rows");
  if (!rows) return;
  const live = document.getElementById("fleet-live");
  const total = document.getElementById("fleet-total");
  const src = rows.getAttribute("data-src");
  let busy = false;
  async function refresh() {
    if (busy || document.hidden) return;
    busy = true;
    try {
      const res = await fetch(src, { headers: { "X-Portal-Fetch": "1" }, credentials: "same-origin", cache: "no-store" });
      if (res.status === 401) {
        window.location.assign("/portal/sign-in?next=" + encodeURIComponent(window.location.pathname + window.location.search));
        return;
      }
      if (!res.ok) throw new Error("HTTP " + res.status);
      rows.innerHTML = await res.text();
      if (total) total.textContent = res.headers.get("X-Fleet-Total") || total.textContent;
      if (live) {
        live.textContent = "Live · simulator time " + (res.headers.get("X-Sim-Now") || "");
        live.classList.remove("stale");
      }
    } catch (e) {
      if (live) {
        live.textContent = "Not updating: the simulator did not answer (" + e.message + "). Retrying.";
        live.classList.add("stale");
      }
    } finally {
      busy = false;
    }
  }
  setInterval(refresh, 2000);
  document.addEventListener("visibilitychange", refresh);
})();
