"""ReportLab builders: one base (styles, page template, page X of Y) and one module per report."""
