// Hover read-out for the admin run charts: the bin under the pointer, its UTC time and every value.
// The SVG is drawn on the server; the per-bin values come from the JSON beside it. No dependencies.
(function () {
  "use strict";

  function format(value) {
    if (value === null || value === undefined) return "—";
    if (Math.abs(value) >= 10000) return Math.round(value).toLocaleString("en-US");
    return String(Number(value.toPrecision(6)));
  }

  function binTime(data, index) {
    if (!data.startUtc) return "bin " + index;
    const start = new Date(Date.parse(data.startUtc) + index * data.binMinutes * 60000);
    const end = new Date(start.getTime() + data.binMinutes * 60000);
    const text = (d) => d.toISOString().slice(0, 16).replace("T", " ");
    return text(start) + " – " + text(end).slice(11) + " UTC";
  }

  function attach(figure) {
    const svg = figure.querySelector("svg");
    const source = figure.querySelector("script.chart-data");
    const tip = figure.querySelector(".chart-tip");
    if (!svg || !source || !tip) return;
    const data = JSON.parse(source.textContent);
    const left = Number(svg.dataset.plotLeft);
    const width = Number(svg.dataset.plotWidth);
    const cursor = svg.querySelector("line.cursor");
    const viewWidth = svg.viewBox.baseVal.width;

    function hide() {
      tip.hidden = true;
      if (cursor) cursor.setAttribute("visibility", "hidden");
    }

    svg.addEventListener("mousemove", function (event) {
      const box = svg.getBoundingClientRect();
      const x = ((event.clientX - box.left) / box.width) * viewWidth;
      const index = Math.floor(((x - left) / width) * data.bins);
      if (index < 0 || index >= data.bins) {
        hide();
        return;
      }
      const centre = left + ((index + 0.5) * width) / data.bins;
      if (cursor) {
        cursor.setAttribute("x1", centre);
        cursor.setAttribute("x2", centre);
        cursor.setAttribute("visibility", "visible");
      }
      const rows = ["<strong>bin " + index + "</strong> · " + binTime(data, index)];
      for (const name of Object.keys(data.series)) {
        rows.push(name + ": <b>" + format(data.series[name][index]) + "</b>");
      }
      const colour = data.colours[index];
      if (colour && colour !== "gray") rows.push("state colour: <b>" + colour + "</b>");
      tip.innerHTML = rows.join("<br>");
      tip.hidden = false;
      const figureBox = figure.getBoundingClientRect();
      const px = event.clientX - figureBox.left;
      tip.style.left = Math.min(px + 14, figureBox.width - tip.offsetWidth - 4) + "px";
      tip.style.top = event.clientY - figureBox.top + 14 + "px";
    });
    svg.addEventListener("mouseleave", hide);
  }

  function init() {
    document.querySelectorAll("figure.node-chart").forEach(attach);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
