// Draws every <div class="echart" data-option="ID"> from the JSON in <script id="ID" type="application/json">;
// clicking a bar or point opens the records behind it (the data point's url).
(function () {
  function draw() {
    if (!window.echarts) return;
    document.querySelectorAll(".echart[data-option]").forEach(function (el) {
      var source = document.getElementById(el.dataset.option);
      if (!source || el.dataset.drawn) return;
      el.dataset.drawn = "1";
      var chart = window.echarts.init(el);
      chart.setOption(JSON.parse(source.textContent));
      // Marks the chart drawn (its animation over), so that a click lands on the points where they end up.
      chart.on("finished", function () { el.dataset.ready = "1"; });
      chart.on("click", function (p) {
        if (p.data && p.data.url) window.location.href = p.data.url;
      });
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }
  document.addEventListener("DOMContentLoaded", draw);
})();
