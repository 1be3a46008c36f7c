// The weekly run rate against the rate still needed, drawn by the vendored Chart.js. The
// y-axis starts at zero, so a week 3% down looks 3% down; the box around the canvas
// (production.css, .chart-box) gives the chart its height on a phone.
(function () {
  const el = document.getElementById("rates");
  const data = JSON.parse(document.getElementById("rates-data").textContent);
  if (!el || !data || typeof Chart === "undefined") return;
  const needed = data.labels.map(() => data.needed);
  new Chart(el, {
    type: "line",
    data: {
      labels: data.labels,
      datasets: [
        { label: el.dataset.rate || "t / furnace-day", data: data.rates, borderColor: "#8b0000",
          backgroundColor: "#8b0000", borderWidth: 3, pointRadius: 4 },
        { label: el.dataset.needed || "needed", data: needed, borderColor: "#444",
          backgroundColor: "#444", borderDash: [6, 4], borderWidth: 2, pointRadius: 0 },
      ],
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      plugins: { legend: { position: "bottom", labels: { font: { size: 14 } } } },
      scales: {
        x: { ticks: { font: { size: 13 }, maxRotation: 0, autoSkip: true } },
        y: { beginAtZero: true, ticks: { font: { size: 13 } },
             title: { display: !!el.dataset.unit, text: el.dataset.unit || "" } },
      },
    },
  });
})();
