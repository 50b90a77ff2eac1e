# SPDX-License-Identifier: GPL-2.0
# Sphinx configuration of bhlock's documentation: `make docs` builds it to HTML, warnings as
# errors, and `make check` does the same (lint.docs).
project = "bhlock"
root_doc = "index"
# Included by the pages that show them (scripts/doc-tables.sh writes them), not pages of
# their own.
exclude_patterns = ["generated"]
highlight_language = "none"
html_theme = "alabaster"
