// The exchanges page's chart (Chart.js UMD build, from the project's npm packages): licences
// and deliveries per day. The chart object is window.volumeChart.
(function () {
  "use strict";
  var canvas = document.getElementById("volume-chart");
  var source = document.getElementById("volume-data");
  if (!canvas || !source || typeof Chart !== "function") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var missing = document.getElementById("chart-missing");
  if (missing) {
    missing.remove();
  }
  window.volumeChart = new Chart(canvas, {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: [
        { label: "licences", data: data.licences, backgroundColor: "#1f6feb" },
        { label: "deliveries", data: data.deliveries, backgroundColor: "#2da44e" }
      ]
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } }
    }
  });
})();
