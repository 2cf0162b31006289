// The lineage picture (templates/registry/_lineage.html): opens centred on the page's own node
// (the <g data-lineage-focus="true"> registry/lineage_svg.py marks), at a size that fits the
// column when it can still be read, and with zoom in / zoom out / fit / centre buttons.
// A file of its own, not an inline <script>: the content security policy runs only the site's
// own script files. Sizes are set through the CSSOM (element.style.x = ...), which the policy
// allows, never through style="" attributes, which it refuses.
(function () {
  "use strict";

  var STEP = 1.25;
  var MIN_SCALE = 0.2;
  var MAX_SCALE = 3;
  // Below this the text of the nodes is too small to read: the picture opens no smaller and
  // scrolls instead (the user may still zoom out further).
  var READABLE = 0.7;
  var PX_PER_PT = 4 / 3;

  function clamp(value) {
    return Math.min(MAX_SCALE, Math.max(MIN_SCALE, value));
  }

  function setUp(panel) {
    var figure = panel.querySelector("[data-lineage-figure]");
    var svg = figure && figure.querySelector("svg");
    var controls = panel.querySelector("[data-lineage-controls]");
    if (!svg || !controls || !svg.viewBox || !svg.viewBox.baseVal) {
      return;
    }
    var box = svg.viewBox.baseVal;
    var naturalWidth = box.width * PX_PER_PT;
    var naturalHeight = box.height * PX_PER_PT;
    var focus = svg.querySelector('[data-lineage-focus="true"]');
    var label = panel.querySelector("[data-lineage-scale]");
    var scale = 1;

    function innerWidth() {
      var style = window.getComputedStyle(figure);
      var padding = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
      return Math.max(1, figure.clientWidth - padding);
    }

    function fitScale() {
      return clamp(innerWidth() / naturalWidth);
    }

    function resize(next) {
      scale = clamp(next);
      var width = Math.round(naturalWidth * scale) + "px";
      // The page's bounds (a nonce'd <style>) give way to the chosen size.
      svg.style.maxWidth = width;
      svg.style.minWidth = width;
      svg.style.width = width;
      svg.style.height = Math.round(naturalHeight * scale) + "px";
      svg.setAttribute("data-scale", scale.toFixed(3));
      if (label) {
        label.textContent = Math.round(scale * 100) + " %";
      }
    }

    // Scroll the figure so that a point of the page (client coordinates) is at its centre.
    function centreOnPoint(x, y) {
      var frame = figure.getBoundingClientRect();
      figure.scrollLeft += x - (frame.left + frame.width / 2);
      figure.scrollTop += y - (frame.top + frame.height / 2);
    }

    function centreOnFocus() {
      if (!focus) {
        return;
      }
      var node = focus.getBoundingClientRect();
      centreOnPoint(node.left + node.width / 2, node.top + node.height / 2);
    }

    // Zoom keeping what is at the centre of the view at the centre.
    function zoomTo(next) {
      var frame = figure.getBoundingClientRect();
      var picture = svg.getBoundingClientRect();
      var fx = (frame.left + frame.width / 2 - picture.left) / Math.max(1, picture.width);
      var fy = (frame.top + frame.height / 2 - picture.top) / Math.max(1, picture.height);
      resize(next);
      picture = svg.getBoundingClientRect();
      centreOnPoint(picture.left + fx * picture.width, picture.top + fy * picture.height);
    }

    controls.addEventListener("click", function (event) {
      var button = event.target.closest("[data-lineage-zoom]");
      if (!button) {
        return;
      }
      var action = button.getAttribute("data-lineage-zoom");
      if (action === "in") {
        zoomTo(scale * STEP);
      } else if (action === "out") {
        zoomTo(scale / STEP);
      } else if (action === "fit") {
        resize(fitScale());
        centreOnFocus();
      } else if (action === "focus") {
        centreOnFocus();
      }
    });

    function open() {
      resize(Math.min(1, Math.max(fitScale(), READABLE)));
      centreOnFocus();
    }

    // A picture in a tab hidden at load has no size, and a hidden tab loses its scroll
    // position: each time the picture is shown again it opens on the page's node anew.
    var shown = figure.clientWidth > 0;
    if (shown) {
      open();
    }
    if (window.ResizeObserver) {
      new ResizeObserver(function () {
        var visible = figure.clientWidth > 0;
        if (visible && !shown) {
          open();
        }
        shown = visible;
      }).observe(figure);
    }
    controls.hidden = false;
    panel.setAttribute("data-lineage-ready", "true");
  }

  function start() {
    document.querySelectorAll('[data-testid="lineage"]').forEach(setUp);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
