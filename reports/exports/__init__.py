"""The trend report in the formats the clinical record takes: PDF (`pdf`), CSV (`table`) and a FHIR
R4 Bundle (`fhir`). Each takes a `reports.report.TrendReport` and returns bytes or a model; none
touches the database."""
