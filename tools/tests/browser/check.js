// Injected into a copy of a report by tools/tests/html_browser.rs and run by headless
// Chromium: measures every chart's rendered text and writes the findings as JSON into
// a "pre" element with the id browser-check, which the test reads back from --dump-dom.
(function () {
  const out = { height: document.documentElement.scrollHeight, charts: [] };
  for (const fig of document.querySelectorAll("figure.chart")) {
    const svg = fig.querySelector("svg");
    if (!svg) {
      out.charts.push({ id: fig.id, title: fig.dataset.title, svg: false });
      continue;
    }
    const box = svg.getBoundingClientRect();
    const texts = [...svg.querySelectorAll("text")]
      .map((t) => ({
        s: t.textContent.trim(),
        r: t.getBoundingClientRect(),
        x: t.getAttribute("x"),
        y: t.getAttribute("y"),
        anchor: t.getAttribute("text-anchor"),
        rotated: t.hasAttribute("transform"),
      }))
      .filter((t) => t.s.length > 0);
    const shown = texts.filter((t) => t.r.width > 0 && t.r.height > 0);
    const group = (list, key) => {
      const g = {};
      for (const t of list) (g[key(t)] ||= []).push(t.s);
      return Object.values(g).reduce((a, b) => (b.length > a.length ? b : a), []);
    };
    // x tick labels: centred, not rotated, on one baseline; y tick labels: right-aligned on
    // one x; axis titles: the figure's data-x-label, and data-y-label turned on its side.
    const xTicks = group(shown.filter((t) => t.anchor === "middle" && !t.rotated && t.s !== fig.dataset.xLabel), (t) => t.y);
    const yTicks = group(shown.filter((t) => t.anchor === "end" && !t.rotated), (t) => t.x);
    const overlaps = [];
    for (let i = 0; i < shown.length; i++) {
      for (let j = i + 1; j < shown.length; j++) {
        const a = shown[i].r, b = shown[j].r;
        if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1) {
          overlaps.push(shown[i].s + " | " + shown[j].s);
        }
      }
    }
    const outside = shown
      .filter((t) => t.r.left < box.left - 1 || t.r.right > box.right + 1 || t.r.top < box.top - 1 || t.r.bottom > box.bottom + 1)
      .map((t) => t.s);
    out.charts.push({
      id: fig.id,
      title: fig.dataset.title,
      svg: true,
      width: box.width,
      height: box.height,
      title_shown: shown.some((t) => t.s === fig.dataset.title),
      x_label: shown.some((t) => t.s === fig.dataset.xLabel && !t.rotated),
      y_label: shown.some((t) => t.s === fig.dataset.yLabel && t.rotated),
      x_ticks: xTicks,
      y_ticks: yTicks,
      overlaps: overlaps,
      outside: outside,
      texts: shown.length,
      hidden: texts.length - shown.length,
    });
  }
  const pre = document.createElement("pre");
  pre.id = "browser-check";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
