// Buttons with data-copy="<element id>" copy that element's text to the clipboard. A file of its
// own, not an inline <script>: the content security policy runs only the site's own script files.
document.querySelectorAll("[data-copy]").forEach(function (button) {
  button.addEventListener("click", function () {
    var text = document.getElementById(button.dataset.copy).textContent;
    navigator.clipboard.writeText(text).then(function () { button.textContent = "Copied"; });
  });
});
