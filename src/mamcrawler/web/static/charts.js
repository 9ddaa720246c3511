// Account history charts (uPlot, shipped in vendor/uplot). Marks are vertical lines:
// VIP purchases and ratio guard changes.
(function () {
  "use strict";
  var source = document.getElementById("history-data");
  if (!source || typeof uPlot === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var s = data.series;
  var dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
  var axisColour = dark ? "#9aa4b1" : "#5b6470";
  var gridColour = dark ? "#2e3640" : "#e3e6ea";

  function marksPlugin(marks) {
    return {
      hooks: {
        draw: function (u) {
          var ctx = u.ctx;
          ctx.save();
          marks.forEach(function (m) {
            var x = Math.round(u.valToPos(m.t, "x", true));
            if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) { return; }
            ctx.strokeStyle = m.kind === "vip" ? "#8e44ad" : "#c62828";
            ctx.lineWidth = 2 * devicePixelRatio;
            ctx.setLineDash([5 * devicePixelRatio, 4 * devicePixelRatio]);
            ctx.beginPath();
            ctx.moveTo(x, u.bbox.top);
            ctx.lineTo(x, u.bbox.top + u.bbox.height);
            ctx.stroke();
          });
          ctx.restore();
        }
      }
    };
  }

  function axis(size) {
    return { stroke: axisColour, grid: { stroke: gridColour, width: 1 },
             ticks: { stroke: gridColour, width: 1 }, size: size };
  }

  var charts = [];
  function draw(id, series, columns) {
    var el = document.getElementById(id);
    if (!el) { return; }
    if (!s.t.length) {
      el.textContent = "No readings yet: they come from the torrent_watch and account_check jobs.";
      el.classList.add("hint");
      return;
    }
    var opts = {
      width: el.clientWidth || 300, height: 240,
      series: [{}].concat(series), axes: [axis(50), axis(70)],
      plugins: [marksPlugin(data.marks)],
      legend: { live: false }
    };
    charts.push([new uPlot(opts, [s.t].concat(columns), el), el]);
  }

  draw("chart-ratio", [{ label: "ratio", stroke: "#1f5fbf", width: 2 }], [s.ratio]);
  draw("chart-traffic", [{ label: "uploaded GiB", stroke: "#1a7f37", width: 2 },
                         { label: "downloaded GiB", stroke: "#d9822b", width: 2 }],
       [s.uploaded, s.downloaded]);
  draw("chart-points", [{ label: "points", stroke: "#8e44ad", width: 2 }], [s.points]);

  window.addEventListener("resize", function () {
    charts.forEach(function (pair) {
      if (pair[0]) { pair[0].setSize({ width: pair[1].clientWidth, height: 240 }); }
    });
  });
}());
