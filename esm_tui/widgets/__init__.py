"""The dashboard's widgets: they receive values and post messages; none of them does DNS."""
