// The leader board's trend chart: claimed, verified and false figures, day by day.
(function () {
  var canvas = document.getElementById("trend");
  var data = JSON.parse(document.getElementById("trend-data").textContent);
  if (!canvas || !window.Chart || !data.length) return;
  var d = canvas.dataset;
  function line(key, label, colour, dash) {
    return { label: label, data: data.map(function (r) { return r[key]; }), borderColor: colour,
             backgroundColor: colour, borderDash: dash || [], pointRadius: 0, tension: 0.1 };
  }
  new Chart(canvas, {
    type: "line",
    data: { labels: data.map(function (r) { return r.day; }),
            datasets: [line("claimed_resolved", d.claimed, "#8a4b00", [6, 3]),
                       line("verified_resolved", d.verified, "#1b5e20"),
                       line("false_figures", d.false, "#a00000"),
                       line("overdue", d.overdue, "#4a4a4a", [2, 2])] },
    options: { animation: false, responsive: true, maintainAspectRatio: false, interaction: { mode: "index", intersect: false },
               scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
  });
})();
