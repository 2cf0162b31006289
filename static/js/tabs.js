// Tabs of a page: <div data-tabs> holding a <nav> of links to its <div data-tab-panel> sections.
// Without this script the links are a table of contents and every section shows; with it one
// section shows at a time. The tab follows the address's #fragment (a tab, or anything inside
// one, e.g. #documents), else the section holding a form error, else data-initial.
// A file of its own: the content security policy runs no inline script.
(function () {
  "use strict";

  function setUp(root) {
    var nav = root.querySelector(".tabs__list");
    var tabs = Array.prototype.slice.call(nav.querySelectorAll("[data-tab]"));
    var panels = Array.prototype.slice.call(root.querySelectorAll("[data-tab-panel]"));
    nav.setAttribute("role", "tablist");
    tabs.forEach(function (tab) {
      tab.setAttribute("role", "tab");
      tab.setAttribute("aria-controls", "tab-" + tab.dataset.tab);
    });
    panels.forEach(function (panel) {
      panel.setAttribute("role", "tabpanel");
      panel.setAttribute("tabindex", "-1");
    });
    root.classList.add("tabs--enhanced");

    function show(name, focus) {
      tabs.forEach(function (tab) {
        var selected = tab.dataset.tab === name;
        tab.setAttribute("aria-selected", selected ? "true" : "false");
        tab.setAttribute("tabindex", selected ? "0" : "-1");
        if (selected && focus) { tab.focus(); }
      });
      panels.forEach(function (panel) {
        panel.hidden = panel.dataset.tabPanel !== name;
      });
    }

    function panelFor(element) {
      var panel = element && element.closest ? element.closest("[data-tab-panel]") : null;
      return panel && root.contains(panel) ? panel.dataset.tabPanel : null;
    }

    function hashId() {
      try {
        return decodeURIComponent(window.location.hash.slice(1));
      } catch (error) {  // a malformed %-escape in a hand-typed address
        return "";
      }
    }

    function fromHash() {
      var id = hashId();
      if (!id) { return null; }
      var target = document.getElementById(id);
      if (!target) { return null; }
      return target.dataset && target.dataset.tabPanel ? target.dataset.tabPanel : panelFor(target);
    }

    var error = root.querySelector("[data-tab-panel] [role='alert']");
    show(fromHash() || panelFor(error) || root.dataset.initial || tabs[0].dataset.tab, false);
    var again = hashId() ? document.getElementById(hashId()) : null;
    if (again && !again.dataset.tabPanel) { again.scrollIntoView(); }

    tabs.forEach(function (tab, index) {
      tab.addEventListener("click", function (event) {
        event.preventDefault();
        show(tab.dataset.tab, false);
        history.replaceState(null, "", "#tab-" + tab.dataset.tab);
      });
      tab.addEventListener("keydown", function (event) {
        var step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
        if (!step) { return; }
        event.preventDefault();
        var next = tabs[(index + step + tabs.length) % tabs.length];
        show(next.dataset.tab, true);
        history.replaceState(null, "", "#tab-" + next.dataset.tab);
      });
    });

    // A link elsewhere on the page to something inside a hidden tab (e.g. "#metrics-title").
    window.addEventListener("hashchange", function () {
      var name = fromHash();
      if (name) {
        show(name, false);
        var target = document.getElementById(hashId());
        if (target) { target.scrollIntoView(); }
      }
    });
  }

  document.querySelectorAll("[data-tabs]").forEach(setUp);
})();
