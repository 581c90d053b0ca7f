// The dataset page's lineage graph (cytoscape, from the project's npm packages): parents above,
// children below; a click on a dataset opens its page at the same depth. The graph object is
// window.lineageGraph, so that tests (and curious people, in the console) can read it.
(function () {
  "use strict";
  var box = document.getElementById("lineage-graph");
  var source = document.getElementById("lineage-data");
  if (!box || !source || typeof cytoscape !== "function") {
    return;
  }
  var graph = JSON.parse(source.textContent);
  box.textContent = "";  // the note for when the library is missing
  var depth = new URLSearchParams(window.location.search).get("depth") || String(graph.depth);
  var cy = cytoscape({
    container: box,
    elements: { nodes: graph.nodes, edges: graph.edges },
    layout: { name: "preset" },
    style: [
      { selector: "node", style: {
        "label": "data(label)", "font-size": 10, "text-valign": "bottom", "text-margin-y": 4,
        "background-color": "#6b7c93", "width": 22, "height": 22 } },
      { selector: "node[grade = 'important']", style: { "background-color": "#c98a00" } },
      { selector: "node[grade = 'core']", style: { "background-color": "#b42318" } },
      { selector: "node[distance = 0]", style: { "border-width": 4, "border-color": "#1f6feb", "width": 30, "height": 30 } },
      { selector: "edge", style: {
        "width": 2, "line-color": "#9aa5b1", "target-arrow-color": "#9aa5b1",
        "target-arrow-shape": "triangle", "curve-style": "bezier" } }
    ],
    minZoom: 0.3,
    maxZoom: 1.5,
    wheelSensitivity: 0.3
  });
  // Ancestors on top, the dataset asked about in between, descendants below.
  cy.layout({ name: "breadthfirst", directed: true, roots: cy.nodes().roots(), spacingFactor: 1.1, padding: 20 }).run();
  cy.on("tap", "node", function (event) {
    var root = event.target.id();
    if (root !== graph.root) {
      window.location.assign("/datasets/" + root + "?depth=" + encodeURIComponent(depth));
    }
  });
  window.lineageGraph = cy;
})();
