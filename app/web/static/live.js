// Live fragments: every element with data-fragment="/path" is fetched again (as HTML, from
// this service only) when the change feed (/v1/events/stream, server-sent events) reports
// an event, without reloading the page. The feed starts after the position the page was
// rendered at (data-after); the browser resumes with Last-Event-ID when it reconnects.
// bloodtrace web app; no dependencies.

const DEBOUNCE_MS = 300;

function words() {
  const holder = document.getElementById("live-words");
  return holder ? holder.dataset : {};
}

function setStatus(state) {
  const status = document.querySelector("[data-live-status]");
  if (!status) return;
  status.dataset.liveStatus = state;
  const text = words()[state];
  if (text) status.textContent = text;
}

function refresher(element) {
  let timer = null;
  let running = false;
  let again = false;
  async function refresh() {
    if (running) { again = true; return; }
    running = true;
    try {
      const response = await fetch(element.dataset.fragment + window.location.search, {
        credentials: "same-origin", headers: { "Accept": "text/html" }, cache: "no-store",
      });
      // Redirected to sign-in: the session ended (idle or signed out); show that page.
      if (response.redirected) { window.location.reload(); return; }
      if (!response.ok) { setStatus("offline"); return; }
      element.innerHTML = await response.text();
      element.dataset.refreshes = String(Number(element.dataset.refreshes || "0") + 1);
      element.dispatchEvent(new CustomEvent("live:refreshed", { bubbles: true }));
    } catch (error) {
      setStatus("offline");
    } finally {
      running = false;
      if (again) { again = false; schedule(); }
    }
  }
  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(refresh, DEBOUNCE_MS);
  }
  return schedule;
}

function start() {
  const fragments = [...document.querySelectorAll("[data-fragment]")];
  if (fragments.length === 0 || typeof EventSource === "undefined") return;
  const after = Math.min(...fragments.map((f) => Number(f.dataset.after || "0")));
  const schedules = fragments.map(refresher);
  const feed = new EventSource(`/v1/events/stream?after=${after}`);
  feed.addEventListener("open", () => setStatus("live"));
  // The feed also ends when the session does (idle, signed out): one refresh then finds
  // out, and shows the sign-in page instead of a stale screen.
  feed.addEventListener("error", () => { setStatus("offline"); schedules[0](); });
  feed.addEventListener("message", (message) => {
    for (const fragment of fragments) fragment.dataset.after = message.lastEventId;
    setStatus("live");
    for (const schedule of schedules) schedule();
  });
  window.addEventListener("pagehide", () => feed.close());
}

start();
