// A small horizontal bar chart in SVG: one row per label, one or two stacked series.
// Drawn at the container's own width (redrawn when it changes), so text stays legible
// on a phone; each bar carries a <title> and the chart an accessible summary.

const SVG = "http://www.w3.org/2000/svg";
const ROW = 26;
const BAR = 16;

function el(name, attrs = {}, text) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

function clip(label, chars) {
  return label.length > chars ? label.slice(0, chars - 1) + "…" : label;
}

// series: [{name, values: number[], className: "bar1" | "bar2"}]; format: number -> string.
export function barChart(container, { labels, series, format, summary }) {
  const draw = () => {
    const width = Math.max(260, container.clientWidth || 600);
    const labelWidth = Math.min(180, Math.round(width * 0.32));
    const valueWidth = 84;
    const plot = width - labelWidth - valueWidth - 8;
    const totals = labels.map((_, i) => series.reduce((sum, s) => sum + (s.values[i] || 0), 0));
    const max = Math.max(...totals, 0) || 1;
    const height = Math.max(1, labels.length) * ROW + 6;
    const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "img" });
    svg.append(el("title", {}, summary));
    if (!labels.length) {
      svg.append(el("text", { x: 4, y: 18 }, "No requests in this range."));
    }
    labels.forEach((label, i) => {
      const y = i * ROW + 4;
      const row = el("g", { class: "row" });
      row.append(el("text", { x: labelWidth - 6, y: y + BAR - 3, "text-anchor": "end" }, clip(label, Math.floor(labelWidth / 7))));
      row.append(el("line", { x1: labelWidth, x2: labelWidth, y1: y - 4, y2: y + ROW - 4, class: "grid" }));
      let x = labelWidth;
      for (const s of series) {
        const value = s.values[i] || 0;
        const w = (value / max) * plot;
        const bar = el("rect", { x, y, width: Math.max(value > 0 ? 1 : 0, w), height: BAR, class: s.className });
        bar.append(el("title", {}, `${label}: ${s.name} ${format(value)}`));
        row.append(bar);
        x += w;
      }
      row.append(el("text", { x: x + 6, y: y + BAR - 3 }, format(totals[i])));
      svg.append(row);
    });
    container.replaceChildren(svg);
    if (series.length > 1) {
      const legend = document.createElement("div");
      legend.className = "legend";
      for (const s of series) {
        const item = document.createElement("span");
        const swatch = document.createElement("span");
        swatch.className = `swatch ${s.className}`;
        item.append(swatch, s.name);
        legend.append(item);
      }
      container.append(legend);
    }
  };
  draw();
  container._observer?.disconnect();
  let lastWidth = container.clientWidth;
  container._observer = new ResizeObserver(() => {
    if (container.clientWidth !== lastWidth) {
      lastWidth = container.clientWidth;
      draw();
    }
  });
  container._observer.observe(container);
}
