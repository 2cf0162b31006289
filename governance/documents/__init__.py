"""Documentation generation: the sandboxed template engine (``sandbox``), the context a
version's documents are rendered from (``context``), rendering to Markdown, HTML and PDF
(``render``) and the shipped templates (``shipped``). Services in
``governance.services.documents`` tie them together."""
