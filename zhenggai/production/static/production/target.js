// The weekly run rate against the rate still needed, drawn by the vendored Chart.js.
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
        { label: el.dataset.rate || "t / furnace-day", data: data.rates, borderColor: "#8b0000" },
        { label: el.dataset.needed || "needed", data: needed, borderColor: "#444", borderDash: [6, 4] },
      ],
    },
    options: { animation: false, scales: { y: { beginAtZero: false } } },
  });
})();
