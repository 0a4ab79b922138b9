// The allocation donut: an SVG ring drawn from weights (0–1), with a legend of the same
// slices as text (label, weight, value), so the figure reads without the picture.

import { el } from "./api.js";

const SVG = "http://www.w3.org/2000/svg";
const SIZE = 160;
const RADIUS = 60;
const STROKE = 26;
const MAX_SLICES = 8; // the rest are summed into "Other"
export const COLORS = ["#0f5bd7", "#0e8a55", "#b35c00", "#7a4fc9", "#d0312d", "#0a8a96", "#a3366f", "#5d6b1f"];
const OTHER_COLOR = "#b8c2d1";

function svg(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  return node;
}

/** The largest `MAX_SLICES` slices, the rest summed into one `otherLabel` slice. */
export function slices(parts, otherLabel) {
  const sorted = [...parts].filter((p) => Number(p.weight) > 0).sort((a, b) => Number(b.weight) - Number(a.weight));
  if (sorted.length <= MAX_SLICES) return sorted;
  const head = sorted.slice(0, MAX_SLICES - 1);
  const rest = sorted.slice(MAX_SLICES - 1);
  head.push({
    key: "__other__",
    label: otherLabel,
    weight: rest.reduce((sum, p) => sum + Number(p.weight), 0),
    value: rest.reduce((sum, p) => sum + Number(p.value || 0), 0),
  });
  return head;
}

/**
 * Draw `parts` ([{key, label, weight, value}]) into `box` and `legend`. `describe(parts)`
 * gives the accessible name; `format` has `weight(w)` and `money(v)`.
 */
export function drawDonut(box, legend, parts, { label, format, otherLabel, emptyText }) {
  const shown = slices(parts, otherLabel);
  if (!shown.length) {
    box.replaceChildren(el("p", { class: "muted small", text: emptyText }));
    legend.replaceChildren();
    return;
  }
  const ring = svg("svg", { viewBox: `0 0 ${SIZE} ${SIZE}`, width: SIZE, height: SIZE, role: "img", class: "pf-donut-svg" });
  const title = svg("title", {});
  title.textContent = label;
  ring.setAttribute("aria-label", label);
  ring.append(title);
  ring.append(svg("circle", { cx: SIZE / 2, cy: SIZE / 2, r: RADIUS, fill: "none", stroke: "#eef1f5", "stroke-width": STROKE }));
  const circumference = 2 * Math.PI * RADIUS;
  const total = shown.reduce((sum, p) => sum + Number(p.weight), 0) || 1;
  let offset = 0;
  shown.forEach((part, index) => {
    const share = Number(part.weight) / total;
    const length = share * circumference;
    const color = part.key === "__other__" ? OTHER_COLOR : COLORS[index % COLORS.length];
    const arc = svg("circle", {
      cx: SIZE / 2,
      cy: SIZE / 2,
      r: RADIUS,
      fill: "none",
      stroke: color,
      "stroke-width": STROKE,
      // A hairline gap between slices, unless a slice is the whole ring.
      "stroke-dasharray": `${Math.max(length - (shown.length > 1 ? 1 : 0), 0)} ${circumference}`,
      "stroke-dashoffset": -offset,
      transform: `rotate(-90 ${SIZE / 2} ${SIZE / 2})`,
      "data-slice": part.key,
    });
    offset += length;
    ring.append(arc);
  });
  box.replaceChildren(ring);
  legend.replaceChildren(
    ...shown.map((part, index) =>
      el(
        "li",
        { dataset: { slice: part.key } },
        el("span", { class: "pf-swatch", "aria-hidden": "true", style: `background:${part.key === "__other__" ? OTHER_COLOR : COLORS[index % COLORS.length]}` }),
        el("span", { class: "pf-legend-label", text: part.label }),
        el("span", { class: "pf-legend-weight", text: format.weight(part.weight) }),
        el("span", { class: "pf-legend-value muted", text: format.money(part.value) }),
      ),
    ),
  );
}
